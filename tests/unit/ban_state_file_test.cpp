#include "priv/ban_state_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace wftpd {
namespace {

TEST(BanStateFile, EntriesRoundTripWithWallClockEnds) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  const std::vector<BanList::Entry> entries = {
      {"198.51.100.0/24", BanList::Origin::kManual, std::nullopt},
      {"192.0.2.9", BanList::Origin::kAutomatic, std::chrono::seconds(90)},
      {"2001:db8:1:2::/64", BanList::Origin::kAutomatic, std::chrono::milliseconds(1500)}};
  const std::string text = format_ban_state(entries, now);
  auto parsed = parse_ban_state(text, 1'800'000'000);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].prefix, "198.51.100.0/24");
  EXPECT_FALSE((*parsed)[0].until.has_value());
  EXPECT_EQ((*parsed)[1].until, 1'800'000'090);
  EXPECT_EQ((*parsed)[2].until, 1'800'000'002);  // rounded up: a ban never ends early
  EXPECT_EQ((*parsed)[2].origin, BanList::Origin::kAutomatic);
}

TEST(BanStateFile, BansAlreadyOverAreSkipped) {
  auto parsed = parse_ban_state("manual 192.0.2.1 until 100\nmanual 192.0.2.2 until 300\n", 200);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].prefix, "192.0.2.2");
}

TEST(BanStateFile, MalformedLinesAreErrorsNamingTheLine) {
  for (const char* text : {"banned 192.0.2.1 forever\n", "manual 192.0.2.1/24 forever\n",
                           "manual 192.0.2.1 until soon\n", "manual 192.0.2.1 forever extra\n",
                           "automatic 192.0.2.1 forever\n", "manual 192.0.2.1\n"}) {
    auto parsed = parse_ban_state(std::string("# comment\n") + text, 0);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().message.find("line 2"), std::string::npos) << parsed.error().message;
  }
}

TEST(BanStateFile, WrittenAtomicallyOwnerOnlyAndReadBackOnlyWhenOnlyRootCanWriteIt) {
  char directory[] = "/tmp/wftpd-banstate-XXXXXX";
  ASSERT_NE(::mkdtemp(directory), nullptr);
  const std::string path = std::string(directory) + "/state/bans";
  ASSERT_TRUE(write_ban_state(path, "manual 192.0.2.1 forever\n").ok());
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = read_ban_state(path);
  if (::geteuid() == 0) {
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_EQ(*text, "manual 192.0.2.1 forever\n");
    ASSERT_EQ(::chmod(path.c_str(), 0620), 0);
    EXPECT_FALSE(read_ban_state(path).ok());
  }
  EXPECT_TRUE(read_ban_state(std::string(directory) + "/none").ok());  // none yet: empty
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace wftpd
