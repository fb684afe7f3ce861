#include "priv/login_access.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

Config with(const std::string& text) {
  auto config = parse_config(text, "test.conf");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return config.ok() ? *config : Config{};
}

std::vector<gid_t> groups(std::initializer_list<gid_t> ids) { return ids; }

TEST(LoginAccess, EmptyListsRefuseNobody) {
  const Config config;
  EXPECT_FALSE(refuse_by_name(config, "alice"));
  EXPECT_FALSE(refuse_by_groups(config, groups({1000})));
}

TEST(LoginAccess, UserDenyRefusesItsNames) {
  const Config config = with("user_deny=bob, carol\n");
  EXPECT_EQ(refuse_by_name(config, "carol"), "in user_deny");
  EXPECT_FALSE(refuse_by_name(config, "alice"));
}

TEST(LoginAccess, UserAllowAdmitsOnlyItsNames) {
  const Config config = with("user_allow=alice\n");
  EXPECT_FALSE(refuse_by_name(config, "alice"));
  EXPECT_EQ(refuse_by_name(config, "bob"), "not in user_allow");
  EXPECT_EQ(refuse_by_name(config, "Alice"), "not in user_allow");  // exact names only
}

TEST(LoginAccess, DenyWinsOverAllow) {
  const Config config = with("user_allow=alice\nuser_deny=alice\ngroup_allow=100\ngroup_deny=100\n");
  EXPECT_EQ(refuse_by_name(config, "alice"), "in user_deny");
  EXPECT_EQ(refuse_by_groups(config, groups({100})), "group 100 is in group_deny");
}

TEST(LoginAccess, AnyGroupOfTheAccountCounts) {
  const Config config = with("group_allow=27\ngroup_deny=50\n");
  EXPECT_FALSE(refuse_by_groups(config, groups({1000, 27})));
  EXPECT_EQ(refuse_by_groups(config, groups({1000})), "in no group of group_allow");
  EXPECT_EQ(refuse_by_groups(config, groups({27, 50})), "group 50 is in group_deny");
}

TEST(LoginAccess, UnresolvedGroupNamesFailClosed) {
  const Config config = with("group_deny=staff\n");
  ASSERT_EQ(config.group_deny.names.size(), 1u);
  EXPECT_TRUE(refuse_by_groups(config, groups({1000})));
}

TEST(LoginAccess, ListsAreValidated) {
  EXPECT_FALSE(parse_config("user_allow=al ice\n", "t").ok());
  EXPECT_FALSE(parse_config("user_deny=a,,b\n", "t").ok());
  EXPECT_FALSE(parse_config("group_deny=-1\n", "t").ok());
  EXPECT_FALSE(parse_config("group_allow=4294967295\n", "t").ok());
  EXPECT_FALSE(parse_config("pam_service=../etc/shadow\n", "t").ok());
  EXPECT_FALSE(parse_config("pam_helper=relative/path\n", "t").ok());
}

TEST(LoginAccess, ResolvedGroupListsSerializeAsGids) {
  Config config = with("group_allow=root,27\n");
  ASSERT_TRUE(resolve_users(config).ok());
  EXPECT_TRUE(config.group_allow.names.empty());
  const std::string text = serialize_config(config);
  EXPECT_NE(text.find("\ngroup_allow=27,0\n"), std::string::npos) << text;
  auto again = parse_config(text, "canonical");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->group_allow.ids, (std::vector<gid_t>{27, 0}));
}

}  // namespace
}  // namespace wftpd
