// How bandwidth limits combine: a transfer's rate is the smallest of its session's own limit,
// its user's limit divided among that user's running transfers in the same direction, and the
// server's cap divided among all running transfers in that direction. Pure: the listener
// computes every share (compute_rate_shares) when a transfer starts or ends; the post-auth child
// uses the same rule, with itself the only transfer, as the bound it never exceeds.
// Shares are recomputed only when the set of running transfers changes: a transfer that moves
// less than its share (a slow client) does not give the rest to the others.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/monitor_protocol.hpp"

namespace wftpd {

// bytes/s; 0 is "no limit" everywhere.
std::uint64_t transfer_rate_share(std::uint64_t session_rate, std::uint64_t user_rate,
                                  std::size_t user_transfers, std::uint64_t global_rate,
                                  std::size_t all_transfers);

// One running transfer that a shared limit (the user's or the server's) may apply to.
struct RateDemand {
  std::string user;
  TransferDirection direction = TransferDirection::kOutgoing;
  std::uint64_t session_rate = 0;
  std::uint64_t user_rate = 0;
};

// Each demand's share, in the same order (0: no limit).
std::vector<std::uint64_t> compute_rate_shares(std::span<const RateDemand> demands,
                                               std::uint64_t max_download_rate,
                                               std::uint64_t max_upload_rate);

}  // namespace wftpd
