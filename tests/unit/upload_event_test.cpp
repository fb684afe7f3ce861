// The upload event's JSON text (priv/upload_event.hpp), with hostile file names.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "priv/upload_event.hpp"

namespace wftpd {
namespace {

constexpr timespec kTime{1796057678, 123'000'000};  // 2026-11-30T16:54:38.123Z

UploadEvent sample_event(std::string_view path) {
  UploadEvent event;
  event.user = "demo";
  event.client = "192.0.2.1";
  event.root = "/srv/ftp/demo";
  event.path = path;
  event.bytes = 1234;
  return event;
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

TEST(UploadEvent, CompleteUploadBecomesOneJsonObjectWithEveryField) {
  auto text = format_upload_event(sample_event("/in/a.txt"), 42, kTime);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "{\"event\":\"upload\",\"session\":42,\"user\":\"demo\",\"client\":\"192.0.2.1\","
            "\"path\":\"/in/a.txt\",\"disk_path\":\"/srv/ftp/demo/in/a.txt\",\"disk_path_hex\":\"" +
                hex("/srv/ftp/demo/in/a.txt") +
                "\",\"bytes\":1234,\"type\":\"binary\",\"time\":\"2026-11-30T16:54:38.123Z\","
                "\"unix_time\":1796057678}");
}

TEST(UploadEvent, AsciiUploadSaysSo) {
  UploadEvent event = sample_event("/a.txt");
  event.ascii = true;
  auto text = format_upload_event(event, 1, kTime);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"type\":\"ascii\""), std::string::npos);
}

TEST(UploadEvent, DiskPathIsTheRootJoinedWithThePath) {
  EXPECT_EQ(*upload_disk_path("/srv/ftp/demo", "/a/b.bin"), "/srv/ftp/demo/a/b.bin");
  EXPECT_EQ(*upload_disk_path("/", "/a/b.bin"), "/a/b.bin");
  EXPECT_EQ(*upload_disk_path("/srv/ftp", "/incoming/x"), "/srv/ftp/incoming/x");
}

TEST(UploadEvent, PathThatIsNotNormalisedGetsNoEvent) {
  // "/" would name the root itself (found by fuzz_monitor_dispatch).
  const std::string_view paths[] = {"/", "/a/../../etc/shadow", "/..", "/../x", "/a/..", "/./a",
                                     "/a/.", "/a//b", "//a", "/a/", "a", "",
                                     std::string_view("/a\0b", 4)};
  for (const std::string_view path : paths) {
    auto joined = upload_disk_path("/srv/ftp/demo", path);
    ASSERT_FALSE(joined.ok()) << path;
    EXPECT_EQ(joined.error(), UploadEventError::kPathNotNormalised) << path;
    auto text = format_upload_event(sample_event(path), 1, kTime);
    ASSERT_FALSE(text.ok()) << path;
    EXPECT_EQ(text.error(), UploadEventError::kPathNotNormalised) << path;
  }
  // Dots inside a name are just a name.
  EXPECT_TRUE(upload_disk_path("/srv", "/..a/.b/c..").ok());
}

TEST(UploadEvent, HostileFileNameIsEscapedAndItsExactBytesAreInTheHexField) {
  const std::string name = std::string("/new\nline \"quoted\" back\\slash tab\t esc\x1b del\x7f "
                                       "bad\xff\xfe utf8-\xc3\xa9") +
                           "\",\"user\":\"root";
  auto text = format_upload_event(sample_event(name), 7, kTime);
  ASSERT_TRUE(text.ok());
  for (const char c : *text) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << "raw control byte in " << *text;
  }
  EXPECT_NE(text->find("\"path\":\"/new\\u000aline \\\"quoted\\\" back\\\\slash tab\\u0009 esc"
                       "\\u001b del\\u007f bad\\ufffd\\ufffd utf8-\xc3\xa9\\\",\\\"user\\\":\\\"root\""),
            std::string::npos)
      << *text;
  // The injected "user" stays inside the path's string: the only user field is the real one.
  EXPECT_EQ(text->find("\"user\":\""), text->rfind("\"user\":\""));
  EXPECT_NE(text->find("\"user\":\"demo\""), std::string::npos);
  EXPECT_NE(text->find("\"disk_path_hex\":\"" + hex("/srv/ftp/demo" + name) + "\""), std::string::npos);
}

TEST(UploadEvent, HostileUserAndClientAreEscaped) {
  UploadEvent event = sample_event("/a");
  event.user = "eve\"}\n";
  event.client = "::1\r";
  auto text = format_upload_event(event, 1, kTime);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"user\":\"eve\\\"}\\u000a\""), std::string::npos) << *text;
  EXPECT_NE(text->find("\"client\":\"::1\\u000d\""), std::string::npos) << *text;
}

TEST(UploadEvent, LongestHostileFieldsStayWithinTheBound) {
  // Every byte escaped to its longest form: control bytes (\u00XX) and invalid UTF-8 (\ufffd).
  std::string path = "/";
  while (path.size() < kMaxUploadEventPath) path += (path.size() % 2) ? '\x01' : '\xff';
  std::string root = "/";
  while (root.size() < kMaxUploadEventRoot) root += '\xff';
  UploadEvent event = sample_event(path);
  event.root = root;
  const std::string user(kMaxUploadEventUser, '\x1f');
  const std::string client(kMaxUploadEventClient, '\x1f');
  event.user = user;
  event.client = client;
  event.bytes = 0x7fffffffffffffffull;
  auto text = format_upload_event(event, UINT64_MAX, timespec{253402300799, 999'999'999});
  ASSERT_TRUE(text.ok());
  EXPECT_LE(text->size(), kMaxUploadEventBytes);
  EXPECT_GT(text->size(), kMaxUploadEventBytes - 1024);  // the bound is tight, not a guess
  EXPECT_EQ(kMaxUploadEventBytes, 92544u);  // the figure README.md and SECURITY.md give
}

TEST(UploadEvent, FieldLongerThanTheProtocolAllowsGetsNoEvent) {
  const std::string long_path = "/" + std::string(kMaxUploadEventPath, 'a');
  auto text = format_upload_event(sample_event(long_path), 1, kTime);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error(), UploadEventError::kFieldTooLong);
  UploadEvent event = sample_event("/a");
  const std::string long_user(kMaxUploadEventUser + 1, 'u');
  event.user = long_user;
  text = format_upload_event(event, 1, kTime);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error(), UploadEventError::kFieldTooLong);
}

TEST(UploadEvent, ClockBefore1970IsSentAsZero) {
  auto text = format_upload_event(sample_event("/a"), 1, timespec{-5, 0});
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"unix_time\":0}"), std::string::npos) << *text;
}

}  // namespace
}  // namespace wftpd
