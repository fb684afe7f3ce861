#include "common/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/address_prefix.hpp"
#include "common/config.hpp"
#include "common/socket_address.hpp"

namespace wftpd {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

ProxyParseResult parse(const std::string& text) { return parse_proxy_header(bytes_of(text)); }

const std::string kSignature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(std::uint8_t version_command, std::uint8_t family, const std::string& body) {
  std::string out = kSignature;
  out += static_cast<char>(version_command);
  out += static_cast<char>(family);
  out += static_cast<char>(body.size() >> 8);
  out += static_cast<char>(body.size() & 0xff);
  return out + body;
}

std::string v2_tcp4_body() {
  // 192.0.2.7:51000 -> 198.51.100.1:21
  return std::string("\xc0\x00\x02\x07\xc6\x33\x64\x01\xc7\x38\x00\x15", 12);
}

TEST(ProxyHeaderV1, Tcp4HeaderGivesBothEndpointsAndItsLength) {
  const std::string header = "PROXY TCP4 192.0.2.7 198.51.100.1 51000 21\r\n";
  const auto result = parse(header + "USER demo\r\n");
  ASSERT_EQ(result.status, ProxyParseStatus::kParsed) << result.error;
  EXPECT_EQ(result.header.version, 1);
  EXPECT_EQ(result.header.length, header.size());
  EXPECT_TRUE(result.header.has_addresses);
  const auto source = SocketAddress::from_bytes(true, result.header.source.address, result.header.source.port);
  const auto destination = SocketAddress::from_bytes(true, result.header.destination.address,
                                                     result.header.destination.port);
  EXPECT_EQ(source.to_string(), "192.0.2.7:51000");
  EXPECT_EQ(destination.to_string(), "198.51.100.1:21");
}

TEST(ProxyHeaderV1, Tcp6HeaderIsParsed) {
  const auto result = parse("PROXY TCP6 2001:db8::7 2001:db8::1 51000 21\r\n");
  ASSERT_EQ(result.status, ProxyParseStatus::kParsed) << result.error;
  EXPECT_FALSE(result.header.source.ipv4);
  EXPECT_EQ(SocketAddress::from_bytes(false, result.header.source.address, 1).host_string(), "2001:db8::7");
}

TEST(ProxyHeaderV1, UnknownKeepsTheConnectionsAddresses) {
  for (const std::string header : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    const auto result = parse(header);
    ASSERT_EQ(result.status, ProxyParseStatus::kParsed) << header;
    EXPECT_FALSE(result.header.has_addresses);
    EXPECT_EQ(result.header.length, header.size());
  }
}

TEST(ProxyHeaderV1, EveryPrefixOfAValidHeaderNeedsMore) {
  const std::string header = "PROXY TCP4 192.0.2.7 198.51.100.1 51000 21\r\n";
  for (std::size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(parse(header.substr(0, n)).status, ProxyParseStatus::kNeedMore) << n;
  }
}

TEST(ProxyHeaderV1, MalformedHeadersAreRefused) {
  const char* bad[] = {
      "PROXY TCP4 192.0.2.7 198.51.100.1 51000 21\n",       // LF without CR
      "PROXY TCP4 192.0.2.7 198.51.100.1 51000 21\rX",      // CR without LF
      "PROXY TCP4  192.0.2.7 198.51.100.1 51000 21\r\n",    // double space
      "PROXY TCP4 192.0.2.7 198.51.100.1 51000 21 \r\n",    // trailing space
      "PROXY TCP4 192.0.2.7 198.51.100.1 51000\r\n",        // missing port
      "PROXY TCP4 192.0.2.7 198.51.100.1 51000 21 9\r\n",   // extra field
      "PROXY TCP4 192.0.2.07 198.51.100.1 51000 21\r\n",    // leading zero
      "PROXY TCP4 192.0.2.256 198.51.100.1 51000 21\r\n",   // octet out of range
      "PROXY TCP4 192.0.2 198.51.100.1 51000 21\r\n",       // three parts
      "PROXY TCP4 192.0.2.7 198.51.100.1 051000 21\r\n",    // port with leading zero
      "PROXY TCP4 192.0.2.7 198.51.100.1 65536 21\r\n",     // port out of range
      "PROXY TCP4 2001:db8::1 198.51.100.1 1 21\r\n",       // IPv6 under TCP4
      "PROXY TCP6 192.0.2.7 198.51.100.1 1 21\r\n",         // IPv4 under TCP6
      "PROXY UDP4 192.0.2.7 198.51.100.1 1 21\r\n",         // not TCP
      "PROXY tcp4 192.0.2.7 198.51.100.1 1 21\r\n",         // case matters
      "PROXY UNKNOWNX\r\n",
      "PROXY \r\n",
      "PROXZ TCP4",
      "USER demo\r\n",                                      // a plain FTP client
      "PROXY TCP4 192.0.2.7\x01 198.51.100.1 1 21\r\n",     // control byte
  };
  for (const char* text : bad) {
    EXPECT_EQ(parse(text).status, ProxyParseStatus::kInvalid) << text;
  }
}

TEST(ProxyHeaderV1, LongerThan107BytesIsRefusedWithoutWaitingForMore) {
  const std::string prefix = "PROXY UNKNOWN ";
  const std::string at_limit = prefix + std::string(107 - prefix.size() - 2, 'a') + "\r\n";
  EXPECT_EQ(parse(at_limit).status, ProxyParseStatus::kParsed);
  const std::string over = prefix + std::string(107 - prefix.size() - 1, 'a') + "\r\n";
  EXPECT_EQ(parse(over).status, ProxyParseStatus::kInvalid);
  // No CR in the first 106 bytes: refused at once, not kept waiting.
  EXPECT_EQ(parse(prefix + std::string(200, 'a')).status, ProxyParseStatus::kInvalid);
}

TEST(ProxyHeaderV2, ProxyTcp4GivesEndpointsAndTheClientsBytesStayOut) {
  const std::string header = v2(0x21, 0x11, v2_tcp4_body());
  const auto result = parse(header + "\x16\x03\x01");  // a TLS ClientHello follows
  ASSERT_EQ(result.status, ProxyParseStatus::kParsed) << result.error;
  EXPECT_EQ(result.header.version, 2);
  EXPECT_EQ(result.header.length, 28u);
  EXPECT_TRUE(result.header.has_addresses);
  EXPECT_EQ(SocketAddress::from_bytes(true, result.header.source.address, result.header.source.port)
                .to_string(),
            "192.0.2.7:51000");
  EXPECT_EQ(result.header.destination.port, 21);
}

TEST(ProxyHeaderV2, ProxyTcp6IsParsed) {
  std::string body(36, '\0');
  body[0] = '\x20'; body[1] = '\x01'; body[2] = '\x0d'; body[3] = '\xb8'; body[15] = '\x07';
  body[32] = '\x01'; body[33] = '\x02';
  const auto result = parse(v2(0x21, 0x21, body));
  ASSERT_EQ(result.status, ProxyParseStatus::kParsed) << result.error;
  EXPECT_FALSE(result.header.source.ipv4);
  EXPECT_EQ(result.header.source.port, 0x0102);
  EXPECT_EQ(SocketAddress::from_bytes(false, result.header.source.address, 1).host_string(), "2001:db8::7");
}

TEST(ProxyHeaderV2, LocalCommandKeepsTheConnectionsAddresses) {
  const auto result = parse(v2(0x20, 0x00, ""));
  ASSERT_EQ(result.status, ProxyParseStatus::kParsed);
  EXPECT_FALSE(result.header.has_addresses);
  EXPECT_EQ(result.header.length, 16u);
  // LOCAL ignores whatever address block comes with it.
  EXPECT_EQ(parse(v2(0x20, 0x11, v2_tcp4_body())).status, ProxyParseStatus::kParsed);
}

TEST(ProxyHeaderV2, TlvsAreSkippedWhenTheyTileTheHeader) {
  const std::string tlvs("\x04\x00\x00\x01\x00\x02" "ab", 8);  // NOOP (empty), ALPN "ab"
  const auto result = parse(v2(0x21, 0x11, v2_tcp4_body() + tlvs));
  ASSERT_EQ(result.status, ProxyParseStatus::kParsed) << result.error;
  EXPECT_EQ(result.header.length, 16u + 12u + tlvs.size());
  EXPECT_EQ(parse(v2(0x21, 0x11, v2_tcp4_body() + std::string("\x04\x00\x05" "ab", 5))).status,
            ProxyParseStatus::kInvalid);
  EXPECT_EQ(parse(v2(0x21, 0x11, v2_tcp4_body() + std::string("\x04\x00", 2))).status,
            ProxyParseStatus::kInvalid);
}

TEST(ProxyHeaderV2, UnsupportedFamiliesCommandsAndVersionsAreRefused) {
  EXPECT_EQ(parse(v2(0x21, 0x12, v2_tcp4_body())).status, ProxyParseStatus::kInvalid);  // UDP4
  EXPECT_EQ(parse(v2(0x21, 0x22, std::string(36, '\0'))).status, ProxyParseStatus::kInvalid);
  EXPECT_EQ(parse(v2(0x21, 0x31, std::string(216, '\0'))).status, ProxyParseStatus::kInvalid);  // AF_UNIX
  EXPECT_EQ(parse(v2(0x22, 0x11, v2_tcp4_body())).status, ProxyParseStatus::kInvalid);  // command 2
  EXPECT_EQ(parse(v2(0x11, 0x11, v2_tcp4_body())).status, ProxyParseStatus::kInvalid);  // version 1
  EXPECT_EQ(parse(v2(0x21, 0x11, v2_tcp4_body().substr(0, 11))).status, ProxyParseStatus::kInvalid);
  EXPECT_EQ(parse(v2(0x21, 0x21, v2_tcp4_body())).status, ProxyParseStatus::kInvalid);  // short v6
}

TEST(ProxyHeaderV2, LengthAboveTheBoundIsRefusedBeforeItArrives) {
  std::string header = kSignature + std::string("\x21\x11\x03\xf1", 4);  // 16 + 1009 = 1025
  EXPECT_EQ(parse(header).status, ProxyParseStatus::kInvalid);
  header = kSignature + std::string("\x21\x11\x03\xf0", 4);  // exactly 1024: wait for it
  EXPECT_EQ(parse(header).status, ProxyParseStatus::kNeedMore);
}

TEST(ProxyHeaderV2, EveryPrefixOfAValidHeaderNeedsMore) {
  const std::string header = v2(0x21, 0x11, v2_tcp4_body());
  for (std::size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(parse(header.substr(0, n)).status, ProxyParseStatus::kNeedMore) << n;
  }
  std::string wrong = kSignature;
  wrong[5] = 'x';
  EXPECT_EQ(parse(wrong.substr(0, 6)).status, ProxyParseStatus::kInvalid);
}

TEST(AddressPrefix, MatchesAddressesInsideThePrefixOnly) {
  auto net = AddressPrefix::parse("192.0.2.0/24");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->contains(*SocketAddress::parse("192.0.2.200:1")));
  EXPECT_FALSE(net->contains(*SocketAddress::parse("192.0.3.1:1")));
  EXPECT_FALSE(net->contains(*SocketAddress::parse("[2001:db8::1]:1")));
  // IPv4-mapped peers (dual-stack sockets) compare as IPv4.
  EXPECT_TRUE(net->contains(*SocketAddress::parse("[::ffff:192.0.2.9]:1")));
  auto v6 = AddressPrefix::parse("2001:db8::/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->contains(*SocketAddress::parse("[2001:db8:ffff::1]:1")));
  EXPECT_FALSE(v6->contains(*SocketAddress::parse("[2001:db9::1]:1")));
  auto one = AddressPrefix::parse("127.0.0.1");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->contains(*SocketAddress::parse("127.0.0.1:5")));
  EXPECT_FALSE(one->contains(*SocketAddress::parse("127.0.0.2:5")));
}

TEST(AddressPrefix, StrictSyntax) {
  for (const char* bad : {"", "192.0.2.1/24", "192.0.2.0/33", "192.0.2.0/", "192.0.2.0/-1",
                          "2001:db8::/129", "example.com", "::ffff:192.0.2.1", "10.0.0.0/8x"}) {
    EXPECT_FALSE(AddressPrefix::parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(parse_prefix_list(std::vector<std::string>{}).ok());
  EXPECT_EQ(parse_prefix_list(std::vector<std::string>{"10.0.0.0/8", "127.0.0.1", "::1"}).value().size(), 3u);
  // The list syntax (blanks, a trailing ',') is the config parser's.
  EXPECT_EQ(parse_config("trusted_proxies=10.0.0.0/8, 127.0.0.1,::1\n", "t").value().trusted_proxies.size(), 3u);
  EXPECT_FALSE(parse_config("trusted_proxies=10.0.0.0/8,\n", "t").ok());
}

TEST(SocketAddressParse, AcceptsOnlyCanonicalText) {
  EXPECT_EQ(SocketAddress::parse("192.0.2.1:21").value().to_string(), "192.0.2.1:21");
  EXPECT_EQ(SocketAddress::parse("[2001:db8::1]:0").value().to_string(), "[2001:db8::1]:0");
  for (const char* bad : {"192.0.2.1", "192.0.2.1:", "192.0.2.1:021", "192.0.2.1:65536",
                          "2001:db8::1:21", "[192.0.2.1]:21", "[2001:DB8::1]:21", " 192.0.2.1:21",
                          "192.0.2.1:+21"}) {
    EXPECT_FALSE(SocketAddress::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace wftpd
