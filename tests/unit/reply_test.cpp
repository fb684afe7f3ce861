#include "unpriv/reply.hpp"
#include "unpriv/ftp_verbs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wftpd {
namespace {

using namespace std::string_literals;

// Counts the line ends a client might act upon: every LF (alone or in CRLF), and every CR that is
// followed by neither LF nor NUL (some clients treat a bare CR as a line end).
int count_line_breaks(std::string_view reply) {
  int breaks = 0;
  for (std::size_t i = 0; i < reply.size(); ++i) {
    if (reply[i] == '\n') ++breaks;
    const bool cr_continues = i + 1 < reply.size() && (reply[i + 1] == '\0' || reply[i + 1] == '\n');
    if (reply[i] == '\r' && !cr_continues) ++breaks;
  }
  return breaks;
}

TEST(Reply, SingleLineForm) {
  EXPECT_EQ(format_reply(226, "Transfer complete."), "226 Transfer complete.\r\n");
  EXPECT_EQ(format_reply(100, ""), "100 \r\n");
  EXPECT_EQ(format_reply(599, "x"), "599 x\r\n");
}

TEST(Reply, FileNameWithNewlineCannotForgeReplyLine) {
  const std::string reply = format_reply(550, "evil\r\n226 Transfer complete.");
  EXPECT_EQ(reply, "550 evil\r\0\0" "226 Transfer complete.\r\n"s);
  EXPECT_EQ(reply.find("\r\n"), reply.size() - 2);
  EXPECT_EQ(reply.find('\n'), reply.size() - 1);
}

TEST(Reply, CarriageReturnIsSentAsCrNul) {
  EXPECT_EQ(format_reply(257, "a\rb"), "257 a\r\0b\r\n"s);
}

TEST(Reply, LineFeedIsSentAsNul) {
  EXPECT_EQ(format_reply(257, "a\nb"), "257 a\0b\r\n"s);
}

TEST(Reply, MultilineForm) {
  const std::vector<std::string> lines = {"Features:", " MDTM", " SIZE", "End"};
  EXPECT_EQ(format_multiline_reply(211, lines), "211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n");
}

TEST(Reply, MultilineMiddleLineStartingWithDigitIsIndented) {
  const std::vector<std::string> lines = {"Status:", "226 fake end", "9 lives", "End"};
  EXPECT_EQ(format_multiline_reply(211, lines), "211-Status:\r\n 226 fake end\r\n 9 lives\r\n211 End\r\n");
}

TEST(Reply, MultilineWithNewlinesInLinesCannotForgeEnd) {
  const std::vector<std::string> lines = {"first\n211 x", "mid\r\n211 y", "last\n211 z"};
  const std::string reply = format_multiline_reply(211, lines);
  EXPECT_EQ(count_line_breaks(reply), 3);
  EXPECT_EQ(reply.rfind("\r\n211 "), reply.find("\r\n211 "));  // exactly one final line
}

TEST(Reply, MultilineWithOneLineIsSingleLine) {
  const std::vector<std::string> lines = {"only"};
  EXPECT_EQ(format_multiline_reply(220, lines), "220 only\r\n");
}

TEST(Reply, MultilineWithNoLinesIsEmptySingleLine) {
  EXPECT_EQ(format_multiline_reply(220, std::span<const std::string>{}), "220 \r\n");
}

TEST(Reply, MultilineWithTwoLines) {
  const std::vector<std::string> lines = {"a", "b"};
  EXPECT_EQ(format_multiline_reply(230, lines), "230-a\r\n230 b\r\n");
}

TEST(Reply, QuotePathnameDoublesQuotes) {
  EXPECT_EQ(quote_pathname("/a \"b\""), "\"/a \"\"b\"\"\"");
  EXPECT_EQ(quote_pathname(""), "\"\"");
  EXPECT_EQ(quote_pathname("/"), "\"/\"");
}

TEST(Reply, QuotedPathnameWithNewlineStaysOneLine) {
  const std::string reply = format_reply(257, quote_pathname("/x\n200 ok") + " created.");
  EXPECT_EQ(count_line_breaks(reply), 1);
  EXPECT_EQ(reply, "257 \"/x\0" "200 ok\" created.\r\n"s);
}

#if !defined(NDEBUG) && GTEST_HAS_DEATH_TEST
TEST(ReplyDeathTest, CodeOutOfRangeIsAProgrammingError) {
  EXPECT_DEATH((void)format_reply(99, "x"), "");
  EXPECT_DEATH((void)format_reply(600, "x"), "");
}
#endif

}  // namespace
}  // namespace wftpd

namespace wftpd {
namespace {

TEST(FeatureReply, EveryFeatureLineStartsWithOneSpace) {
  const std::string reply = feature_reply();
  EXPECT_EQ(reply.rfind("211-", 0), 0u);
  EXPECT_TRUE(reply.ends_with("211 End\r\n"));
  std::size_t start = reply.find("\r\n") + 2;
  int features = 0;
  while (start < reply.size()) {
    const std::size_t end = reply.find("\r\n", start);
    const std::string line = reply.substr(start, end - start);
    if (line != "211 End") {
      EXPECT_EQ(line[0], ' ') << line;
      EXPECT_NE(line[1], ' ') << line;
      ++features;
    }
    start = end + 2;
  }
  EXPECT_GE(features, 4);
}

}  // namespace
}  // namespace wftpd
