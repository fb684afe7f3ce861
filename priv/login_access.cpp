#include "priv/login_access.hpp"

#include <algorithm>

namespace wftpd {
namespace {

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool contains(const std::vector<gid_t>& ids, gid_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::optional<std::string> refuse_by_name(const Config& config, std::string_view name) {
  // SECURITY: deny is checked first and wins; an allow list, once set, admits only its names.
  if (contains(config.user_deny, name)) return std::string("in user_deny");
  if (!config.user_allow.empty() && !contains(config.user_allow, name)) {
    return std::string("not in user_allow");
  }
  return std::nullopt;
}

std::optional<std::string> refuse_by_groups(const Config& config, std::span<const gid_t> groups) {
  // SECURITY: fail closed if a group name was never resolved to a gid.
  if (!config.group_deny.names.empty() || !config.group_allow.names.empty()) {
    return std::string("group lists hold unresolved names");
  }
  for (const gid_t gid : groups) {
    if (contains(config.group_deny.ids, gid)) return "group " + std::to_string(gid) + " is in group_deny";
  }
  if (config.group_allow.ids.empty()) return std::nullopt;
  for (const gid_t gid : groups) {
    if (contains(config.group_allow.ids, gid)) return std::nullopt;
  }
  return std::string("in no group of group_allow");
}

}  // namespace wftpd
