// Who may log in at all (user_allow, user_deny, group_allow, group_deny), whatever the backend
// that checked the password. Decided in the monitor for every login; deny wins over allow.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/config.hpp"

namespace wftpd {

// Checks the user lists only (needs nothing but the name, so it runs before any backend is
// asked): the reason for a refusal (for the server log), or nothing when the name may go on.
std::optional<std::string> refuse_by_name(const Config& config, std::string_view name);

// Checks the group lists against every group of the account (primary gid first): the reason for
// a refusal, or nothing. `config` must have been through resolve_users() (gids only).
std::optional<std::string> refuse_by_groups(const Config& config, std::span<const gid_t> groups);

}  // namespace wftpd
