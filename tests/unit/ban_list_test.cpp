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

namespace wftpd {
namespace {

SocketAddress address(const std::string& host) {
  auto parsed = SocketAddress::parse(host.find(':') != std::string::npos ? "[" + host + "]:21" : host + ":21");
  EXPECT_TRUE(parsed.ok()) << host;
  return *parsed;
}

TEST(BanList, AManualBanOfAPrefixRefusesEveryAddressInItUntilUnbanned) {
  BanList bans = make(0, seconds(60), seconds(100));
  const auto t = Clock::now();
  ASSERT_TRUE(bans.ban("198.51.100.0/24", std::nullopt, t).ok());
  const auto hit = bans.check(address("198.51.100.77"), "", t + seconds(100000));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->origin, BanList::Origin::kManual);
  EXPECT_EQ(hit->prefix, "198.51.100.0/24");
  EXPECT_FALSE(hit->remaining.has_value());
  EXPECT_FALSE(bans.check(address("198.51.101.1"), "", t).has_value());
  EXPECT_EQ(bans.unban("198.51.100.0/24", t), 1u);
  EXPECT_FALSE(bans.check(address("198.51.100.77"), "", t).has_value());
  EXPECT_EQ(bans.unban("198.51.100.0/24", t), 0u);
}

TEST(BanList, AManualBanForATimeEnds) {
  BanList bans = make(0, seconds(60), seconds(100));
  const auto t = Clock::now();
  ASSERT_TRUE(bans.ban("2001:db8::/32", seconds(30), t).ok());
  EXPECT_TRUE(bans.check(address("2001:db8:5::1"), "", t + seconds(29)).has_value());
  EXPECT_FALSE(bans.check(address("2001:db8:5::1"), "", t + seconds(30)).has_value());
  EXPECT_TRUE(bans.entries(t + seconds(31)).empty());
}

TEST(BanList, ManualBansRefuseBadPrefixesAndAreBounded) {
  BanList bans = make(0, seconds(60), seconds(100));
  const auto t = Clock::now();
  EXPECT_FALSE(bans.ban("192.0.2.1/24", std::nullopt, t).ok());  // host bits set
  EXPECT_FALSE(bans.ban("example.com", std::nullopt, t).ok());
  for (std::size_t i = 0; i < BanList::kMaxManualBans; ++i) {
    const std::string prefix = "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) +
                               "." + std::to_string(i % 256);
    ASSERT_TRUE(bans.ban(prefix, std::nullopt, t).ok()) << i;
  }
  EXPECT_FALSE(bans.ban("192.0.2.1", std::nullopt, t).ok());
  // Banning a prefix again replaces its ban instead of adding one.
  EXPECT_TRUE(bans.ban("10.0.0.0", seconds(5), t).ok());
}

TEST(BanList, AnAutomaticBanIsListedByItsAddressAndCanBeLifted) {
  BanList bans = make(1, seconds(60), seconds(100));
  const auto t = Clock::now();
  EXPECT_TRUE(bans.record_failure("key", t, "192.0.2.9"));
  const auto entries = bans.entries(t);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].prefix, "192.0.2.9");
  EXPECT_EQ(entries[0].origin, BanList::Origin::kAutomatic);
  const auto hit = bans.check(address("192.0.2.9"), "key", t);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->origin, BanList::Origin::kAutomatic);
  EXPECT_EQ(bans.unban("192.0.2.9", t), 1u);
  EXPECT_FALSE(bans.check(address("192.0.2.9"), "key", t).has_value());
}

}  // namespace
}  // namespace wftpd
