#include "priv/ban_list.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

using Clock = BanList::Clock;
using std::chrono::seconds;

BanList make(std::uint32_t after, seconds window, seconds duration, std::size_t max = 65536) {
  BanList bans(max);
  bans.configure(BanList::Settings{after, window, duration});
  return bans;
}

TEST(BanList, TheNthFailureWithinTheWindowBansForTheDuration) {
  BanList bans = make(3, seconds(60), seconds(100));
  const auto t = Clock::now();
  EXPECT_FALSE(bans.record_failure("192.0.2.1", t));
  EXPECT_FALSE(bans.record_failure("192.0.2.1", t + seconds(10)));
  EXPECT_EQ(bans.remaining("192.0.2.1", t + seconds(10)), Clock::duration::zero());
  EXPECT_TRUE(bans.record_failure("192.0.2.1", t + seconds(20)));
  EXPECT_EQ(bans.remaining("192.0.2.1", t + seconds(20)), seconds(100));
  EXPECT_EQ(bans.remaining("192.0.2.1", t + seconds(119)), seconds(1));
  EXPECT_EQ(bans.remaining("192.0.2.1", t + seconds(120)), Clock::duration::zero());
  EXPECT_EQ(bans.remaining("192.0.2.2", t + seconds(20)), Clock::duration::zero());
  EXPECT_EQ(bans.bans_in_force(t + seconds(20)), 1u);
}

TEST(BanList, FailuresOutsideTheWindowDoNotCount) {
  BanList bans = make(3, seconds(60), seconds(100));
  const auto t = Clock::now();
  EXPECT_FALSE(bans.record_failure("k", t));
  EXPECT_FALSE(bans.record_failure("k", t + seconds(30)));
  // The first is 61 s old now: two in the window.
  EXPECT_FALSE(bans.record_failure("k", t + seconds(61)));
  EXPECT_TRUE(bans.record_failure("k", t + seconds(62)));
}

TEST(BanList, ZeroTurnsBansOff) {
  BanList bans = make(0, seconds(60), seconds(100));
  const auto t = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(bans.record_failure("k", t + seconds(i)));
  EXPECT_EQ(bans.tracked(), 0u);
}

TEST(BanList, AfterTheBanTheCountStartsAgain) {
  BanList bans = make(2, seconds(60), seconds(10));
  const auto t = Clock::now();
  EXPECT_FALSE(bans.record_failure("k", t));
  EXPECT_TRUE(bans.record_failure("k", t + seconds(1)));
  // Failures reported while banned (sessions that were already running) do not extend it.
  EXPECT_FALSE(bans.record_failure("k", t + seconds(2)));
  EXPECT_EQ(bans.remaining("k", t + seconds(2)), seconds(9));
  EXPECT_FALSE(bans.record_failure("k", t + seconds(20)));
  EXPECT_TRUE(bans.record_failure("k", t + seconds(21)));
}

TEST(BanList, MemoryIsBoundedWhateverClientsDo) {
  BanList bans = make(5, seconds(600), seconds(600), 100);
  const auto t = Clock::now();
  for (int i = 0; i < 10000; ++i) bans.record_failure("10.0." + std::to_string(i), t);
  EXPECT_LE(bans.tracked(), 100u);
  // Once the window has passed, the table empties and new keys are tracked again.
  EXPECT_FALSE(bans.record_failure("fresh", t + seconds(601)));
  EXPECT_LE(bans.tracked(), 1u);
}

TEST(BanList, ALowerThresholdAppliesAtOnce) {
  BanList bans = make(5, seconds(60), seconds(10));
  const auto t = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(bans.record_failure("k", t + seconds(i)));
  bans.configure(BanList::Settings{2, seconds(60), seconds(10)});
  EXPECT_TRUE(bans.record_failure("k", t + seconds(4)));
}

}  // namespace
}  // namespace wftpd
