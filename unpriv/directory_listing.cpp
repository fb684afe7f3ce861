#include "unpriv/directory_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <cerrno>
#include <memory>
#include <vector>

#include "common/dir_stream.hpp"
#include "unpriv/ftp_path.hpp"
#include "unpriv/listing.hpp"
#include "unpriv/wildcard.hpp"

namespace wftpd {

ListRequest parse_list_argument(std::string_view argument) {
  ListRequest request;
  // Leading "-flags" words; a lone "-" or "--" ends the flags.
  while (argument.size() >= 2 && argument.front() == '-') {
    const auto end = argument.find(' ');
    const std::string_view flags = argument.substr(1, end == std::string_view::npos ? end : end - 1);
    if (flags == "-") {
      argument = end == std::string_view::npos ? std::string_view() : argument.substr(end + 1);
      break;
    }
    if (flags.find_first_not_of("aAlLRdFtrhS1") != std::string_view::npos) break;  // a file name
    if (flags.find_first_of("aA") != std::string_view::npos) request.show_hidden = true;
    if (end == std::string_view::npos) {
      argument = {};
      break;
    }
    argument.remove_prefix(end + 1);
    while (!argument.empty() && argument.front() == ' ') argument.remove_prefix(1);
  }
  request.path = std::string(argument);
  return request;
}

namespace {

// One `ls -l` line; a symlink's target is read for it.
void append_long_line(std::string& out, int dir_fd, const char* name, const struct stat& st,
                      std::time_t now) {
  if (!S_ISLNK(st.st_mode)) {
    append_list_line(out, name, st, now);
    return;
  }
  char buffer[4096];
  const ssize_t n = ::readlinkat(dir_fd, name, buffer, sizeof(buffer));
  std::string_view target;
  if (n > 0) target = std::string_view(buffer, static_cast<std::size_t>(n));
  if (!name_is_listable(target)) target = {};
  append_list_line(out, name, st, now, target);
}

// The listable entries of a directory ("." and ".." and names with CR/LF left out) that `keep`
// accepts, sorted, at most kMaxListingEntries, with the open stream for fstatat/readlinkat.
struct DirectoryEntries {
  DirStream dir;
  std::vector<std::string> names;
  std::size_t name_bytes = 0;
};

bool read_directory(const SessionFilesystem& fs, const std::string& path,
                    const std::function<bool(std::string_view)>& keep, DirectoryEntries& out,
                    FileError& error) {
  UniqueFd fd;
  if (!fs.open(path, O_RDONLY | O_DIRECTORY, 0, fd, error)) return false;
  DIR* raw = ::fdopendir(fd.get());
  if (raw == nullptr) {
    error = file_error_from_errno(errno);
    return false;
  }
  fd.release();  // now owned by the DIR stream
  out.dir.reset(raw);
  while (const dirent* entry = ::readdir(out.dir.get())) {
    const std::string_view name = entry->d_name;
    // SECURITY: hide_names is applied here, where every listing reads its directory.
    if (name == "." || name == ".." || !name_is_listable(name) || fs.name_rules().hidden(name) ||
        !keep(name)) {
      continue;
    }
    if (out.names.size() >= kMaxListingEntries) break;
    out.names.emplace_back(name);
    out.name_bytes += name.size();
  }
  std::sort(out.names.begin(), out.names.end());
  return true;
}

// Makes room for the whole listing at once (names plus `per_line` bytes each), so a large
// directory is not copied again each time the string grows; capped near kMaxListingBytes.
void reserve_listing(const DirectoryEntries& entries, std::string& out, std::size_t per_line) {
  const std::size_t wanted = out.size() + entries.name_bytes + entries.names.size() * per_line;
  out.reserve(std::min(wanted, kMaxListingBytes + 4096));
}

// Appends emit(out, dir_fd, name, stat) for each entry until the listing passes
// kMaxListingBytes. Entries that vanished before their fstatat are left out.
template <class Emit>
void append_entries(const DirectoryEntries& entries, std::string& out, std::size_t per_line,
                    const Emit& emit) {
  reserve_listing(entries, out, per_line);
  const int dir_fd = ::dirfd(entries.dir.get());
  for (const auto& name : entries.names) {
    struct stat entry_stat{};
    if (::fstatat(dir_fd, name.c_str(), &entry_stat, AT_SYMLINK_NOFOLLOW) != 0) continue;
    emit(out, dir_fd, name, entry_stat);
    if (out.size() > kMaxListingBytes) break;
  }
}

// NLST: names only, so no fstatat per entry (on a large directory the stats were most of the
// work). `prefix` is the directory part a wildcard argument carried.
void append_names(const DirectoryEntries& entries, std::string& out, std::string_view prefix) {
  reserve_listing(entries, out, prefix.size() + 2);
  for (const auto& name : entries.names) {
    out.append(prefix);
    append_nlst_line(out, name);
    if (out.size() > kMaxListingBytes) break;
  }
}

// Bytes of an `ls -l` line besides the name (plus a little for symlink targets).
constexpr std::size_t kLongLineBytes = 64;

// The append_entries() step for LIST.
struct LongLines {
  std::time_t now;
  void operator()(std::string& out, int dir_fd, const std::string& name,
                  const struct stat& st) const {
    append_long_line(out, dir_fd, name.c_str(), st, now);
  }
};

// The entries of `directory` whose names match `pattern`; no match is ENOENT.
bool list_matching(const SessionFilesystem& fs, const std::string& directory,
                   std::string_view pattern, bool names_only, std::time_t now, std::string& out,
                   FileError& error, std::string_view name_prefix) {
  DirectoryEntries entries;
  const auto matches = [pattern](std::string_view name) { return wildcard_match(pattern, name); };
  if (!read_directory(fs, directory, matches, entries, error)) return false;
  if (entries.names.empty()) {
    error = file_error_from_errno(ENOENT);
    return false;
  }
  if (names_only) {
    append_names(entries, out, name_prefix);
    return true;
  }
  append_entries(entries, out, kLongLineBytes, LongLines{now});
  return true;
}

}  // namespace

bool build_listing(const SessionFilesystem& fs, const std::string& path, bool show_hidden,
                   bool names_only, std::time_t now, std::string& out, FileError& error,
                   std::string_view name_prefix) {
  struct stat st{};
  if (!fs.stat(path, st, error)) {
    const std::string_view pattern = base_name(path);
    if (path == "/" || !has_wildcard(pattern)) return false;
    return list_matching(fs, parent_path(path), pattern, names_only, now, out, error, name_prefix);
  }
  if (!S_ISDIR(st.st_mode)) {
    const std::string_view name = base_name(path);
    if (!name_is_listable(name)) {
      error = file_error_from_errno(ENOENT);
      return false;
    }
    if (names_only) append_nlst_line(out, name);
    else append_list_line(out, name, st, now);
    return true;
  }
  DirectoryEntries entries;
  const auto visible = [show_hidden](std::string_view name) {
    return show_hidden || name.front() != '.';
  };
  if (!read_directory(fs, path, visible, entries, error)) return false;
  if (names_only) {
    append_names(entries, out, {});
    return true;
  }
  append_entries(entries, out, kLongLineBytes, LongLines{now});
  return true;
}

bool build_machine_listing(const SessionFilesystem& fs, const std::string& path,
                           const FactSet& facts, const FactViewer& viewer, std::string& out,
                           FileError& error) {
  struct stat dir_stat{};
  if (!fs.stat(path, dir_stat, error)) return false;
  if (!S_ISDIR(dir_stat.st_mode)) {
    error = file_error_from_errno(ENOTDIR);
    return false;
  }
  DirectoryEntries entries;
  if (!read_directory(fs, path, [](std::string_view) { return true; }, entries, error)) {
    return false;
  }
  const bool writable = (viewer_access(dir_stat, viewer) & 2u) != 0;
  // "type=file;size=...;modify=...;perm=...;unique=...;UNIX.mode=...; " is under 128 bytes.
  append_entries(entries, out, 128,
                 [&](std::string& text, int, const std::string& name, const struct stat& entry) {
                   append_facts(text, name, entry, facts, viewer, writable);
                   text += "\r\n";
                 });
  return true;
}

}  // namespace wftpd
