#include "common/config.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

TEST(Config, DefaultsAreUsedForMissingKeys) {
  auto config = parse_config("# nothing\n\n", "f.conf");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->listen_port, 21);
  EXPECT_EQ(config->max_clients, 200u);
}

TEST(Config, ValuesAreParsed) {
  auto config = parse_config(
      "listen_address = 127.0.0.1, ::1\nlisten_port=2121\nmax_clients=5\nlocal_umask=027\n"
      "pasv_min_port=40000\npasv_max_port=40010\nnopriv_user=123:456\n",
      "f.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(config->listen_port, 2121);
  EXPECT_EQ(config->max_clients, 5u);
  EXPECT_EQ(config->local_umask, 027u);
  EXPECT_EQ(config->nopriv_uid, 123u);
  EXPECT_EQ(config->nopriv_gid, 456u);
}

TEST(Config, UnknownKeyNamesFileAndLine) {
  auto config = parse_config("listen_port=21\n\nlisten_prot=21\n", "/etc/w.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.rfind("/etc/w.conf:3: unknown key 'listen_prot'", 0), 0u)
      << config.error().message;
}

TEST(Config, BadValueNamesFileAndLine) {
  auto config = parse_config("max_clients=0\n", "w.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.rfind("w.conf:1: bad value for 'max_clients'", 0), 0u);
  EXPECT_FALSE(parse_config("listen_port=70000\n", "w").ok());
  EXPECT_FALSE(parse_config("listen_port=21x\n", "w").ok());
  EXPECT_FALSE(parse_config("listen_port=-1\n", "w").ok());
  EXPECT_FALSE(parse_config("listen_address=example.com\n", "w").ok());
  EXPECT_FALSE(parse_config("users_file=relative/path\n", "w").ok());
  EXPECT_FALSE(parse_config("users_file=/a/../b\n", "w").ok());
  EXPECT_FALSE(parse_config("local_umask=999\n", "w").ok());
  EXPECT_FALSE(parse_config("nopriv_user=0:0\n", "w").ok());
  EXPECT_FALSE(parse_config("log_level=verbose\n", "w").ok());
}

TEST(Config, DuplicateKeyIsAnError) {
  auto config = parse_config("listen_port=21\nlisten_port=22\n", "w.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("w.conf:2:"), std::string::npos);
}

TEST(Config, LineWithoutEqualsIsAnError) {
  EXPECT_FALSE(parse_config("listen_port\n", "w").ok());
}

TEST(Config, PassiveRangeMustBeConsistent) {
  EXPECT_FALSE(parse_config("pasv_min_port=40000\n", "w").ok());
  EXPECT_FALSE(parse_config("pasv_min_port=40010\npasv_max_port=40000\n", "w").ok());
  EXPECT_FALSE(parse_config("pasv_min_port=20\npasv_max_port=30\n", "w").ok());
}

TEST(Config, SerializedFormParsesBackToTheSameValue) {
  auto config = parse_config("listen_address=::1\nlisten_port=2121\nftpd_banner=Hi there\n"
                             "nopriv_user=7:8\nlocal_umask=077\n",
                             "w");
  ASSERT_TRUE(config.ok());
  const std::string text = serialize_config(*config);
  auto again = parse_config(text, "serialized");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(serialize_config(*again), text);
  EXPECT_EQ(again->ftpd_banner, "Hi there");
  EXPECT_EQ(again->local_umask, 077u);
}

TEST(Config, EveryKeyIsDocumented) {
  for (const auto& key : config_keys()) {
    EXPECT_FALSE(key.description.empty()) << key.name;
  }
}

TEST(Config, BannerWithControlCharacterIsRefused) {
  EXPECT_FALSE(parse_config(std::string("ftpd_banner=a\x01" "b\n"), "w").ok());
}

}  // namespace
}  // namespace wftpd
