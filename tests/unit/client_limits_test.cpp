#include "priv/client_limits.hpp"

#include "common/config.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace wftpd {
namespace {

using Clock = ClientLimits::Clock;
using Decision = ClientLimits::Decision;

SocketAddress address(const char* text) {
  SocketAddress out;
  if (std::strchr(text, ':') != nullptr) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(out.raw());
    in6->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, text, &in6->sin6_addr);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(out.raw());
    in4->sin_family = AF_INET;
    ::inet_pton(AF_INET, text, &in4->sin_addr);
  }
  return out;
}

TEST(ClientLimits, SessionsPerAddressAreCapped) {
  ClientLimits limits(2, 0);
  const auto now = Clock::now();
  const std::string a = client_key(address("192.0.2.1"));
  const std::string b = client_key(address("192.0.2.2"));
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(limits.admit(a, now), Decision::kAllow);
    limits.session_started(a);
  }
  EXPECT_EQ(limits.admit(a, now), Decision::kTooManySessions);
  EXPECT_EQ(limits.admit(b, now), Decision::kAllow);
  limits.session_ended(a);
  EXPECT_EQ(limits.admit(a, now), Decision::kAllow);
}

TEST(ClientLimits, ConnectionRateIsATokenBucket) {
  ClientLimits limits(0, 5);  // 5 per second, bursts of 10
  const auto start = Clock::now();
  const std::string key = client_key(address("198.51.100.7"));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(limits.admit(key, start), Decision::kAllow) << i;
  EXPECT_EQ(limits.admit(key, start), Decision::kTooFast);
  // One second later, five more tokens.
  const auto later = start + std::chrono::seconds(1);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(limits.admit(key, later), Decision::kAllow) << i;
  EXPECT_EQ(limits.admit(key, later), Decision::kTooFast);
  // Another address is not affected.
  EXPECT_EQ(limits.admit(client_key(address("198.51.100.8")), later), Decision::kAllow);
}

TEST(ClientLimits, Ipv6AddressesCountPerSlash64) {
  EXPECT_EQ(client_key(address("2001:db8:1:2::1")), client_key(address("2001:db8:1:2:ffff::9")));
  EXPECT_NE(client_key(address("2001:db8:1:2::1")), client_key(address("2001:db8:1:3::1")));
  EXPECT_EQ(client_key(address("::ffff:192.0.2.1")), client_key(address("192.0.2.1")));
}

TEST(ClientLimits, TrackedAddressesStayBounded) {
  ClientLimits limits(0, 1);
  const auto now = Clock::now();
  for (std::uint32_t i = 0; i < 120000; ++i) {
    const std::string key(reinterpret_cast<const char*>(&i), sizeof(i));
    limits.admit(key, now);
  }
  EXPECT_LE(limits.tracked_addresses(), 100000u);
}

TEST(ClientLimits, DefaultsLetOneClientOpenAllItsSessionsAtOnceButNotTakeTheServer) {
  auto config = parse_config("", "empty.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  // SECURITY: by default one address holds at most a tenth of max_clients.
  ASSERT_GT(config->max_per_ip, 0u);
  ASSERT_GT(config->connect_rate_per_ip, 0u);
  EXPECT_LE(config->max_per_ip * 10, config->max_clients);
  // rclone sync opens --checkers 8 + --transfers 4 + 1 sessions at once.
  EXPECT_GE(config->max_per_ip, 13u);
  ClientLimits limits(config->max_per_ip, config->connect_rate_per_ip);
  const auto now = Clock::now();
  const std::string key = client_key(address("203.0.113.5"));
  // The burst covers max_per_ip sessions opened at the same moment.
  for (std::uint32_t i = 0; i < config->max_per_ip; ++i) {
    ASSERT_EQ(limits.admit(key, now), Decision::kAllow) << i;
    limits.session_started(key);
  }
  EXPECT_EQ(limits.admit(key, now), Decision::kTooManySessions);
  // Those sessions ending at once does not let the address start as many again at once.
  for (std::uint32_t i = 0; i < config->max_per_ip; ++i) limits.session_ended(key);
  EXPECT_EQ(limits.admit(key, now), Decision::kTooFast);
  EXPECT_EQ(limits.admit(key, now + std::chrono::seconds(1)), Decision::kAllow);
  EXPECT_EQ(limits.admit(client_key(address("203.0.113.6")), now), Decision::kAllow);
}

TEST(ClientLimits, ZeroMeansNoLimit) {
  ClientLimits limits(0, 0);
  const auto now = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limits.admit("k", now), Decision::kAllow);
    limits.session_started("k");
  }
}

}  // namespace
}  // namespace wftpd
