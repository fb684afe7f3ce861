#include "unpriv/directory_listing.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "unpriv/listing.hpp"
#include "unpriv/machine_listing.hpp"

namespace wftpd {
namespace {

constexpr std::time_t kNow = 1700000000;  // 2023-11-14 22:13:20 UTC

// A session root holding dir/ with files, a symlink, a subdirectory and a hidden file: the
// listings built in one string must be exactly the lines the per-line formatters give.
class DirectoryListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/wftpd-listing-test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    base_ = templ;
    ASSERT_EQ(::mkdir((base_ + "/dir").c_str(), 0755), 0);
    write("/dir/b.txt", "bb", 1600000000);
    write("/dir/a.txt", "a", kNow - 60);
    write("/dir/c.dat", "", 0);
    write("/dir/.hidden", "h", kNow);
    ASSERT_EQ(::mkdir((base_ + "/dir/sub").c_str(), 0750), 0);
    ASSERT_EQ(::symlink("a.txt", (base_ + "/dir/link").c_str()), 0);
  }
  void TearDown() override {
    const std::string command = "rm -rf '" + base_ + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  void write(const std::string& path, const std::string& content, std::time_t mtime) {
    const int fd = ::open((base_ + path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    const timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ASSERT_EQ(::futimens(fd, times), 0);
    ::close(fd);
  }
  struct stat stat_of(const std::string& path) const {
    struct stat st{};
    EXPECT_EQ(::lstat((base_ + path).c_str(), &st), 0) << path;
    return st;
  }
  SessionFilesystem filesystem() const {
    auto fs = SessionFilesystem::open_directory(base_, false);
    EXPECT_TRUE(fs.ok());
    return std::move(*fs);
  }

  std::string base_;
};

TEST_F(DirectoryListingTest, NlstListsSortedVisibleNames) {
  const SessionFilesystem fs = filesystem();
  std::string out;
  FileError error;
  ASSERT_TRUE(build_listing(fs, "/dir", false, true, kNow, out, error));
  EXPECT_EQ(out, "a.txt\r\nb.txt\r\nc.dat\r\nlink\r\nsub\r\n");
  out.clear();
  ASSERT_TRUE(build_listing(fs, "/dir", true, true, kNow, out, error));
  EXPECT_EQ(out, ".hidden\r\na.txt\r\nb.txt\r\nc.dat\r\nlink\r\nsub\r\n");
}

TEST_F(DirectoryListingTest, NlstWildcardKeepsTheDirectoryTheClientTyped) {
  const SessionFilesystem fs = filesystem();
  std::string out;
  FileError error;
  ASSERT_TRUE(build_listing(fs, "/dir/*.txt", false, true, kNow, out, error, "dir/"));
  EXPECT_EQ(out, "dir/a.txt\r\ndir/b.txt\r\n");
  out.clear();
  EXPECT_FALSE(build_listing(fs, "/dir/*.none", false, true, kNow, out, error, "dir/"));
  EXPECT_EQ(error.error_number, ENOENT);
}

TEST_F(DirectoryListingTest, ListLinesAreTheLineFormattersLines) {
  const SessionFilesystem fs = filesystem();
  std::string out;
  FileError error;
  ASSERT_TRUE(build_listing(fs, "/dir", false, false, kNow, out, error));
  std::string expected;
  for (const char* name : {"a.txt", "b.txt", "c.dat", "link", "sub"}) {
    const std::string entry = std::string("/dir/") + name;
    expected += format_list_line(name, stat_of(entry), kNow,
                                 std::string_view(name) == "link" ? "a.txt" : "");
  }
  EXPECT_EQ(out, expected);
  EXPECT_NE(out.find(" link -> a.txt\r\n"), std::string::npos) << out;
  out.clear();
  ASSERT_TRUE(build_listing(fs, "/dir/l*", false, false, kNow, out, error));
  EXPECT_EQ(out, format_list_line("link", stat_of("/dir/link"), kNow, "a.txt"));
}

TEST_F(DirectoryListingTest, MachineListingLinesAreFormatFactsLines) {
  const SessionFilesystem fs = filesystem();
  const FactViewer viewer{::getuid(), ::getgid()};
  std::string out;
  FileError error;
  ASSERT_TRUE(build_machine_listing(fs, "/dir", FactSet{}, viewer, out, error));
  const bool writable = (viewer_access(stat_of("/dir"), viewer) & 2u) != 0;
  std::string expected;
  for (const char* name : {".hidden", "a.txt", "b.txt", "c.dat", "link", "sub"}) {
    expected += format_facts(name, stat_of(std::string("/dir/") + name), FactSet{}, viewer,
                             writable) + "\r\n";
  }
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace wftpd
