#include "common/rate_share.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

constexpr auto kDown = TransferDirection::kOutgoing;
constexpr auto kUp = TransferDirection::kIncoming;

TEST(RateShare, ZeroEverywhereIsNoLimit) {
  EXPECT_EQ(transfer_rate_share(0, 0, 1, 0, 1), 0u);
}

TEST(RateShare, TheSmallestLimitWins) {
  EXPECT_EQ(transfer_rate_share(100, 0, 1, 0, 1), 100u);
  EXPECT_EQ(transfer_rate_share(0, 300, 3, 0, 5), 100u);
  EXPECT_EQ(transfer_rate_share(500, 1000, 4, 0, 4), 250u);
  EXPECT_EQ(transfer_rate_share(500, 1000, 1, 600, 3), 200u);
  EXPECT_EQ(transfer_rate_share(50, 1000, 1, 600, 3), 50u);
  // A tiny rate among many transfers still limits (1 byte/s), never turns into "none".
  EXPECT_EQ(transfer_rate_share(0, 3, 10, 0, 10), 1u);
}

TEST(RateShare, AUsersRateIsSplitAmongItsTransfersInOneDirection) {
  const std::vector<RateDemand> demands = {
      {"alice", kDown, 0, 1'000'000},
      {"alice", kDown, 0, 1'000'000},
      {"alice", kUp, 0, 600'000},
      {"bob", kDown, 300'000, 1'000'000},
  };
  const auto shares = compute_rate_shares(demands, 0, 0);
  ASSERT_EQ(shares.size(), 4u);
  EXPECT_EQ(shares[0], 500'000u);  // two of alice's downloads
  EXPECT_EQ(shares[1], 500'000u);
  EXPECT_EQ(shares[2], 600'000u);  // her one upload has her upload rate to itself
  EXPECT_EQ(shares[3], 300'000u);  // bob's own session rate is lower than his user rate
}

TEST(RateShare, TheGlobalCapIsSplitAmongAllTransfersInOneDirection) {
  std::vector<RateDemand> demands;
  for (int i = 0; i < 4; ++i) demands.push_back({"u" + std::to_string(i), kDown, 0, 0});
  demands.push_back({"u9", kUp, 0, 0});
  const auto shares = compute_rate_shares(demands, 1'000'000, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(shares[i], 250'000u);
  EXPECT_EQ(shares[4], 0u);  // no upload cap
  // With N sessions the shares never add up to more than the cap.
  for (std::size_t n = 1; n <= 50; ++n) {
    std::vector<RateDemand> many(n, RateDemand{"x", kUp, 0, 0});
    std::uint64_t sum = 0;
    for (const auto share : compute_rate_shares(many, 0, 999'999)) sum += share;
    EXPECT_LE(sum, 999'999u) << n;
    EXPECT_GE(sum, 999'999u - n) << n;
  }
}

TEST(RateShare, UserAndGlobalTogether) {
  const std::vector<RateDemand> demands = {
      {"alice", kDown, 0, 400'000},
      {"alice", kDown, 0, 400'000},
      {"bob", kDown, 0, 0},
  };
  const auto shares = compute_rate_shares(demands, 900'000, 0);
  EXPECT_EQ(shares[0], 200'000u);  // alice: 400k / 2 is below 900k / 3
  EXPECT_EQ(shares[1], 200'000u);
  EXPECT_EQ(shares[2], 300'000u);  // not work-conserving: bob keeps his third
}

}  // namespace
}  // namespace wftpd
