// The bans in force, kept across restarts in a root-owned file (ban_state_file), rewritten
// whole and atomically (a temporary file, fsync, rename) when a ban starts or is lifted, paced
// by the listener (priv/write_pacer.hpp).
//
// One ban per line, wall-clock ends so that they survive a reboot:
//   <automatic|manual> <prefix> <until UNIX-SECONDS | forever>
// Lines starting with '#' are comments. SECURITY: read only from a regular file owned by root and
// writable by nobody else (ban_state_file must not let anyone lift a ban or ban the world).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "priv/ban_list.hpp"

namespace wftpd {

struct StoredBan {
  BanList::Origin origin = BanList::Origin::kManual;
  std::string prefix;
  std::optional<std::int64_t> until;  // UNIX seconds; none: forever
};

std::string format_ban_state(const std::vector<BanList::Entry>& entries,
                             std::chrono::system_clock::time_point now);

// Strict: a malformed line is an error naming it (the caller keeps none of the file then).
// Bans already over are skipped.
Result<std::vector<StoredBan>> parse_ban_state(std::string_view text, std::int64_t now_unix);

// The file's text; empty when there is none yet.
Result<std::string> read_ban_state(const std::string& path);
Result<void> write_ban_state(const std::string& path, std::string_view text);

}  // namespace wftpd
