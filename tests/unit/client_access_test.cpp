#include "priv/client_access.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

SocketAddress at(const char* text) { return *SocketAddress::parse(text); }

ClientAccess access_of(const char* text) {
  auto config = parse_config(text, "t.conf");
  EXPECT_TRUE(config.ok()) << (config ? "" : config.error().message);
  auto access = ClientAccess::from_config(*config);
  EXPECT_TRUE(access.ok());
  return *access;
}

TEST(ClientAccess, EmptyListsAllowEveryone) {
  const ClientAccess access = access_of("");
  EXPECT_EQ(access.decide(at("192.0.2.1:5000")), ClientAccess::Decision::kAllowed);
  EXPECT_EQ(access.decide(at("[2001:db8::1]:5000")), ClientAccess::Decision::kAllowed);
}

TEST(ClientAccess, DenyListRefusesItsPrefixesOnly) {
  const ClientAccess access = access_of("deny_clients=192.0.2.0/24, 2001:db8::/32\n");
  EXPECT_EQ(access.decide(at("192.0.2.77:1")), ClientAccess::Decision::kDenied);
  EXPECT_EQ(access.decide(at("[2001:db8:1::9]:1")), ClientAccess::Decision::kDenied);
  EXPECT_EQ(access.decide(at("192.0.3.1:1")), ClientAccess::Decision::kAllowed);
  EXPECT_EQ(access.decide(at("[2001:db9::1]:1")), ClientAccess::Decision::kAllowed);
}

TEST(ClientAccess, AllowListRefusesEveryoneElse) {
  const ClientAccess access = access_of("allow_clients=198.51.100.0/24\n");
  EXPECT_EQ(access.decide(at("198.51.100.5:1")), ClientAccess::Decision::kAllowed);
  EXPECT_EQ(access.decide(at("198.51.101.5:1")), ClientAccess::Decision::kNotAllowed);
  // An IPv4 allow list says nothing for IPv6 clients: they are outside it.
  EXPECT_EQ(access.decide(at("[2001:db8::1]:1")), ClientAccess::Decision::kNotAllowed);
}

TEST(ClientAccess, DenyWinsInsideAnAllowedPrefix) {
  const ClientAccess access =
      access_of("allow_clients=10.0.0.0/8\ndeny_clients=10.1.0.0/16\n");
  EXPECT_EQ(access.decide(at("10.2.3.4:1")), ClientAccess::Decision::kAllowed);
  EXPECT_EQ(access.decide(at("10.1.3.4:1")), ClientAccess::Decision::kDenied);
}

TEST(ClientAccess, Ipv4MappedPeersMatchIpv4Prefixes) {
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
  const ClientAccess access = access_of("deny_clients=203.0.113.0/24\n");
  EXPECT_EQ(access.decide(at("[::ffff:203.0.113.9]:1")), ClientAccess::Decision::kDenied);
}

TEST(ClientAccess, BadPrefixesAreConfigurationErrors) {
  EXPECT_FALSE(parse_config("deny_clients=192.0.2.1/24\n", "t.conf").ok());  // host bits set
  EXPECT_FALSE(parse_config("allow_clients=example.org\n", "t.conf").ok());
  EXPECT_FALSE(parse_config("allow_clients=10.0.0.0/33\n", "t.conf").ok());
}

TEST(ClientAccess, ReasonsNameTheKey) {
  EXPECT_EQ(ClientAccess::reason(ClientAccess::Decision::kDenied), "in deny_clients");
  EXPECT_EQ(ClientAccess::reason(ClientAccess::Decision::kNotAllowed), "not in allow_clients");
}

}  // namespace
}  // namespace wftpd
