#include "unpriv/listing.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace wftpd {
namespace {

// 2023-11-24 00:18:00 UTC
constexpr std::time_t kNov24 = 1700785080;

struct stat make_stat(mode_t mode, off_t size, std::time_t mtime) {
  struct stat st {};
  st.st_mode = mode;
  st.st_nlink = 1;
  st.st_uid = 1000;
  st.st_gid = 1000;
  st.st_size = size;
  st.st_mtime = mtime;
  return st;
}

TEST(Listing, RecentRegularFileMatchesLsFormat) {
  const struct stat st = make_stat(S_IFREG | 0644, 1234, kNov24);
  EXPECT_EQ(format_list_line("name", st, kNov24 + 3600),
            "-rw-r--r--    1 1000     1000         1234 Nov 24 00:18 name\r\n");
}

TEST(Listing, OldFileShowsYear) {
  const struct stat st = make_stat(S_IFREG | 0600, 5, 0);
  EXPECT_EQ(format_list_line("f", st, kNov24), "-rw-------    1 1000     1000            5 Jan  1  1970 f\r\n");
}

TEST(Listing, FutureFileShowsYear) {
  const struct stat st = make_stat(S_IFREG | 0644, 0, kNov24 + 60);
  EXPECT_EQ(format_list_line("f", st, kNov24).substr(43, 12), "Nov 24  2023");
}

TEST(Listing, SixMonthBoundary) {
  const struct stat just_recent = make_stat(S_IFREG, 0, kNov24 - kRecentSeconds);
  EXPECT_NE(format_list_line("f", just_recent, kNov24).find(':'), std::string::npos);
  const struct stat just_old = make_stat(S_IFREG, 0, kNov24 - kRecentSeconds - 1);
  EXPECT_EQ(format_list_line("f", just_old, kNov24).find(':'), std::string::npos);
}

TEST(Listing, DayIsSpacePadded) {
  const struct stat st = make_stat(S_IFREG | 0644, 0, kNov24 - 20 * 86400);  // Nov 4
  EXPECT_NE(format_list_line("f", st, kNov24).find(" Nov  4 00:18 f\r\n"), std::string::npos);
}

TEST(Listing, WideFieldsStaySeparated) {
  struct stat st = make_stat(S_IFDIR | 0755, 123456789012, kNov24);
  st.st_nlink = 123456;
  st.st_uid = 4294967294u;
  st.st_gid = 123456789;
  EXPECT_EQ(format_list_line("d", st, kNov24),
            "drwxr-xr-x 123456 4294967294 123456789 123456789012 Nov 24 00:18 d\r\n");
}

TEST(Listing, FileTypeLetters) {
  EXPECT_EQ(format_mode(S_IFREG | 0755), "-rwxr-xr-x");
  EXPECT_EQ(format_mode(S_IFDIR | 0700), "drwx------");
  EXPECT_EQ(format_mode(S_IFLNK | 0777), "lrwxrwxrwx");
  EXPECT_EQ(format_mode(S_IFIFO | 0600), "prw-------");
  EXPECT_EQ(format_mode(S_IFSOCK | 0666), "srw-rw-rw-");
  EXPECT_EQ(format_mode(S_IFCHR | 0620), "crw--w----");
  EXPECT_EQ(format_mode(S_IFBLK | 0660), "brw-rw----");
  EXPECT_EQ(format_mode(0), "?---------");
}

TEST(Listing, SpecialBitsShownAsSAndT) {
  EXPECT_EQ(format_mode(S_IFREG | S_ISUID | 0755), "-rwsr-xr-x");
  EXPECT_EQ(format_mode(S_IFREG | S_ISUID | 0644), "-rwSr--r--");
  EXPECT_EQ(format_mode(S_IFDIR | S_ISGID | 0775), "drwxrwsr-x");
  EXPECT_EQ(format_mode(S_IFDIR | S_ISGID | 0745), "drwxr-Sr-x");
  EXPECT_EQ(format_mode(S_IFDIR | S_ISVTX | 0777), "drwxrwxrwt");
  EXPECT_EQ(format_mode(S_IFDIR | S_ISVTX | 0776), "drwxrwxrwT");
}

TEST(Listing, SymlinkShowsTarget) {
  const struct stat st = make_stat(S_IFLNK | 0777, 7, kNov24);
  EXPECT_EQ(format_list_line("link", st, kNov24, "../file"),
            "lrwxrwxrwx    1 1000     1000            7 Nov 24 00:18 link -> ../file\r\n");
  EXPECT_EQ(format_list_line("link", st, kNov24).substr(56), "link\r\n");
}

TEST(Listing, TargetIgnoredForNonSymlink) {
  const struct stat st = make_stat(S_IFREG | 0644, 0, kNov24);
  EXPECT_EQ(format_list_line("f", st, kNov24, "x").find("->"), std::string::npos);
}

TEST(Listing, NameWithNewlineIsNotListable) {
  EXPECT_TRUE(name_is_listable("normal name.txt"));
  EXPECT_TRUE(name_is_listable("\xff\x01\t"));
  EXPECT_FALSE(name_is_listable("a\nb"));
  EXPECT_FALSE(name_is_listable("a\rb"));
  EXPECT_FALSE(name_is_listable(std::string_view("a\0b", 3)));
}

TEST(Listing, ListLineCannotBeSplitEvenIfCallerForgetsTheCheck) {
  const struct stat st = make_stat(S_IFLNK | 0777, 0, kNov24);
  const std::string line = format_list_line("a\r\n-rw fake", st, kNov24, std::string_view("t\n\0x", 4));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.find('\r'), line.size() - 2);
  EXPECT_NE(line.find("a?" "?-rw fake -> t?" "?x\r\n"), std::string::npos);
}

TEST(Listing, NlstLine) {
  EXPECT_EQ(format_nlst_line("file"), "file\r\n");
  EXPECT_EQ(format_nlst_line("a\nb"), "a?b\r\n");
}

TEST(Listing, MdtmIsUtcFourteenDigits) {
  EXPECT_EQ(format_mdtm(kNov24), "20231124001800");
  EXPECT_EQ(format_mdtm(0), "19700101000000");
  EXPECT_EQ(format_mdtm(951782400 + 86399), "20000229235959");
  EXPECT_EQ(format_mdtm(-1), "19691231235959");
}

TEST(Listing, MdtmOutOfRangeIsClamped) {
  EXPECT_EQ(format_mdtm(std::numeric_limits<std::time_t>::max()), "99991231235959");
  EXPECT_EQ(format_mdtm(std::numeric_limits<std::time_t>::min()), "00000101000000");
  EXPECT_EQ(format_mdtm(253402300800), "99991231235959");  // 10000-01-01
}

TEST(Listing, ExtremeTimestampsDoNotOverflow) {
  const struct stat st = make_stat(S_IFREG, 0, std::numeric_limits<std::time_t>::min());
  const std::string line = format_list_line("f", st, std::numeric_limits<std::time_t>::max());
  EXPECT_EQ(line.substr(line.size() - 3), "f\r\n");
  const struct stat st2 = make_stat(S_IFREG, 0, std::numeric_limits<std::time_t>::max());
  EXPECT_EQ(format_list_line("f", st2, std::numeric_limits<std::time_t>::min()).substr(line.size() - 3), "f\r\n");
}

}  // namespace
}  // namespace wftpd
