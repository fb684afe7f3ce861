#include "unpriv/session_filesystem.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

  // A temporary file for `target` in the read-write root `fs`.
  static void create_temporary(const SessionFilesystem& fs, const std::string& target,
                               TemporaryFile& temporary) {
    FileError error;
    ASSERT_TRUE(fs.create_temporary(target, temporary, error)) << error.reply_text;
  }
  std::string content_of(const std::string& path) const {
    std::ifstream in(base_ + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The names in base/root that temporary uploads have.
  std::vector<std::string> temporaries() const {
    std::vector<std::string> names;
    DIR* dir = ::opendir((base_ + "/root").c_str());
    while (const dirent* entry = dir != nullptr ? ::readdir(dir) : nullptr) {
      if (std::string_view(entry->d_name).starts_with(kTemporaryUploadPrefix)) names.emplace_back(entry->d_name);
    }
    if (dir != nullptr) ::closedir(dir);
    return names;
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

// SECURITY: no mode this class creates or sets a file with may carry a set-user-ID,
// set-group-ID or sticky bit: openat2 passes its mode in memory, out of the seccomp filter's
// reach, so the code is the check there.
TEST_F(SessionFilesystemTest, SetIdAndStickyModesAreRefusedBeforeAnyChange) {
  const mode_t saved_umask = ::umask(0);
  for (const bool read_only : {false, true}) {
    auto fs = SessionFilesystem::open_directory(base_ + "/root", read_only);
    ASSERT_TRUE(fs);
    for (const mode_t mode : {04755u, 02755u, 01755u, 06777u, 04600u}) {
      UniqueFd fd;
      FileError error;
      EXPECT_FALSE(fs->create_new_file("/new.bin", mode, fd, error)) << std::oct << mode;
      EXPECT_EQ(error.error_number, EPERM);
      EXPECT_EQ(error.reply_code, 550);
      if (!read_only) {
        EXPECT_FALSE(fs->open("/created.bin", O_WRONLY | O_CREAT, mode, fd, error)) << std::oct << mode;
        EXPECT_EQ(error.error_number, EPERM);
        EXPECT_FALSE(fs->change_mode("/file.txt", mode, error)) << std::oct << mode;
        EXPECT_EQ(error.error_number, EPERM);
        EXPECT_EQ(error.reply_code, 550);
      }
    }
  }
  struct stat st{};
  EXPECT_NE(::lstat((base_ + "/root/new.bin").c_str(), &st), 0);
  EXPECT_NE(::lstat((base_ + "/root/created.bin").c_str(), &st), 0);
  EXPECT_EQ(stat_of("/root/file.txt").st_mode & 07777, 0644u);

  // Permission bits alone still work, with a umask of 0 exactly as asked.
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  UniqueFd fd;
  FileError error;
  EXPECT_TRUE(fs->create_new_file("/new.bin", 0666, fd, error)) << error.reply_text;
  EXPECT_EQ(stat_of("/root/new.bin").st_mode & 07777, 0666u);
  EXPECT_TRUE(fs->open("/created.bin", O_WRONLY | O_CREAT, 0640, fd, error)) << error.reply_text;
  EXPECT_EQ(stat_of("/root/created.bin").st_mode & 07777, 0640u);
  EXPECT_TRUE(fs->change_mode("/file.txt", 0777, error)) << error.reply_text;
  EXPECT_EQ(stat_of("/root/file.txt").st_mode & 07777, 0777u);
  EXPECT_TRUE(fs->make_directory("/made", error)) << error.reply_text;
  EXPECT_EQ(stat_of("/root/made").st_mode & 07777, 0777u);
  ::umask(saved_umask);
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

TEST_F(SessionFilesystemTest, TemporaryFileIsBesideItsTargetAndCommitReplacesTheTarget) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  TemporaryFile temporary;
  ASSERT_NO_FATAL_FAILURE(create_temporary(*fs, "/file.txt", temporary));
  // ".wftpd-upload-" and 16 hex digits, in the target's directory.
  const std::string& name = temporary.name();
  ASSERT_EQ(name.size(), kTemporaryUploadPrefix.size() + 16);
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", kTemporaryUploadPrefix.size()), std::string::npos);
  EXPECT_EQ(temporaries(), std::vector<std::string>{name});
  EXPECT_TRUE(S_ISREG(stat_of("/root/" + name).st_mode));
  ASSERT_EQ(::write(temporary.fd(), "new\n", 4), 4);
  EXPECT_EQ(content_of("/root/file.txt"), "x\n");  // untouched until the commit

  FileError error;
  ASSERT_TRUE(fs->commit(temporary, error)) << error.reply_text;
  EXPECT_EQ(content_of("/root/file.txt"), "new\n");
  EXPECT_TRUE(temporaries().empty());
  temporary.discard();  // after a commit: nothing to remove, the new file stays
  EXPECT_EQ(content_of("/root/file.txt"), "new\n");
}

TEST_F(SessionFilesystemTest, TemporaryFileNotCommittedIsRemovedAndTheTargetKept) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  {
    TemporaryFile temporary;
    ASSERT_NO_FATAL_FAILURE(create_temporary(*fs, "/file.txt", temporary));
    ASSERT_EQ(::write(temporary.fd(), "partial", 7), 7);
    EXPECT_EQ(temporaries().size(), 1u);
  }
  EXPECT_TRUE(temporaries().empty());
  EXPECT_EQ(content_of("/root/file.txt"), "x\n");
  // A new file too: nothing is left of an upload that was not committed.
  TemporaryFile temporary;
  ASSERT_NO_FATAL_FAILURE(create_temporary(*fs, "/new.txt", temporary));
  temporary.discard();
  EXPECT_TRUE(temporaries().empty());
  EXPECT_NE(::access((base_ + "/root/new.txt").c_str(), F_OK), 0);
}

TEST_F(SessionFilesystemTest, FailedCommitRemovesTheTemporaryFile) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  ASSERT_EQ(::mkdir((base_ + "/root/dir").c_str(), 0755), 0);
  TemporaryFile temporary;
  ASSERT_NO_FATAL_FAILURE(create_temporary(*fs, "/dir", temporary));
  FileError error;
  EXPECT_FALSE(fs->commit(temporary, error));  // a file is not renamed over a directory
  EXPECT_EQ(error.error_number, EISDIR);
  EXPECT_TRUE(temporaries().empty());
  EXPECT_TRUE(S_ISDIR(stat_of("/root/dir").st_mode));
}

TEST_F(SessionFilesystemTest, TemporaryFileStaysInsideTheRoot) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  ASSERT_EQ(::symlink("../outside", (base_ + "/root/out").c_str()), 0);
  ASSERT_EQ(::symlink((base_ + "/outside").c_str(), (base_ + "/root/abs").c_str()), 0);
  for (const char* path : {"/out/secret.txt", "/abs/secret.txt", "/"}) {
    TemporaryFile temporary;
    FileError error;
    EXPECT_FALSE(fs->create_temporary(path, temporary, error)) << path;
  }
  DIR* outside = ::opendir((base_ + "/outside").c_str());
  ASSERT_NE(outside, nullptr);
  int entries = 0;
  while (::readdir(outside) != nullptr) ++entries;
  ::closedir(outside);
  EXPECT_EQ(entries, 3);  // ".", "..", secret.txt
}

TEST_F(SessionFilesystemTest, StaleTemporariesAreRemovedAndNothingElse) {
  auto fs = SessionFilesystem::open_directory(base_ + "/root", false);
  ASSERT_TRUE(fs);
  const std::string stale = std::string(kTemporaryUploadPrefix) + "00000000000000aa";
  const std::string fresh = std::string(kTemporaryUploadPrefix) + "00000000000000bb";
  const std::string stale_link = std::string(kTemporaryUploadPrefix) + "00000000000000cc";
  write(base_ + "/root/" + stale);
  write(base_ + "/root/" + fresh);
  write(base_ + "/root/old.txt");
  ASSERT_EQ(::symlink("file.txt", (base_ + "/root/" + stale_link).c_str()), 0);
  const timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
  for (const std::string& name : {stale, std::string("old.txt"), stale_link}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (base_ + "/root/" + name).c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
  }
  TemporaryFile temporary;
  ASSERT_NO_FATAL_FAILURE(create_temporary(*fs, "/file.txt", temporary));
  ASSERT_EQ(::futimens(temporary.fd(), old), 0);  // even an old-looking own file stays

  const auto removed = fs->remove_stale_temporaries(temporary, 1000000000.5L, 4096);
  EXPECT_EQ(removed, std::vector<std::string>{stale});
  EXPECT_NE(::access((base_ + "/root/" + stale).c_str(), F_OK), 0);
  for (const std::string& name : {fresh, std::string("old.txt"), temporary.name()}) {
    EXPECT_EQ(::access((base_ + "/root/" + name).c_str(), F_OK), 0) << name;
  }
  EXPECT_TRUE(S_ISLNK(stat_of("/root/" + stale_link).st_mode));  // not a regular file: kept
}

}  // namespace
}  // namespace wftpd
