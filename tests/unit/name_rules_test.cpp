#include "unpriv/name_rules.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

NameRules rules(std::vector<std::string> deny, std::vector<std::string> hide, bool plain = true,
                bool utf8 = false, std::uint32_t max_bytes = 255) {
  SessionPolicy policy;
  policy.deny_names = std::move(deny);
  policy.hide_names = std::move(hide);
  policy.upload_names_plain = plain;
  policy.utf8_names_only = utf8;
  policy.upload_name_max_bytes = max_bytes;
  return NameRules(policy);
}

TEST(NameRules, ADeniedOrHiddenComponentAnywhereInThePathRefusesIt) {
  const NameRules names = rules({"*.php", ".htaccess"}, {".git", "secret*"});
  EXPECT_EQ(names.access_refusal("/www/index.php"), "deny_names '*.php'");
  EXPECT_EQ(names.access_refusal("/www/.htaccess"), "deny_names '.htaccess'");
  EXPECT_EQ(names.access_refusal("/src/.git/config"), "hide_names '.git'");
  EXPECT_EQ(names.access_refusal("/secrets/a.txt"), "hide_names 'secret*'");
  EXPECT_FALSE(names.access_refusal("/www/index.html").has_value());
  EXPECT_FALSE(names.access_refusal("/").has_value());
  // A name starting with '.' is matched only by a pattern starting with '.'.
  EXPECT_FALSE(rules({"*"}, {}).access_refusal("/.profile").has_value());
  EXPECT_TRUE(rules({".*"}, {}).access_refusal("/.profile").has_value());
}

TEST(NameRules, OnlyHiddenNamesLeaveListings) {
  const NameRules names = rules({"*.php"}, {".git"});
  EXPECT_TRUE(names.hidden(".git"));
  EXPECT_FALSE(names.hidden("index.php"));  // denied, but still listed
  EXPECT_FALSE(names.hidden("readme"));
}

TEST(NameRules, NewNamesAreCheckedForControlBytesALeadingDashLengthAndUtf8) {
  const NameRules plain = rules({}, {}, true, true, 10);
  EXPECT_FALSE(plain.new_name_refusal("report.txt").has_value());
  EXPECT_EQ(plain.new_name_refusal("report.text"), "upload_name_max_bytes (10)");
  EXPECT_EQ(plain.new_name_refusal("a\x1b[2Jb"), "upload_names_plain (a control character)");
  EXPECT_EQ(plain.new_name_refusal(std::string("a\x7f", 2)), "upload_names_plain (a control character)");
  EXPECT_EQ(plain.new_name_refusal("-rf"), "upload_names_plain (a leading '-')");
  EXPECT_EQ(plain.new_name_refusal("caf\xc3"), "utf8_names_only");
  EXPECT_EQ(plain.new_name_refusal("\xc0\xaf"), "utf8_names_only");  // overlong '/'
  EXPECT_FALSE(plain.new_name_refusal("caf\xc3\xa9").has_value());
  const NameRules lax = rules({}, {}, false, false);
  EXPECT_FALSE(lax.new_name_refusal("-rf").has_value());
  EXPECT_FALSE(lax.new_name_refusal("a\tb").has_value());
  EXPECT_FALSE(lax.new_name_refusal("caf\xc3").has_value());
}

}  // namespace
}  // namespace wftpd
