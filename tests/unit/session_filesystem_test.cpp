#include "unpriv/session_filesystem.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace wftpd {
namespace {

// base/root is the session root; base/outside/secret.txt must stay out of its reach.
class SessionFilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/wftpd-fs-test.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    base_ = templ;
    ASSERT_EQ(::mkdir((base_ + "/root").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((base_ + "/outside").c_str(), 0755), 0);
    write(base_ + "/outside/secret.txt");
    write(base_ + "/root/file.txt");
    ASSERT_EQ(::chmod((base_ + "/outside/secret.txt").c_str(), 0640), 0);
    ASSERT_EQ(::symlink("../outside/secret.txt", (base_ + "/root/relative").c_str()), 0);
    ASSERT_EQ(::symlink((base_ + "/outside/secret.txt").c_str(), (base_ + "/root/absolute").c_str()), 0);
    ASSERT_EQ(::symlink("file.txt", (base_ + "/root/inside").c_str()), 0);
  }
  void TearDown() override {
    const std::string command = "rm -rf '" + base_ + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  static void write(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "x\n", 2), 2);
    ::close(fd);
  }
  struct stat stat_of(const std::string& path) const {
    struct stat st{};
    EXPECT_EQ(::lstat((base_ + path).c_str(), &st), 0) << path;
    return st;
  }

  std::string base_;
};

// Regression (found by fuzz_postauth_engine): SITE CHMOD and MFMT used fchmodat/utimensat on the
// last path component, following a symlink out of the root (only the chroot stopped them).
TEST_F(SessionFilesystemTest, ChangeModeRefusesSymlinks) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  for (const char* link : {"/relative", "/absolute", "/inside"}) {
    FileError error;
    EXPECT_FALSE(fs->change_mode(link, 0777, error)) << link;
    EXPECT_EQ(error.error_number, ELOOP) << link;
    EXPECT_EQ(error.reply_code, 550);
  }
  EXPECT_EQ(stat_of("/outside/secret.txt").st_mode & 07777, 0640u);
  EXPECT_EQ(stat_of("/root/file.txt").st_mode & 07777, 0644u);

  FileError error;
  EXPECT_TRUE(fs->change_mode("/file.txt", 0600, error)) << error.reply_text;
  EXPECT_EQ(stat_of("/root/file.txt").st_mode & 07777, 0600u);
  EXPECT_FALSE(fs->change_mode("/missing", 0600, error));
  EXPECT_EQ(error.error_number, ENOENT);
}

TEST_F(SessionFilesystemTest, SetModificationTimeRefusesSymlinks) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  const auto secret_before = stat_of("/outside/secret.txt");
  for (const char* link : {"/relative", "/absolute", "/inside"}) {
    FileError error;
    EXPECT_FALSE(fs->set_modification_time(link, 1000000000, error)) << link;
    EXPECT_EQ(error.error_number, ELOOP) << link;
  }
  EXPECT_EQ(stat_of("/outside/secret.txt").st_mtim.tv_sec, secret_before.st_mtim.tv_sec);

  FileError error;
  EXPECT_TRUE(fs->set_modification_time("/file.txt", 1000000000, error)) << error.reply_text;
  EXPECT_EQ(stat_of("/root/file.txt").st_mtim.tv_sec, 1000000000);
}

// The rest of the read-write interface stays inside the root without a chroot as well.
TEST_F(SessionFilesystemTest, OpenResolvesSymlinksInsideTheRoot) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  UniqueFd fd;
  FileError error;
  EXPECT_FALSE(fs->open("/relative", O_RDONLY, 0, fd, error));
  EXPECT_FALSE(fs->open("/absolute", O_RDONLY, 0, fd, error));
  EXPECT_TRUE(fs->open("/inside", O_RDONLY, 0, fd, error)) << error.reply_text;
}

}  // namespace
}  // namespace wftpd
