// The strict /etc/passwd and /etc/group reader that replaces NSS in the static daemon.
#include "common/account_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/config.hpp"

namespace wftpd {
namespace {

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "# a comment\n"
    "\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "ftp:x:107:113:ftp daemon,,,:/srv/ftp:/usr/sbin/nologin\n"
    "ftp:x:999:999:second entry:/:/bin/false\n";
constexpr std::string_view kGroup = "root:x:0:\nftp:x:113:\nstaff:x:50:alice,bob\n";

TEST(AccountFiles, FindsTheFirstEntryOfAName) {
  auto ftp = find_passwd_entry(kPasswd, "ftp", "passwd");
  ASSERT_TRUE(ftp.ok()) << ftp.error().message;
  ASSERT_TRUE(ftp->has_value());
  EXPECT_EQ((*ftp)->uid, 107u);
  EXPECT_EQ((*ftp)->gid, 113u);
  auto staff = find_group_entry(kGroup, "staff", "group");
  ASSERT_TRUE(staff.ok() && staff->has_value());
  EXPECT_EQ(**staff, 50u);
}

TEST(AccountFiles, UnknownNameIsNotAnError) {
  auto none = find_passwd_entry(kPasswd, "alice", "passwd");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(AccountFiles, MalformedLineAnywhereIsAnErrorNamingFileAndLine) {
  const std::string broken = std::string(kPasswd) + "bad:x:12x:1:::\n";
  auto result = find_passwd_entry(broken, "ftp", "/etc/passwd");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "/etc/passwd:7: bad numeric id '12x'");
  EXPECT_FALSE(find_passwd_entry("a:x:1:1:\n", "a", "p").ok());      // 5 fields
  EXPECT_FALSE(find_group_entry("g:x:1\n", "g", "g").ok());          // 3 fields
  EXPECT_FALSE(find_group_entry("g:x:4294967295:\n", "g", "g").ok());  // (gid_t)-1
  EXPECT_FALSE(find_passwd_entry(":x:1:1:::\n", "", "p").ok());
}

TEST(AccountFiles, NisCompatEntriesAreRefused) {
  auto result = find_passwd_entry("+::::::\n", "ftp", "/etc/passwd");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("NIS compat"), std::string::npos);
}

TEST(AccountFiles, ResolveUsersReadsTheGivenFilesNotNss) {
  char pattern[] = "/tmp/wftpd-accounts-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  std::ofstream(dir + "/passwd") << kPasswd;
  std::ofstream(dir + "/group") << kGroup;
  AccountFiles files{dir + "/passwd", dir + "/group"};
  auto config = parse_config(
      "nopriv_user=nobody\nanonymous_enable=yes\nanon_user=ftp\ngroup_allow=staff,7\n", "t");
  ASSERT_TRUE(config.ok());
  auto resolved = resolve_users(*config, files);
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(config->nopriv_user, "65534:65534");
  EXPECT_EQ(config->anon_uid, 107u);
  EXPECT_EQ(config->anon_gid, 113u);
  EXPECT_EQ(config->group_allow.ids, (std::vector<gid_t>{7, 50}));
  auto unknown = parse_config("nopriv_user=alice\n", "t");
  ASSERT_TRUE(unknown.ok());
  auto refused = resolve_users(*unknown, files);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("does not exist in " + dir + "/passwd"), std::string::npos);
  auto root = parse_config("nopriv_user=root\n", "t");
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(resolve_users(*root, files).ok());  // uid 0
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wftpd
