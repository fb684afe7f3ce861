#include "priv/client_access.hpp"

namespace wftpd {

Result<ClientAccess> ClientAccess::from_config(const Config& config) {
  auto allow = parse_prefix_list(config.allow_clients);
  if (!allow) return make_error("allow_clients: " + allow.error().message);
  auto deny = parse_prefix_list(config.deny_clients);
  if (!deny) return make_error("deny_clients: " + deny.error().message);
  ClientAccess access;
  access.allow_ = std::move(*allow);
  access.deny_ = std::move(*deny);
  return access;
}

ClientAccess::Decision ClientAccess::decide(const SocketAddress& client) const {
  // SECURITY: deny wins, so a narrower deny inside a wider allow does what it says.
  if (any_contains(deny_, client)) return Decision::kDenied;
  if (!allow_.empty() && !any_contains(allow_, client)) return Decision::kNotAllowed;
  return Decision::kAllowed;
}

std::string_view ClientAccess::reason(Decision decision) {
  switch (decision) {
    case Decision::kAllowed: return "allowed";
    case Decision::kDenied: return "in deny_clients";
    case Decision::kNotAllowed: return "not in allow_clients";
  }
  return "unknown";
}

}  // namespace wftpd
