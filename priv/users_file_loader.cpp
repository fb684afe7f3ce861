#include "priv/users_file_loader.hpp"

#include "common/log.hpp"

namespace wftpd {

std::vector<VirtualUser> load_users_file(const Config& config) {
  // read_users_file makes the checks --check-config makes (root's, private, regular, bounded).
  auto users = read_users_file(config.users_file);
  if (!users) {
    log_error(users.error().message);
    return {};
  }
  return std::move(*users);
}

}  // namespace wftpd
