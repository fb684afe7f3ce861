#include "priv/user_config_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "common/dir_stream.hpp"
#include "common/io.hpp"
#include "common/unique_fd.hpp"
#include "common/users_file.hpp"

namespace wftpd {
namespace {

Result<UserOverride> read_override_file(int directory, const std::string& dir_path,
                                        const std::string& name) {
  const std::string path = dir_path + "/" + name;
  UniqueFd fd(::openat(directory, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (!fd) return system_error("open(" + path + ")", errno);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return system_error("fstat(" + path + ")", errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022) != 0) {
    return make_error(path + " must be a regular file owned by root and not writable by group or others");
  }
  auto text = read_whole_fd(fd.get(), kMaxUserOverrideFileBytes);
  if (!text) return make_error(path + ": " + text.error().message);
  return parse_user_override(*text, path, name);
}

}  // namespace

Result<void> load_user_overrides(Config& config) {
  if (config.user_config_dir.empty()) return ok_result();
  const std::string& dir_path = config.user_config_dir;
  UniqueFd directory(::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!directory) return system_error("user_config_dir: open(" + dir_path + ")", errno);
  struct stat st{};
  if (::fstat(directory.get(), &st) != 0) return system_error("fstat(" + dir_path + ")", errno);
  if (st.st_uid != 0 || (st.st_mode & 0022) != 0) {
    return make_error("user_config_dir " + dir_path +
                      " must be a directory (not a symlink) owned by root and not writable by "
                      "group or others");
  }
  // The names first (sorted, so errors and the order of overrides do not depend on readdir).
  std::vector<std::string> names;
  {
    const int listing = ::dup(directory.get());
    if (listing < 0) return system_error("dup(" + dir_path + ")", errno);
    DirStream stream(::fdopendir(listing));
    if (!stream) {
      const int saved = errno;
      ::close(listing);
      return system_error("fdopendir(" + dir_path + ")", saved);
    }
    errno = 0;
    while (const dirent* entry = ::readdir(stream.get())) {
      const std::string name = entry->d_name;
      if (name.front() == '.') continue;
      if (!is_valid_user_name(name)) {
        return make_error("user_config_dir: " + dir_path + "/" + escape_for_log(name) +
                          ": the name is not a user name (files starting with '.' are ignored)");
      }
      if (names.size() >= kMaxUserOverrides) {
        return make_error("user_config_dir: more than " + std::to_string(kMaxUserOverrides) + " files");
      }
      names.push_back(name);
      errno = 0;
    }
    if (errno != 0) return system_error("readdir(" + dir_path + ")", errno);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const bool has_section = std::any_of(config.user_overrides.begin(), config.user_overrides.end(),
                                         [&](const UserOverride& o) { return o.user == name; });
    if (has_section) {
      return make_error("user_config_dir: " + dir_path + "/" + name + ": user '" + name +
                        "' also has a [user] section in the configuration file");
    }
    auto override = read_override_file(directory.get(), dir_path, name);
    if (!override) return override.error();
    if (!has_class(config, override->class_name)) {
      return make_error(override->source + ": class '" + override->class_name +
                        "' is not defined by any [class] section");
    }
    if (config.user_overrides.size() >= kMaxUserOverrides) {
      return make_error("user_config_dir: more than " + std::to_string(kMaxUserOverrides) + " overrides");
    }
    config.user_overrides.push_back(std::move(*override));
  }
  return ok_result();
}

}  // namespace wftpd
