// File access of the post-auth child. It runs chrooted to the user's root; on top of that every
// path is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the root directory,
// so neither "..", nor an absolute symlink, nor a /proc magic link leads out of it.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "unpriv/name_rules.hpp"

namespace wftpd {

// A failed file operation: the errno, and the FTP reply it maps to.
struct FileError {
  int error_number = 0;
  int reply_code = 550;
  std::string reply_text;
};

FileError file_error_from_errno(int error_number);

// 64 random bits for names of new files (temporary uploads, STOU); the clock if getrandom fails.
std::uint64_t name_randomness();

// What the name of every temporary upload file starts with; 16 hex digits follow.
inline constexpr std::string_view kTemporaryUploadPrefix = ".wftpd-upload-";

// A file written under a temporary name in the directory of the file it is to replace, so that
// an interrupted upload never destroys the file. SessionFilesystem::commit() renames it over
// that file; until then it is removed by discard() or when the object goes.
class TemporaryFile {
 public:
  TemporaryFile() = default;
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() { discard(); }

  int fd() const { return file_.get(); }
  const std::string& name() const { return name_; }
  // The device and inode of the directory it is in.
  std::pair<dev_t, ino_t> directory_id() const;
  // Removes the file (not after a successful commit); safe to call again.
  void discard();

 private:
  friend class SessionFilesystem;
  UniqueFd directory_;
  std::string target_;  // the entry in directory_ that commit() replaces
  std::string name_;    // empty when there is nothing to remove
  UniqueFd file_;
};

class SessionFilesystem {
 public:
  // Opens the (already chrooted) root; call once after the sandbox is in place. A read-only
  // file system refuses every open for writing (EROFS) and opens with plain openat(2), whose
  // flags the "anonymous" seccomp filter can check (openat2 passes them in memory).
  static Result<SessionFilesystem> open_root(bool read_only = false);
  // The same rooted at `directory` instead of "/" (the fuzz harness, which runs unchrooted on a
  // temporary tree). Without the chroot only the read-write mode (openat2 RESOLVE_IN_ROOT) is
  // confined against symlinks; the read-only mode's plain openat(2) relies on the chroot.
  static Result<SessionFilesystem> open_directory(const std::string& directory, bool read_only);

  // `path` is absolute within the session root (as resolve_path() makes it). Every mode this
  // class creates or sets a file with (open, create_new_file, make_directory, change_mode) is
  // permission bits only: a mode with a set-user-ID, set-group-ID or sticky bit is refused
  // (EPERM, 550) before any system call.
  bool open(const std::string& path, int flags, mode_t mode, UniqueFd& out, FileError& error) const;
  bool stat(const std::string& path, struct stat& out, FileError& error) const;
  // Whether the process may search (enter) the directory `path`.
  bool can_enter_directory(const std::string& path, FileError& error) const;

  // Opens the directory that contains `path` (confined like open()) and names the entry in it.
  // "/" has no parent: that is an error (EPERM).
  bool open_parent(const std::string& path, UniqueFd& parent, std::string& entry,
                   FileError& error) const;
  // A new file, write only; EEXIST if anything has that name (never overwrites). Allowed on a
  // read-only file system too: it is how the anonymous drop box takes uploads.
  bool create_new_file(const std::string& path, mode_t mode, UniqueFd& out, FileError& error) const;
  // A new, empty temporary file (write only, O_EXCL, O_NOFOLLOW) beside `path`, for commit()
  // to put in place of `path`.
  bool create_temporary(const std::string& path, TemporaryFile& out, FileError& error) const;
  // Makes `file` durable (fsync), closes it and renames it over the file it was made for. On
  // failure the temporary file is removed and `error` says why.
  bool commit(TemporaryFile& file, FileError& error) const;
  // The temporary upload files beside `file` that nothing has written to since `stale_before`
  // (seconds since the epoch), as a session killed during an upload leaves them: removed.
  // Reads at most `max_entries` directory entries; returns the names removed.
  std::vector<std::string> remove_stale_temporaries(const TemporaryFile& file, long double stale_before,
                                                    int max_entries) const;
  bool make_directory(const std::string& path, FileError& error) const;
  bool remove_directory(const std::string& path, FileError& error) const;
  bool remove_file(const std::string& path, FileError& error) const;
  bool rename(const std::string& from, const std::string& to, FileError& error) const;
  // SITE CHMOD and MFMT: they act on the entry itself and refuse a symlink (550 "Is a symbolic
  // link."): fchmodat(2) and utimensat(2) would follow it from the parent directory without
  // RESOLVE_IN_ROOT, out of the root unless a chroot stops them.
  bool change_mode(const std::string& path, mode_t mode, FileError& error) const;
  bool set_modification_time(const std::string& path, std::time_t when, FileError& error) const;

  // The session's name rules (hide_names, deny_names, ...): directory reading leaves hidden
  // entries out; PostauthSession checks paths against them before any of the calls above.
  void set_name_rules(NameRules rules) { names_ = std::move(rules); }
  const NameRules& name_rules() const { return names_; }

 private:
  SessionFilesystem(UniqueFd root, bool read_only) : root_(std::move(root)), read_only_(read_only) {}
  // Plain openat(2) below the root, for read-only sessions whose filters check open flags.
  bool open_with_openat(const std::string& path, int flags, mode_t mode, UniqueFd& out,
                        FileError& error) const;
  UniqueFd root_;
  bool read_only_ = false;
  NameRules names_;
};

}  // namespace wftpd
