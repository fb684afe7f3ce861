#include "unpriv/session_filesystem.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/dir_stream.hpp"
#include "unpriv/ftp_path.hpp"

namespace wftpd {

FileError file_error_from_errno(int error_number) {
  switch (error_number) {
    case ENOENT: return {error_number, 550, "No such file or directory."};
    case EACCES:
    case EPERM: return {error_number, 550, "Permission denied."};
    case ENOTDIR: return {error_number, 550, "Not a directory."};
    case EISDIR: return {error_number, 550, "Is a directory."};
    case ELOOP: return {error_number, 550, "Too many levels of symbolic links."};
    case EXDEV: return {error_number, 550, "Path leads outside the session root."};
    case ENAMETOOLONG: return {error_number, 553, "File name too long."};
    case EROFS: return {error_number, 550, "Read-only file system."};
    case EEXIST: return {error_number, 550, "File exists."};
    case ENOSPC: return {error_number, 452, "Insufficient storage space."};
    case EDQUOT: return {error_number, 552, "Disk quota exceeded."};
    case EFBIG: return {error_number, 552, "File too large."};
    default: return {error_number, 550, "Requested action not taken."};
  }
}

namespace {

// SECURITY: the one decision on a mode this process creates or sets a file with: permission
// bits only, never set-user-ID, set-group-ID or sticky. The kernel keeps those bits of an
// O_CREAT or chmod mode (the umask clears only 0777), and openat2 passes its mode in memory,
// where the seccomp filter cannot check it.
bool permission_bits_only(mode_t mode, FileError& error) {
  if ((mode & ~static_cast<mode_t>(0777)) == 0) return true;
  error = {EPERM, 550, "Set-user-ID, set-group-ID and sticky bits are not allowed."};
  return false;
}

}  // namespace

bool SessionFilesystem::open_with_openat(const std::string& path, int flags, mode_t mode,
                                         UniqueFd& out, FileError& error) const {
  if (!permission_bits_only(mode, error)) return false;
  // Relative to the root descriptor; the chroot confines "..", and absolute symlinks resolve
  // inside it.
  const std::string relative = path.size() > 1 ? path.substr(1) : std::string(".");
  for (;;) {
    const int fd = ::openat(root_.get(), relative.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) {
      out.reset(fd);
      return true;
    }
    if (errno == EINTR) continue;
    error = file_error_from_errno(errno);
    return false;
  }
}

Result<SessionFilesystem> SessionFilesystem::open_root(bool read_only) {
  return open_directory("/", read_only);
}

Result<SessionFilesystem> SessionFilesystem::open_directory(const std::string& directory,
                                                            bool read_only) {
  UniqueFd root(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return system_error("open(" + directory + ")", errno);
  return SessionFilesystem(std::move(root), read_only);
}

bool SessionFilesystem::open(const std::string& path, int flags, mode_t mode, UniqueFd& out,
                             FileError& error) const {
  if (read_only_) {
    // O_TMPFILE includes the O_DIRECTORY bit, so it is tested as a whole.
    if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0 ||
        (flags & O_TMPFILE) == O_TMPFILE) {
      error = file_error_from_errno(EROFS);
      return false;
    }
    return open_with_openat(path, flags, 0, out, error);
  }
  if (!permission_bits_only(mode, error)) return false;
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
  // SECURITY: resolution is confined to the session root even without the chroot.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, root_.get(), path.c_str(), &how, sizeof(how));
    if (fd >= 0) {
      out.reset(static_cast<int>(fd));
      return true;
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    error = file_error_from_errno(errno);
    return false;
  }
}

bool SessionFilesystem::stat(const std::string& path, struct stat& out, FileError& error) const {
  UniqueFd fd;
  if (!open(path, O_PATH, 0, fd, error)) return false;
  if (::fstat(fd.get(), &out) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

bool SessionFilesystem::can_enter_directory(const std::string& path, FileError& error) const {
  UniqueFd fd;
  if (!open(path, O_PATH | O_DIRECTORY, 0, fd, error)) return false;
  if (::faccessat(fd.get(), ".", X_OK, AT_EACCESS) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

bool SessionFilesystem::open_parent(const std::string& path, UniqueFd& parent, std::string& entry,
                                    FileError& error) const {
  if (path.empty() || path == "/") {
    error = file_error_from_errno(EPERM);
    return false;
  }
  entry = std::string(base_name(path));
  return open(parent_path(path), O_PATH | O_DIRECTORY, 0, parent, error);
}

bool SessionFilesystem::create_new_file(const std::string& path, mode_t mode, UniqueFd& out,
                                        FileError& error) const {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  if (!read_only_) return open(path, kFlags, mode, out, error);
  // Plain openat: the anonymous-upload filter checks exactly these flags.
  return open_with_openat(path, kFlags, mode, out, error);
}

std::uint64_t name_randomness() {
  std::uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(value))) {
    timespec clock{};
    ::clock_gettime(CLOCK_REALTIME, &clock);
    value = static_cast<std::uint64_t>(clock.tv_sec);
  }
  return value;
}

std::pair<dev_t, ino_t> TemporaryFile::directory_id() const {
  struct stat st{};
  if (::fstat(directory_.get(), &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

void TemporaryFile::discard() {
  file_.reset();
  if (name_.empty()) return;
  ::unlinkat(directory_.get(), name_.c_str(), 0);
  name_.clear();
}

bool SessionFilesystem::create_temporary(const std::string& path, TemporaryFile& out,
                                         FileError& error) const {
  out.discard();
  if (!open_parent(path, out.directory_, out.target_, error)) return false;
  char name[40];
  std::snprintf(name, sizeof(name), "%s%016llx", kTemporaryUploadPrefix.data(),
                static_cast<unsigned long long>(name_randomness()));
  // SECURITY: O_EXCL | O_NOFOLLOW: a new file of our own, never one (or a symlink) planted
  // under the name. The name is one component in a directory opened with RESOLVE_IN_ROOT.
  const int fd = ::openat(out.directory_.get(), name,
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  out.file_.reset(fd);
  out.name_ = name;
  return true;
}

bool SessionFilesystem::commit(TemporaryFile& file, FileError& error) const {
  int failed = 0;
  if (::fsync(file.file_.get()) != 0) failed = errno;
  if (failed == 0 && ::close(file.file_.release()) != 0) failed = errno;
  if (failed == 0 && ::renameat(file.directory_.get(), file.name_.c_str(), file.directory_.get(),
                                file.target_.c_str()) != 0) {
    failed = errno;
  }
  if (failed != 0) {
    file.discard();
    error = file_error_from_errno(failed);
    return false;
  }
  file.name_.clear();  // in place: nothing to discard
  return true;
}

std::vector<std::string> SessionFilesystem::remove_stale_temporaries(const TemporaryFile& file,
                                                                     long double stale_before,
                                                                     int max_entries) const {
  std::vector<std::string> removed;
  const int directory = file.directory_.get();
  const int fd = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return removed;
  DirStream dir(::fdopendir(fd));
  if (!dir) {
    ::close(fd);
    return removed;
  }
  int seen = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    if (++seen > max_entries) break;
    const std::string_view name = entry->d_name;
    if (!name.starts_with(kTemporaryUploadPrefix) || name == file.name_) continue;
    struct stat st{};
    if (::fstatat(directory, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    // Nanoseconds matter: whole seconds would make a file look up to a second younger.
    const long double modified = static_cast<long double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9L;
    if (modified < stale_before && ::unlinkat(directory, entry->d_name, 0) == 0) {
      removed.emplace_back(name);
    }
  }
  return removed;
}

bool SessionFilesystem::make_directory(const std::string& path, FileError& error) const {
  UniqueFd parent;
  std::string entry;
  if (!open_parent(path, parent, entry, error)) return false;
  // 0777 filtered by the session umask, as mkdir(1) does. (A directory made in a set-group-ID
  // directory inherits that bit from it, as any mkdir does; no file can.)
  if (::mkdirat(parent.get(), entry.c_str(), 0777) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

bool SessionFilesystem::remove_directory(const std::string& path, FileError& error) const {
  UniqueFd parent;
  std::string entry;
  if (!open_parent(path, parent, entry, error)) return false;
  if (::unlinkat(parent.get(), entry.c_str(), AT_REMOVEDIR) != 0) {
    const int err = errno == EEXIST ? ENOTEMPTY : errno;
    error = file_error_from_errno(err);
    if (err == ENOTEMPTY) error.reply_text = "Directory not empty.";
    return false;
  }
  return true;
}

bool SessionFilesystem::remove_file(const std::string& path, FileError& error) const {
  UniqueFd parent;
  std::string entry;
  if (!open_parent(path, parent, entry, error)) return false;
  if (::unlinkat(parent.get(), entry.c_str(), 0) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

namespace {

// True when `entry` in `parent` exists and is no symlink.
bool is_not_symlink(int parent, const std::string& entry, FileError& error) {
  struct stat st{};
  if (::fstatat(parent, entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  if (S_ISLNK(st.st_mode)) {
    error = {ELOOP, 550, "Is a symbolic link."};
    return false;
  }
  return true;
}

}  // namespace

bool SessionFilesystem::change_mode(const std::string& path, mode_t mode, FileError& error) const {
  if (!permission_bits_only(mode, error)) return false;
  UniqueFd parent;
  std::string entry;
  if (!open_parent(path, parent, entry, error) || !is_not_symlink(parent.get(), entry, error)) {
    return false;
  }
  // SECURITY: fchmodat(2) has no working "don't follow" flag here (glibc emulates
  // AT_SYMLINK_NOFOLLOW through /proc, which the chroot lacks), hence the check above. An entry
  // replaced by a symlink in between (by another process of the same user) is still confined
  // by the chroot.
  if (::fchmodat(parent.get(), entry.c_str(), mode, 0) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

bool SessionFilesystem::set_modification_time(const std::string& path, std::time_t when,
                                              FileError& error) const {
  UniqueFd parent;
  std::string entry;
  if (!open_parent(path, parent, entry, error) || !is_not_symlink(parent.get(), entry, error)) {
    return false;
  }
  const timespec times[2] = {{0, UTIME_OMIT}, {when, 0}};
  // SECURITY: AT_SYMLINK_NOFOLLOW: not even an entry replaced by a symlink since the check is
  // followed.
  if (::utimensat(parent.get(), entry.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

bool SessionFilesystem::rename(const std::string& from, const std::string& to,
                               FileError& error) const {
  UniqueFd from_parent, to_parent;
  std::string from_entry, to_entry;
  if (!open_parent(from, from_parent, from_entry, error) ||
      !open_parent(to, to_parent, to_entry, error)) {
    return false;
  }
  if (::renameat(from_parent.get(), from_entry.c_str(), to_parent.get(), to_entry.c_str()) != 0) {
    error = file_error_from_errno(errno);
    return false;
  }
  return true;
}

}  // namespace wftpd
