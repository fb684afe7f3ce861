#include "unpriv/ftp_command.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

FtpCommand parse_ok(std::string_view line) {
  Result<FtpCommand> result = parse_command(line);
  EXPECT_TRUE(result.ok()) << "line: " << std::string(line);
  return result.ok() ? *result : FtpCommand{};
}

bool rejected(std::string_view line) { return !parse_command(line).ok(); }

TEST(FtpCommand, VerbWithoutArgument) {
  const FtpCommand cmd = parse_ok("NOOP");
  EXPECT_EQ(cmd.verb, "NOOP");
  EXPECT_EQ(cmd.argument, "");
  EXPECT_FALSE(cmd.has_argument);
}

TEST(FtpCommand, VerbIsUppercased) {
  EXPECT_EQ(parse_ok("user anonymous").verb, "USER");
  EXPECT_EQ(parse_ok("pAsV").verb, "PASV");
}

TEST(FtpCommand, ArgumentIsRestOfLineByteExact) {
  const FtpCommand cmd = parse_ok("STOR My File.txt  ");
  EXPECT_EQ(cmd.verb, "STOR");
  EXPECT_EQ(cmd.argument, "My File.txt  ");
  EXPECT_TRUE(cmd.has_argument);
}

TEST(FtpCommand, ArgumentCaseIsKept) {
  EXPECT_EQ(parse_ok("cwd /Pub/ÄÖ").argument, "/Pub/ÄÖ");
}

TEST(FtpCommand, MultipleSpacesBeforeArgumentAreSkipped) {
  EXPECT_EQ(parse_ok("RETR    a b").argument, "a b");
}

TEST(FtpCommand, OnlySpacesAfterVerbMeansNoArgument) {
  const FtpCommand cmd = parse_ok("LIST   ");
  EXPECT_EQ(cmd.verb, "LIST");
  EXPECT_FALSE(cmd.has_argument);
  EXPECT_EQ(cmd.argument, "");
}

TEST(FtpCommand, ArgumentMayContainCarriageReturnAndHighBytes) {
  EXPECT_EQ(parse_ok("DELE a\rb\xff").argument, "a\rb\xff");
}

TEST(FtpCommand, EmptyLineIsRejected) { EXPECT_TRUE(rejected("")); }

TEST(FtpCommand, LeadingSpaceIsRejected) { EXPECT_TRUE(rejected(" USER a")); }

TEST(FtpCommand, VerbWithDigitIsRejected) {
  EXPECT_TRUE(rejected("US3R x"));
  EXPECT_TRUE(rejected("3USER"));
}

TEST(FtpCommand, BinaryJunkIsRejected) {
  EXPECT_TRUE(rejected("\x16\x03\x01\x02"));
  EXPECT_TRUE(rejected("\xff\xf4"));
  EXPECT_TRUE(rejected("\xc3\x84" "BOR"));  // non-ASCII letter
}

TEST(FtpCommand, VerbFollowedByNonSpaceIsRejected) {
  EXPECT_TRUE(rejected("USER\tanon"));
  EXPECT_TRUE(rejected("GET/"));
  EXPECT_TRUE(rejected("RETR\r"));
}

TEST(FtpCommand, VerbOfEightLettersIsAcceptedNineRejected) {
  EXPECT_EQ(parse_ok("ABCDEFGH x").verb, "ABCDEFGH");
  EXPECT_TRUE(rejected("ABCDEFGHI"));
  EXPECT_TRUE(rejected("ABCDEFGHI x"));
}

TEST(FtpCommand, NulInArgumentIsRejected) {
  EXPECT_TRUE(rejected(std::string_view("RETR a\0b", 8)));
  EXPECT_TRUE(rejected(std::string_view("RETR \0", 6)));
}

TEST(FtpCommand, NulDirectlyAfterVerbIsRejected) {
  EXPECT_TRUE(rejected(std::string_view("NOOP\0", 5)));
}

TEST(FtpCommand, HttpRequestLineParsesToAnUpperCaseVerb) {
  // "GET / HTTP/1.1" is syntactically an FTP line; the pre-auth engine recognises the verb
  // (is_foreign_protocol_verb, tested in preauth_tls_test.cpp) and closes the connection.
  EXPECT_EQ(parse_ok("GET / HTTP/1.1").verb, "GET");
  EXPECT_EQ(parse_ok("post /x").verb, "POST");
}

TEST(FtpCommand, EveryTwoByteLineParsesWithoutCrashing) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char line[2] = {static_cast<char>(a), static_cast<char>(b)};
      Result<FtpCommand> result = parse_command(std::string_view(line, 2));
      if (result.ok()) {
        EXPECT_FALSE(result->verb.empty());
        EXPECT_LE(result->verb.size(), kMaxVerbLength);
      }
    }
  }
}

}  // namespace
}  // namespace wftpd
