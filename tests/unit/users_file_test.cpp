// Tests for the virtual users file parser and writer (common/users_file.hpp).
#include "common/users_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/unit/require_root.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace wftpd {
namespace {

const std::string kYescrypt =
    "$y$j9T$qzIFpWH7U0wTeRpTiimdA0$7WrkkMsKbOQSxbVkaUcGVny4VuJUlLMwnW9/pK6dZY7";
const std::string kSha512 =
    "$6$EeqdgyZc7q/rPdWD$ZG5LM/"
    "Qf9uoQPbKWLwOgeFWvc4VPU8N9qdOvNQiKR18RUR.PnHSeF6PGFanIV0mCmDhdXLYFzLXUQCzYDOkpC.";

std::string line(std::string_view name, std::string_view hash, std::string_view uid,
                 std::string_view gid, std::string_view root) {
  std::string text(name);
  for (std::string_view part : {hash, uid, gid, root}) {
    text += ':';
    text += part;
  }
  return text + "\n";
}

std::string good_line(std::string_view name = "alice") {
  return line(name, kYescrypt, "1001", "1001", "/srv/ftp/alice");
}

// Expects parsing `text` to fail with "users:LINE: ..." containing `fragment`.
void expect_error(const std::string& text, std::size_t line_number, std::string_view fragment) {
  auto parsed = parse_users_file(text, "users");
  ASSERT_FALSE(parsed.ok()) << "accepted: " << text;
  const std::string prefix = "users:" + std::to_string(line_number) + ": ";
  EXPECT_TRUE(parsed.error().message.starts_with(prefix)) << parsed.error().message;
  EXPECT_NE(parsed.error().message.find(fragment), std::string::npos) << parsed.error().message;
}

TEST(UsersFile, ParsesUsersCommentsAndBlankLines) {
  const std::string text = "# header\n\n" + good_line() + "   \n  # indented comment\n\t\n" +
                           line("bob@example.org", kSha512, "2000", "100", "/");
  auto parsed = parse_users_file(text, "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2U);
  const VirtualUser& alice = (*parsed)[0];
  EXPECT_EQ(alice.name, "alice");
  EXPECT_EQ(alice.hash, kYescrypt);
  EXPECT_EQ(alice.uid, 1001U);
  EXPECT_EQ(alice.gid, 1001U);
  EXPECT_EQ(alice.root, "/srv/ftp/alice");
  const VirtualUser& bob = (*parsed)[1];
  EXPECT_EQ(bob.name, "bob@example.org");
  EXPECT_EQ(bob.hash, kSha512);
  EXPECT_EQ(bob.uid, 2000U);
  EXPECT_EQ(bob.gid, 100U);
  EXPECT_EQ(bob.root, "/");
}

TEST(UsersFile, EmptyTextHasNoUsers) {
  auto parsed = parse_users_file("", "users");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
}

TEST(UsersFile, LastLineMayLackANewline) {
  std::string text = good_line();
  text.pop_back();
  auto parsed = parse_users_file(text, "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].root, "/srv/ftp/alice");
}

TEST(UsersFile, AcceptsLockedHashes) {
  const std::string text = line("a", "!" + kYescrypt, "1", "1", "/a") +
                           line("b", "!", "2", "2", "/b") +
                           line("c", "!!" + kSha512, "3", "3", "/c");
  auto parsed = parse_users_file(text, "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->size(), 3U);
}

TEST(UsersFile, AcceptsExtremeIds) {
  auto parsed = parse_users_file(line("a", kYescrypt, "1", "4294967294", "/a"), "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].uid, 1U);
  EXPECT_EQ((*parsed)[0].gid, 4294967294U);
}

TEST(UsersFile, ErrorNamesFileAndLine) {
  auto parsed = parse_users_file("# c\n" + good_line() + "bad line\n", "/etc/wardenftpd/users");
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(parsed.error().message.starts_with("/etc/wardenftpd/users:3: "))
      << parsed.error().message;
}

TEST(UsersFile, RejectsWrongFieldCounts) {
  expect_error("# c\nalice:" + kYescrypt + ":1:1\n", 2, "found 4");
  expect_error(good_line() + "alice:" + kYescrypt + ":1:1:/srv:x:y\n", 2, "found 7");
  expect_error("alice\n", 1, "found 1");
}

TEST(UsersFile, RejectsColonInsideField) {
  // Six fields, each in the wrong place: "ice" is read as the hash.
  expect_error(line("al", "ice:" + kYescrypt, "1", "1", "/r"), 1, "invalid password hash");
  // A sixth field is the class: a seventh means a ':' inside the root or the class.
  expect_error("alice:" + kYescrypt + ":1:1:/srv:ftp:x\n", 1, "fields");
}

TEST(UsersFile, RejectsInvalidNames) {
  for (const std::string& name :
       std::vector<std::string>{"", "-alice", ".alice", "al ice", "al/ice", "al\tice", "ålice",
                                std::string(65, 'a'), std::string("a\0b", 3)}) {
    expect_error("\n" + line(name, kYescrypt, "1", "1", "/r"), 2, "invalid user name");
  }
}

TEST(UsersFile, AcceptsLongestAndPunctuatedNames) {
  auto parsed = parse_users_file(line(std::string(64, 'a'), kYescrypt, "1", "1", "/r") +
                                     line("a-b_c.d@e", kYescrypt, "1", "1", "/r") +
                                     line("0", kYescrypt, "1", "1", "/r"),
                                 "users");
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
}

TEST(UsersFile, RejectsDuplicateNamesNamingTheFirstLine) {
  expect_error(good_line() + "# c\n" + good_line(), 3, "first defined on line 1");
}

TEST(UsersFile, NamesAreCaseSensitive) {
  auto parsed = parse_users_file(good_line("alice") + good_line("Alice"), "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->size(), 2U);
}

TEST(UsersFile, RejectsUnsupportedOrMalformedHashes) {
  std::string truncated = kYescrypt;
  truncated.pop_back();
  for (std::string hash :
       {std::string(""), std::string("*"), std::string("!*"), std::string("plain"),
        std::string("$1$abcdefgh$0123456789abcdefghijkl"), std::string("abJnggxhB/yWI"), truncated,
        kSha512 + "A", std::string("$y$j9T$salt$") + std::string(43, '!'),
        std::string("$6$sa t$") + std::string(86, 'a')}) {
    expect_error(good_line() + line("bob", hash, "1", "1", "/r"), 2, "hash");
  }
}

TEST(UsersFile, RejectsInvalidIds) {
  for (std::string id : {"", "0", "00", "01", "+1", "-1", " 1", "1 ", "1a", "0x10", "4294967295",
                         "4294967296", "18446744073709551617", "99999999999999999999"}) {
    expect_error(line("a", kYescrypt, id, "1", "/r"), 1, "invalid uid");
    expect_error(line("a", kYescrypt, "1", id, "/r"), 1, "invalid gid");
  }
}

TEST(UsersFile, RejectsInvalidRoots) {
  for (const std::string& root :
       std::vector<std::string>{"", "relative", "srv/ftp", "//", "/srv//ftp", "/srv/", "/srv/./ftp",
                                "/srv/..", "/..", "/.", "/srv/ftp/.", "/srv\x01", "/srv\x7f",
                                "/srv\r", std::string("/s\0v", 4), "/" + std::string(4096, 'a')}) {
    expect_error("#\n#\n" + line("a", kYescrypt, "1", "1", root), 3, "invalid root");
  }
}

TEST(UsersFile, AcceptsRootsWithDotsInsideComponents) {
  auto parsed = parse_users_file(line("a", kYescrypt, "1", "1", "/srv/.hidden/..x/a.b/...") +
                                     line("b", kYescrypt, "1", "1", "/" + std::string(4095, 'a')),
                                 "users");
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
}

TEST(UsersFile, RejectsOverlongLines) {
  expect_error(good_line() + "#" + std::string(8192, 'x') + "\n", 2, "longer than 8192");
  auto parsed = parse_users_file("#" + std::string(8191, 'x') + "\n", "users");
  EXPECT_TRUE(parsed.ok());
}

TEST(UsersFile, RejectsMoreThanTheMaximumNumberOfUsers) {
  std::string text;
  for (std::size_t i = 0; i <= kMaxUsers; ++i) {
    text += line("u" + std::to_string(i), "!", "1", "1", "/");
  }
  expect_error(text, kMaxUsers + 1, "more than 100000 users");
  text.resize(text.rfind('u'));
  EXPECT_TRUE(parse_users_file(text, "users").ok());
}

TEST(UsersFile, RejectsTextLargerThan64MiB) {
  std::string text(kMaxUsersFileSize + 1, '\n');
  expect_error(text, 1, "64 MiB");
}

TEST(UsersFile, CarriageReturnLineEndingsAreRejected) {
  std::string text = good_line();
  text.insert(text.size() - 1, "\r");
  expect_error(text, 1, "invalid root");
}

TEST(UsersFile, FormatThenParseRoundTrips) {
  const std::vector<VirtualUser> users = {
      {"alice", kYescrypt, 1001, 1002, "/srv/ftp/alice", ""},
      {"bob@example.org", "!" + kSha512, 4294967294U, 1, "/", "partners"},
      {"carol", "!", 7, 7, "/home/carol/ftp", ""},
  };
  const std::string text = format_users_file(users);
  EXPECT_TRUE(text.starts_with("#"));
  auto parsed = parse_users_file(text, "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), users.size());
  for (std::size_t i = 0; i < users.size(); ++i) {
    EXPECT_EQ((*parsed)[i].name, users[i].name);
    EXPECT_EQ((*parsed)[i].hash, users[i].hash);
    EXPECT_EQ((*parsed)[i].uid, users[i].uid);
    EXPECT_EQ((*parsed)[i].gid, users[i].gid);
    EXPECT_EQ((*parsed)[i].root, users[i].root);
    EXPECT_EQ((*parsed)[i].user_class, users[i].user_class);
  }
  EXPECT_EQ(format_users_file(*parsed), text);
}

TEST(UsersFile, TheSixthFieldIsAnOptionalClass) {
  auto parsed = parse_users_file("alice:" + kYescrypt + ":1001:1001:/srv/a:partners\n" +
                                     "bob:" + kYescrypt + ":1002:1002:/srv/b\n",
                                 "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].user_class, "partners");
  EXPECT_EQ((*parsed)[1].user_class, "");
  expect_error("alice:" + kYescrypt + ":1001:1001:/srv/a:bad class\n", 1, "invalid class");
  expect_error("alice:" + kYescrypt + ":1001:1001:/srv/a:\n", 1, "invalid class");
  expect_error("alice:" + kYescrypt + ":1001:1001:/srv/a:c:d\n", 1, "expected 5 or 6");
}

TEST(UsersFile, FormatOfNoUsersParsesToNoUsers) {
  auto parsed = parse_users_file(format_users_file({}), "users");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
}

TEST(UsersFile, FindUserMatchesExactNameOnly) {
  const std::vector<VirtualUser> users = {{"alice", kYescrypt, 1, 1, "/a", ""},
                                          {"bob", kSha512, 2, 2, "/b", ""}};
  ASSERT_NE(find_user(users, "bob"), nullptr);
  EXPECT_EQ(find_user(users, "bob")->uid, 2U);
  EXPECT_EQ(find_user(users, "Bob"), nullptr);
  EXPECT_EQ(find_user(users, "bo"), nullptr);
  EXPECT_EQ(find_user(users, ""), nullptr);
  EXPECT_EQ(find_user({}, "alice"), nullptr);
}

TEST(UsersFile, ParseUserIdAcceptsOnlyCanonicalDecimal) {
  EXPECT_EQ(parse_user_id("1"), 1U);
  EXPECT_EQ(parse_user_id("4294967294"), 4294967294U);
  EXPECT_EQ(parse_user_id("0"), std::nullopt);
  EXPECT_EQ(parse_user_id("4294967295"), std::nullopt);
  EXPECT_EQ(parse_user_id("007"), std::nullopt);
}

// The one check on where a users file may live and what it may be, shared by the daemon
// (read_users_file) and wardenftpd-passwd. The test runs as root, as the daemon does.
TEST(UsersFile, OpenUsersFileRefusesWhatSomeoneElseCouldHavePlanted) {
  WFTPD_REQUIRE_ROOT();
  char templ[] = "/tmp/wftpd-users-test.XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::string base = templ;
  ASSERT_EQ(::chmod(base.c_str(), 0755), 0);
  const std::string file = base + "/users";
  std::ofstream(file) << line("alice", kYescrypt, "1000", "1000", "/srv/alice");
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);

  auto good = open_users_file(file);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_TRUE(good->valid());
  auto missing = open_users_file(base + "/none");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(missing->valid());
  EXPECT_FALSE(read_users_file(base + "/none").ok());
  ASSERT_TRUE(read_users_file(file).ok());

  const auto refused = [&](const std::string& path, const std::string& why) {
    auto opened = open_users_file(path);
    EXPECT_FALSE(opened.ok()) << why;
    EXPECT_FALSE(read_users_file(path).ok()) << why;
    return opened.ok() ? std::string() : opened.error().message;
  };
  for (const mode_t mode : {0644, 0620, 0604, 0602}) {
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    EXPECT_EQ(refused(file, "mode"), file + " must be a regular file owned by root, mode 0600 or 0640");
  }
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  EXPECT_TRUE(open_users_file(file).ok());
  ASSERT_EQ(::chown(file.c_str(), 65534, 0), 0);
  EXPECT_EQ(refused(file, "owner"), file + " must be a regular file owned by root, mode 0600 or 0640");
  ASSERT_EQ(::chown(file.c_str(), 0, 0), 0);
  ASSERT_EQ(::symlink(file.c_str(), (base + "/link").c_str()), 0);
  refused(base + "/link", "symlink");

  // The directory: writable by others or the group, another owner, or a symlink to a good one.
  const std::string directory_rule = " must be a directory (not a symlink) owned by root and not "
                                     "writable by group or others";
  for (const mode_t mode : {01777, 0777, 0775, 0757}) {
    ASSERT_EQ(::chmod(base.c_str(), mode), 0);
    EXPECT_EQ(refused(file, "directory mode"), file + ": its directory " + base + directory_rule);
    EXPECT_FALSE(open_users_file(base + "/none").ok()) << "missing file, directory mode";
  }
  ASSERT_EQ(::chmod(base.c_str(), 0755), 0);
  ASSERT_EQ(::chown(base.c_str(), 65534, 65534), 0);
  refused(file, "directory owner");
  ASSERT_EQ(::chown(base.c_str(), 0, 0), 0);
  const std::string linked = base + "-link";
  ASSERT_EQ(::symlink(base.c_str(), linked.c_str()), 0);
  refused(linked + "/users", "directory symlink");
  EXPECT_TRUE(open_users_file(file).ok());

  ::unlink(linked.c_str());
  const std::string command = "rm -rf '" + base + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
}

TEST(UsersFile, RootValidationAcceptsSlashAlone) {
  EXPECT_TRUE(is_valid_user_root("/"));
  EXPECT_TRUE(is_valid_user_root("/srv/ftp"));
  EXPECT_FALSE(is_valid_user_root("/srv:ftp"));
}

TEST(UsersFile, WipeHashesEmptiesEveryHashAndKeepsTheRest) {
  auto parsed = parse_users_file(good_line("alice") + line("bob", kSha512, "2", "2", "/b"), "users");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  wipe_hashes(*parsed);
  ASSERT_EQ(parsed->size(), 2U);
  EXPECT_EQ((*parsed)[0].hash, "");
  EXPECT_EQ((*parsed)[1].hash, "");
  EXPECT_EQ((*parsed)[1].name, "bob");
  EXPECT_EQ((*parsed)[1].root, "/b");
}

// A users file in a fresh directory; read_users_file insists on root's ownership.
class UsersFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    WFTPD_REQUIRE_ROOT();
    char pattern[] = "/tmp/wftpd-users-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/users";
  }
  void TearDown() override {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  void write(const std::string& text) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }
  std::string dir_;
  std::string path_;
};

TEST_F(UsersFileOnDisk, ReadsAFileOfManyReadsWhole) {
  // Far beyond one read of the old 16 KiB buffer, so the file takes several reads.
  std::string text;
  for (int i = 1; i <= 3000; ++i) text += line("u" + std::to_string(i), kSha512, "1", "1", "/");
  write(text);
  auto users = read_users_file(path_);
  ASSERT_TRUE(users.ok()) << users.error().message;
  ASSERT_EQ(users->size(), 3000U);
  EXPECT_EQ(users->back().name, "u3000");
  EXPECT_EQ(users->back().hash, kSha512);
}

TEST_F(UsersFileOnDisk, CheckUsersFileCountsUsersAndReportsErrorsByLine) {
  write(good_line("alice") + good_line("bob"));
  auto count = check_users_file(path_);
  ASSERT_TRUE(count.ok()) << count.error().message;
  EXPECT_EQ(*count, 2U);
  write(good_line("alice") + "bad line\n");
  auto bad = check_users_file(path_);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().message.starts_with(path_ + ":2: ")) << bad.error().message;
}

}  // namespace
}  // namespace wftpd
