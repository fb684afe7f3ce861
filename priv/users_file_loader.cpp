#include "priv/users_file_loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "common/io.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxUsersFileBytes = 64u << 20;

}  // namespace

std::vector<VirtualUser> load_users_file(const Config& config) {
  UniqueFd fd(::open(config.users_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    log_error(system_error("open(" + config.users_file + ")", errno).message);
    return {};
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    log_error(system_error("fstat(" + config.users_file + ")", errno).message);
    return {};
  }
  // SECURITY: the file holds password hashes and decides uids: it must be root's and private.
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0027) != 0) {
    log_error(config.users_file + " must be a regular file owned by root, mode 0600 or 0640");
    return {};
  }
  auto text = read_whole_fd(fd.get(), kMaxUsersFileBytes);
  if (!text) {
    log_error(config.users_file + ": " + text.error().message);
    return {};
  }
  auto users = parse_users_file(*text, config.users_file);
  if (!users) {
    log_error(users.error().message);
    return {};
  }
  return std::move(*users);
}

}  // namespace wftpd
