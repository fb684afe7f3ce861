// The bandwidth keys (download_rate, upload_rate, user_*_rate in classes and [user] sections;
// max_*_rate for the server) and the byte-size parser they share.
#include <gtest/gtest.h>

#include "common/config.hpp"

namespace wftpd {
namespace {

TEST(ByteSize, SuffixesArePowersOf1024) {
  EXPECT_EQ(*parse_byte_size("0", 0, kMaxByteRate), 0u);
  EXPECT_EQ(*parse_byte_size("100000", 0, kMaxByteRate), 100000u);
  EXPECT_EQ(*parse_byte_size("256K", 0, kMaxByteRate), 256u << 10);
  EXPECT_EQ(*parse_byte_size("256k", 0, kMaxByteRate), 256u << 10);
  EXPECT_EQ(*parse_byte_size("10M", 0, kMaxByteRate), 10u << 20);
  EXPECT_EQ(*parse_byte_size("1G", 0, kMaxByteRate), 1u << 30);
  EXPECT_EQ(*parse_byte_size("1024G", 0, kMaxByteRate), kMaxByteRate);
}

TEST(ByteSize, MalformedOrTooLargeIsAnError) {
  for (const char* bad : {"", "K", "-1", "1.5M", "10MB", "2T", " 1", "1K ", "0x10", "1025G",
                          "99999999999999999999", "1099511627777"}) {
    EXPECT_FALSE(parse_byte_size(bad, 0, kMaxByteRate).ok()) << bad;
  }
}

TEST(ByteSize, FormatIsTheShortestExactForm) {
  EXPECT_EQ(format_byte_size(0), "0");
  EXPECT_EQ(format_byte_size(100000), "100000");
  EXPECT_EQ(format_byte_size(256u << 10), "256K");
  EXPECT_EQ(format_byte_size(3u << 20), "3M");
  EXPECT_EQ(format_byte_size(2ull << 30), "2G");
  for (const std::uint64_t value : std::initializer_list<std::uint64_t>{0, 1, 1023, 1024, 1536ull << 10, kMaxByteRate}) {
    EXPECT_EQ(*parse_byte_size(format_byte_size(value), 0, kMaxByteRate), value);
  }
}

TEST(ConfigRates, DefaultsAreUnlimited) {
  auto config = parse_config("", "f.conf");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->policy.download_rate, 0u);
  EXPECT_EQ(config->policy.upload_rate, 0u);
  EXPECT_EQ(config->policy.user_download_rate, 0u);
  EXPECT_EQ(config->policy.user_upload_rate, 0u);
  EXPECT_EQ(config->max_download_rate, 0u);
  EXPECT_EQ(config->max_upload_rate, 0u);
}

TEST(ConfigRates, ClassesAndUsersSetThemAndTheServerCapsStayAtTheTop) {
  auto config = parse_config(
      "download_rate=1M\nmax_download_rate=100M\nmax_upload_rate=50M\n"
      "[class slow]\ndownload_rate=256K\nupload_rate=128K\nuser_download_rate=512K\n"
      "[user bob]\nclass=slow\nuser_upload_rate=64K\n",
      "f.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->policy.download_rate, 1u << 20);
  EXPECT_EQ(config->max_download_rate, 100u << 20);
  EXPECT_EQ(config->max_upload_rate, 50u << 20);
  auto alice = effective_policy(*config, "alice", "", false);
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->download_rate, 1u << 20);
  EXPECT_EQ(alice->user_download_rate, 0u);
  auto bob = effective_policy(*config, "bob", "", false);
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->download_rate, 256u << 10);
  EXPECT_EQ(bob->upload_rate, 128u << 10);
  EXPECT_EQ(bob->user_download_rate, 512u << 10);
  EXPECT_EQ(bob->user_upload_rate, 64u << 10);
  // A server-wide cap is not a class key.
  auto in_class = parse_config("[class c]\nmax_download_rate=1M\n", "f.conf");
  ASSERT_FALSE(in_class.ok());
  EXPECT_NE(in_class.error().message.find("cannot be set in a class"), std::string::npos);
  auto bad = parse_config("[class c]\ndownload_rate=fast\n", "f.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("f.conf:2: bad value for 'download_rate'"), std::string::npos)
      << bad.error().message;
}

TEST(ConfigRates, SerializedFormKeepsTheRates) {
  auto config = parse_config("max_upload_rate=3M\n[class c]\nuser_upload_rate=100000\n", "f.conf");
  ASSERT_TRUE(config.ok());
  auto again = parse_config(serialize_config(*config), "again");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->max_upload_rate, 3u << 20);
  ASSERT_EQ(again->classes.size(), 1u);
  EXPECT_EQ(again->classes[0].policy.user_upload_rate, 100000u);
}

}  // namespace
}  // namespace wftpd
