#include "unpriv/active_argument.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

TEST(PortArgument, ParsesAddressAndPort) {
  auto target = parse_port_argument("192,0,2,7,4,1");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->family, AddressFamily::kIpv4);
  EXPECT_EQ(target->address[0], 192);
  EXPECT_EQ(target->address[3], 7);
  EXPECT_EQ(target->port, 4 * 256 + 1);
}

TEST(PortArgument, MalformedArgumentsAreRejected) {
  for (const char* bad : {"", "1,2,3,4,5", "1,2,3,4,5,6,7", "256,0,0,1,1,1", "1,2,3,4,5,256",
                          "a,2,3,4,5,6", "1,,3,4,5,6", "1,2,3,4,5,6,", " 1,2,3,4,5,6",
                          "+1,2,3,4,5,6", "-1,2,3,4,5,6", "1,2,3,4,5,6 ", "999999,2,3,4,5,6"}) {
    auto result = parse_port_argument(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error(), PortArgumentError::kMalformed) << bad;
  }
}

TEST(EprtArgument, ParsesIpv4AndIpv6WithAnyDelimiter) {
  auto v4 = parse_eprt_argument("|1|132.235.1.2|6275|");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family, AddressFamily::kIpv4);
  EXPECT_EQ(v4->address[0], 132);
  EXPECT_EQ(v4->port, 6275);
  auto v6 = parse_eprt_argument("!2!1080::8:800:200C:417A!5282!");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, AddressFamily::kIpv6);
  EXPECT_EQ(v6->address[0], 0x10);
  EXPECT_EQ(v6->address[15], 0x7a);
  EXPECT_EQ(v6->port, 5282);
}

TEST(EprtArgument, UnknownProtocolIs522AndGarbageIs501) {
  auto unknown = parse_eprt_argument("|3|1.2.3.4|2000|");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), PortArgumentError::kUnsupportedProtocol);
  for (const char* bad : {"", "|1|1.2.3.4|2000", "|1|1.2.3.4|0|", "|1|1.2.3.4|65536|",
                          "|1|::1|2000|", "|2|1.2.3.4|2000|", "|1|1.2.3.4|20|00|",
                          " 1 1.2.3.4 2000 ", "|x|1.2.3.4|2000|", "|1|host.example|2000|"}) {
    auto result = parse_eprt_argument(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error(), PortArgumentError::kMalformed) << bad;
  }
}

}  // namespace
}  // namespace wftpd
