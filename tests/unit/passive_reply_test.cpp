#include "unpriv/passive_reply.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

TEST(PassiveReply, PasvReplyEncodesAddressAndPort) {
  EXPECT_EQ(format_pasv_reply({192, 168, 1, 20}, 50021), "227 Entering Passive Mode (192,168,1,20,195,101).\r\n");
  EXPECT_EQ(format_pasv_reply({0, 0, 0, 0}, 0), "227 Entering Passive Mode (0,0,0,0,0,0).\r\n");
  EXPECT_EQ(format_pasv_reply({255, 255, 255, 255}, 65535),
            "227 Entering Passive Mode (255,255,255,255,255,255).\r\n");
}

TEST(PassiveReply, EpsvReply) {
  EXPECT_EQ(format_epsv_reply(50021), "229 Entering Extended Passive Mode (|||50021|)\r\n");
  EXPECT_EQ(format_epsv_reply(1), "229 Entering Extended Passive Mode (|||1|)\r\n");
}

TEST(PassiveReply, EpsvArgumentValues) {
  EXPECT_EQ(*parse_epsv_argument(""), EpsvRequest::kAny);
  EXPECT_EQ(*parse_epsv_argument("1"), EpsvRequest::kIpv4);
  EXPECT_EQ(*parse_epsv_argument("2"), EpsvRequest::kIpv6);
  EXPECT_EQ(*parse_epsv_argument("ALL"), EpsvRequest::kAll);
  EXPECT_EQ(*parse_epsv_argument("all"), EpsvRequest::kAll);
  EXPECT_EQ(*parse_epsv_argument("aLl"), EpsvRequest::kAll);
}

TEST(PassiveReply, UnknownProtocolNumberIs522) {
  for (std::string_view arg : {"3", "0", "01", "99999999999999999999999999"}) {
    auto result = parse_epsv_argument(arg);
    ASSERT_FALSE(result.ok()) << arg;
    EXPECT_EQ(result.error(), PortArgumentError::kUnsupportedProtocol) << arg;
  }
}

TEST(PassiveReply, MalformedArgumentIs501) {
  for (std::string_view arg : {"ALLX", "AL", " 1", "1 ", "-1", "x", "|1|", "\xff"}) {
    auto result = parse_epsv_argument(arg);
    ASSERT_FALSE(result.ok()) << arg;
    EXPECT_EQ(result.error(), PortArgumentError::kMalformed) << arg;
  }
}

}  // namespace
}  // namespace wftpd
