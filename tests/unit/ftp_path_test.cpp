#include "unpriv/ftp_path.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

std::string resolve_ok(std::string_view cwd, std::string_view argument, std::size_t max_length = 4096) {
  Result<std::string> result = resolve_path(cwd, argument, max_length);
  EXPECT_TRUE(result.ok()) << "cwd=" << std::string(cwd) << " arg=" << std::string(argument);
  return result.ok() ? *result : std::string("<error>");
}

TEST(FtpPath, RelativeArgumentIsAppliedToCwd) {
  EXPECT_EQ(resolve_ok("/home", "file.txt"), "/home/file.txt");
  EXPECT_EQ(resolve_ok("/", "a/b"), "/a/b");
}

TEST(FtpPath, AbsoluteArgumentIgnoresCwd) {
  EXPECT_EQ(resolve_ok("/home/x", "/pub/f"), "/pub/f");
}

TEST(FtpPath, EmptyArgumentIsCwd) {
  EXPECT_EQ(resolve_ok("/a/b", ""), "/a/b");
  EXPECT_EQ(resolve_ok("/", ""), "/");
}

TEST(FtpPath, CwdIsNormalisedToo) {
  EXPECT_EQ(resolve_ok("//a/./b/../c/", ""), "/a/c");
}

TEST(FtpPath, DotAndDotDotAreResolved) {
  EXPECT_EQ(resolve_ok("/a/b", "./c/../d"), "/a/b/d");
  EXPECT_EQ(resolve_ok("/a/b", ".."), "/a");
  EXPECT_EQ(resolve_ok("/a/b", "../.."), "/");
  EXPECT_EQ(resolve_ok("/a", "."), "/a");
}

TEST(FtpPath, DotDotCannotLeaveRoot) {
  EXPECT_EQ(resolve_ok("/", ".."), "/");
  EXPECT_EQ(resolve_ok("/a", "../../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(resolve_ok("/", "/../../.."), "/");
  EXPECT_EQ(resolve_ok("/..", "x"), "/x");
}

TEST(FtpPath, NamesThatOnlyLookLikeDotsAreOrdinary) {
  EXPECT_EQ(resolve_ok("/", "..."), "/...");
  EXPECT_EQ(resolve_ok("/", ".hidden/..x"), "/.hidden/..x");
  EXPECT_EQ(resolve_ok("/", "a\\..\\b"), "/a\\..\\b");  // backslash is not a separator
}

TEST(FtpPath, RepeatedSlashesCollapseAndTrailingSlashIsRemoved) {
  EXPECT_EQ(resolve_ok("/", "//a///b//"), "/a/b");
  EXPECT_EQ(resolve_ok("/x", "a/"), "/x/a");
  EXPECT_EQ(resolve_ok("/", "///"), "/");
}

TEST(FtpPath, SpacesAreKept) {
  EXPECT_EQ(resolve_ok("/", " a /b "), "/ a /b ");
}

TEST(FtpPath, NulByteIsRejected) {
  EXPECT_FALSE(resolve_path("/", std::string_view("a\0b", 3)).ok());
  EXPECT_FALSE(resolve_path(std::string_view("/a\0", 3), "b").ok());
}

TEST(FtpPath, RelativeCwdIsRejected) {
  EXPECT_FALSE(resolve_path("", "a").ok());
  EXPECT_FALSE(resolve_path("home", "a").ok());
}

TEST(FtpPath, ResultLongerThanMaxLengthIsRejected) {
  EXPECT_EQ(resolve_ok("/", "abcd", 5), "/abcd");
  EXPECT_FALSE(resolve_path("/", "abcde", 5).ok());
  EXPECT_FALSE(resolve_path("/" + std::string(5000, 'a'), "").ok());
  // Only the result counts: a long argument that resolves to something short is fine.
  EXPECT_EQ(resolve_ok("/", std::string(100, 'x') + "/..", 10), "/");
}

TEST(FtpPath, TooManyComponentsAreRejected) {
  std::string deep;
  for (std::size_t i = 0; i < kMaxPathComponents; ++i) deep += "d/";
  EXPECT_TRUE(resolve_path("/", deep).ok());
  EXPECT_FALSE(resolve_path("/", deep + "e").ok());
  EXPECT_FALSE(resolve_path("/x", deep).ok());
}

TEST(FtpPath, ManyDotDotsAreCheap) {
  std::string ups;
  for (int i = 0; i < 1000; ++i) ups += "../";
  EXPECT_EQ(resolve_ok("/a/b", ups + "c"), "/c");
}

TEST(FtpPath, BaseName) {
  EXPECT_EQ(base_name("/a/b"), "b");
  EXPECT_EQ(base_name("/a"), "a");
  EXPECT_EQ(base_name("/"), "/");
  EXPECT_EQ(base_name("/a/b/"), "b");
  EXPECT_EQ(base_name("//"), "/");
  EXPECT_EQ(base_name(""), "");
  EXPECT_EQ(base_name("x"), "x");
}

TEST(FtpPath, ParentPath) {
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(parent_path("/"), "/");
  EXPECT_EQ(parent_path("/a/b/"), "/a");
  EXPECT_EQ(parent_path("/a//b"), "/a");
  EXPECT_EQ(parent_path(""), "/");
  EXPECT_EQ(parent_path("x"), "/");
}

}  // namespace
}  // namespace wftpd
