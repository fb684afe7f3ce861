#include "common/rate_share.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace wftpd {

std::uint64_t transfer_rate_share(std::uint64_t session_rate, std::uint64_t user_rate,
                                  std::size_t user_transfers, std::uint64_t global_rate,
                                  std::size_t all_transfers) {
  std::uint64_t share = session_rate;
  const auto narrow = [&share](std::uint64_t limit, std::size_t among) {
    if (limit == 0) return;
    // At least 1 byte/s: a share never turns into "no limit".
    const std::uint64_t part = std::max<std::uint64_t>(1, limit / std::max<std::size_t>(1, among));
    share = share == 0 ? part : std::min(share, part);
  };
  narrow(user_rate, user_transfers);
  narrow(global_rate, all_transfers);
  return share;
}

std::vector<std::uint64_t> compute_rate_shares(std::span<const RateDemand> demands,
                                               std::uint64_t max_download_rate,
                                               std::uint64_t max_upload_rate) {
  std::map<std::pair<std::string, TransferDirection>, std::size_t> per_user;
  std::map<TransferDirection, std::size_t> per_direction;
  for (const auto& demand : demands) {
    ++per_user[{demand.user, demand.direction}];
    ++per_direction[demand.direction];
  }
  std::vector<std::uint64_t> shares;
  shares.reserve(demands.size());
  for (const auto& demand : demands) {
    const std::uint64_t global =
        demand.direction == TransferDirection::kOutgoing ? max_download_rate : max_upload_rate;
    shares.push_back(transfer_rate_share(demand.session_rate, demand.user_rate,
                                         per_user[{demand.user, demand.direction}], global,
                                         per_direction[demand.direction]));
  }
  return shares;
}

}  // namespace wftpd
