#include "unpriv/control_line_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wftpd {
namespace {

using Status = ControlLineReader::Status;

// Drains the reader, rendering events as strings: lines as-is, kTooLong as "<too long>".
std::vector<std::string> drain(ControlLineReader& reader) {
  std::vector<std::string> out;
  for (;;) {
    ControlLineReader::Event event = reader.next();
    if (event.status == Status::kNeedMore) return out;
    out.push_back(event.status == Status::kLine ? event.line : "<too long>");
  }
}

std::vector<std::string> feed_all(ControlLineReader& reader, std::string_view bytes) {
  reader.feed(bytes);
  return drain(reader);
}

// Feeds `bytes` one byte at a time, draining after each; must match feeding at once.
std::vector<std::string> feed_bytewise(ControlLineReader& reader, std::string_view bytes) {
  std::vector<std::string> out;
  for (char c : bytes) {
    reader.feed(std::string_view(&c, 1));
    for (std::string& line : drain(reader)) out.push_back(std::move(line));
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(ControlLineReader, CrlfAndBareLfBothEndLines) {
  ControlLineReader reader;
  EXPECT_EQ(feed_all(reader, "USER a\r\nPASS b\nNOOP\r\n"), (Lines{"USER a", "PASS b", "NOOP"}));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(ControlLineReader, IncompleteLineNeedsMore) {
  ControlLineReader reader;
  reader.feed("USER an");
  EXPECT_EQ(reader.next().status, Status::kNeedMore);
  EXPECT_EQ(reader.buffered(), 7u);
  reader.feed("on\r");
  EXPECT_EQ(reader.next().status, Status::kNeedMore);
  reader.feed("\n");
  ControlLineReader::Event event = reader.next();
  EXPECT_EQ(event.status, Status::kLine);
  EXPECT_EQ(event.line, "USER anon");
}

TEST(ControlLineReader, OnlyTheCrDirectlyBeforeLfIsDropped) {
  ControlLineReader reader;
  EXPECT_EQ(feed_all(reader, "a\rb\r\r\n\r\n\n"), (Lines{"a\rb\r", "", ""}));
}

TEST(ControlLineReader, NulBytesArePassedThrough) {
  ControlLineReader reader;
  EXPECT_EQ(feed_all(reader, std::string("RETR a\0b\r\n", 10)), (Lines{std::string("RETR a\0b", 8)}));
}

TEST(ControlLineReader, TelnetIacIacBecomesOneFfByte) {
  ControlLineReader reader;
  EXPECT_EQ(feed_all(reader, "RETR a\xff\xff" "b\r\n"), (Lines{"RETR a\xff" "b"}));
}

TEST(ControlLineReader, TelnetOptionNegotiationIsRemoved) {
  ControlLineReader reader;
  // IAC WILL 1, IAC WONT 3, IAC DO 24, IAC DONT 31; option bytes that look like text or LF too.
  EXPECT_EQ(feed_all(reader, "NO\xff\xfb\x01O\xff\xfc\x03P\xff\xfd\x18\xff\xfe\x1f\xff\xfd\n\r\n"),
            (Lines{"NOOP"}));
}

TEST(ControlLineReader, TelnetTwoByteCommandsAreRemoved) {
  ControlLineReader reader;
  // IAC IP, IAC DM (the ABOR "synch"), IAC NOP, IAC followed by a plain letter.
  EXPECT_EQ(feed_all(reader, "\xff\xf4\xff\xf2" "AB\xff\xf1OR\xff" "X\r\n"), (Lines{"ABOR"}));
}

TEST(ControlLineReader, TelnetIacFollowedByLfDoesNotEndTheLine) {
  ControlLineReader reader;
  EXPECT_EQ(feed_all(reader, "AB\xff\nCD\r\n"), (Lines{"ABCD"}));
}

TEST(ControlLineReader, TelnetIacSplitAcrossFeedsIsRemoved) {
  const std::string input = "AB\xff\xf4" "C\xff\xfd\x01" "D\xff\xff" "E\r\n";
  ControlLineReader whole;
  const Lines expected = feed_all(whole, input);
  EXPECT_EQ(expected, (Lines{"ABCD\xff" "E"}));
  ControlLineReader bytewise;
  EXPECT_EQ(feed_bytewise(bytewise, input), expected);
}

TEST(ControlLineReader, EverySplitPointGivesTheSameLines) {
  const std::string input = "USER x\r\n\xff\xf4\xff\xf2" "ABOR\r\nA\xff\xff\xff\xfb\x05Z\nlast";
  ControlLineReader reference;
  const Lines expected = feed_all(reference, input);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    ControlLineReader reader;
    Lines got = feed_all(reader, std::string_view(input).substr(0, split));
    for (std::string& line : feed_all(reader, std::string_view(input).substr(split))) got.push_back(line);
    EXPECT_EQ(got, expected) << "split at " << split;
  }
}

TEST(ControlLineReader, LineOfExactlyMaxLengthIsAccepted) {
  ControlLineReader reader(10);
  EXPECT_EQ(feed_all(reader, std::string(10, 'a') + "\r\n" + std::string(10, 'b') + "\n"),
            (Lines{std::string(10, 'a'), std::string(10, 'b')}));
}

TEST(ControlLineReader, OverlongLineIsReportedOnceAndDiscarded) {
  ControlLineReader reader(10);
  EXPECT_EQ(feed_all(reader, std::string(11, 'a') + "\r\nNOOP\r\n"), (Lines{"<too long>", "NOOP"}));
}

TEST(ControlLineReader, OverlongLineFedInPiecesIsReportedOnce) {
  ControlLineReader reader(10);
  Lines got;
  for (int i = 0; i < 100; ++i) {
    for (std::string& line : feed_all(reader, "0123456789")) got.push_back(line);
  }
  for (std::string& line : feed_all(reader, "tail\r\nPWD\r\n")) got.push_back(line);
  EXPECT_EQ(got, (Lines{"<too long>", "PWD"}));
}

TEST(ControlLineReader, OverlongLineEndingInCrIsTooLong) {
  ControlLineReader reader(4);
  EXPECT_EQ(feed_all(reader, "abcd\r\rx\nok\n"), (Lines{"<too long>", "ok"}));
}

TEST(ControlLineReader, TelnetNoOpFloodIsBoundedAsTooLong) {
  // Decodes to an empty line, but the raw bytes must not pile up without limit.
  ControlLineReader reader(16);
  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += "\xff\xf1";
  reader.feed(flood);
  EXPECT_EQ(drain(reader), (Lines{"<too long>"}));
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(feed_all(reader, "\xff\xf1\nNOOP\n"), (Lines{"NOOP"}));
}

TEST(ControlLineReader, DroppedTelnetBytesCountTowardsRawLimit) {
  ControlLineReader reader(4);  // raw limit 2 * 4 + 2 = 10 bytes before the LF
  ASSERT_EQ(reader.max_raw_line(), 10u);
  const std::string at_limit = "ab\xff\xfd\x01\xff\xf1\xff\xf1" "cd";  // 11 raw bytes
  EXPECT_EQ(feed_all(reader, at_limit.substr(0, 10) + "\n"), (Lines{"abc"}));
  ControlLineReader whole(4);
  EXPECT_EQ(feed_all(whole, at_limit + "\nok\n"), (Lines{"<too long>", "ok"}));
  ControlLineReader bytewise(4);
  EXPECT_EQ(feed_bytewise(bytewise, at_limit + "\nok\n"), (Lines{"<too long>", "ok"}));
}

TEST(ControlLineReader, LineOfEscapedFfBytesUpToMaxIsAccepted) {
  ControlLineReader reader(8);
  std::string raw;
  for (int i = 0; i < 8; ++i) raw += "\xff\xff";
  EXPECT_EQ(feed_all(reader, raw + "\r\n"), (Lines{std::string(8, '\xff')}));
}

TEST(ControlLineReader, MegabyteWithoutLfKeepsMemoryBounded) {
  ControlLineReader reader(4096);
  const std::string chunk(4000, 'x');
  Lines got;
  for (std::size_t sent = 0; sent < (1u << 20); sent += chunk.size()) {
    reader.feed(chunk);
    EXPECT_LE(reader.buffered(), reader.max_raw_line());
    for (std::string& line : drain(reader)) got.push_back(line);
    EXPECT_LE(reader.buffered(), reader.max_raw_line());
  }
  for (std::string& line : feed_all(reader, "\r\nQUIT\r\n")) got.push_back(line);
  EXPECT_EQ(got, (Lines{"<too long>", "QUIT"}));
}

TEST(ControlLineReader, HugeSingleFeedIsCappedAndReportedAsTooLong) {
  ControlLineReader reader(100);
  reader.feed("USER a\r\n" + std::string(1u << 20, 'y'));
  EXPECT_LE(reader.buffered(), reader.max_buffered());
  EXPECT_EQ(reader.max_buffered(), 2 * 100 + 2 + ControlLineReader::kFeedAllowance);
  EXPECT_EQ(drain(reader), (Lines{"USER a", "<too long>"}));
  EXPECT_EQ(feed_all(reader, "yyy\r\nPWD\r\n"), (Lines{"PWD"}));
}

TEST(ControlLineReader, OverflowOfManyShortLinesDropsExcessAndReportsTooLong) {
  ControlLineReader reader(10);
  std::string many;
  while (many.size() < reader.max_buffered() + 1000) many += "NOOP\r\n";
  reader.feed(many);
  EXPECT_EQ(reader.buffered(), reader.max_buffered());
  reader.feed("more bytes are dropped\n");  // still overflowed: dropped entirely
  EXPECT_EQ(reader.buffered(), reader.max_buffered());
  const Lines got = drain(reader);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "<too long>");
  for (std::size_t i = 0; i + 1 < got.size(); ++i) EXPECT_EQ(got[i], "NOOP");
  // The cut line is discarded up to the next LF that arrives; then lines flow again.
  EXPECT_EQ(feed_all(reader, "OOP\r\nSYST\r\n"), (Lines{"SYST"}));
}

TEST(ControlLineReader, OverflowWhileAlreadyDiscardingReportsOnlyOnce) {
  ControlLineReader reader(10);
  reader.feed(std::string(20, 'a'));
  EXPECT_EQ(drain(reader), (Lines{"<too long>"}));
  reader.feed(std::string(1u << 20, 'a'));
  EXPECT_EQ(drain(reader), Lines{});
  EXPECT_EQ(feed_all(reader, "a\nok\n"), (Lines{"ok"}));
}

TEST(ControlLineReader, TakePendingReturnsUnconsumedRawBytes) {
  ControlLineReader reader;
  reader.feed("AUTH TLS\r\n\x16\x03\x01\xff\xff");
  ControlLineReader::Event event = reader.next();
  ASSERT_EQ(event.status, Status::kLine);
  EXPECT_EQ(event.line, "AUTH TLS");
  EXPECT_EQ(reader.take_pending(), "\x16\x03\x01\xff\xff");
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.take_pending(), "");
}

TEST(ControlLineReader, TakePendingMidLineLetsANewReaderContinueIdentically) {
  const std::string input = "PASS se\xff\xff" "cret\r\nNOOP\r\n";
  ControlLineReader reference;
  const Lines expected = feed_all(reference, input);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    ControlLineReader first;
    first.feed(std::string_view(input).substr(0, split));
    EXPECT_EQ(first.next().status, split >= 15 ? Status::kLine : Status::kNeedMore);
    // Hand over after at most one consumed line.
    Lines got;
    if (split >= 15) got.push_back("PASS se\xff" "cret");
    ControlLineReader second;
    second.feed(first.take_pending());
    for (std::string& line : feed_all(second, std::string_view(input).substr(split))) got.push_back(line);
    EXPECT_EQ(got, expected) << "split at " << split;
  }
}

TEST(ControlLineReader, ReaderIsReusableAfterTakePending) {
  ControlLineReader reader(4);
  reader.feed("abcdefgh");
  EXPECT_EQ(drain(reader), (Lines{"<too long>"}));
  (void)reader.take_pending();
  EXPECT_EQ(feed_all(reader, "ok\r\n"), (Lines{"ok"}));
}

TEST(ControlLineReader, EmptyFeedChangesNothing) {
  ControlLineReader reader;
  reader.feed("");
  EXPECT_EQ(reader.next().status, Status::kNeedMore);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(ControlLineReader, AllByteValuesNeverCrashAndStayBounded) {
  ControlLineReader reader(32);
  std::string all;
  for (int round = 0; round < 50; ++round) {
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>((b * 37 + round) & 0xff));
  }
  for (std::size_t i = 0; i < all.size(); i += 7) {
    reader.feed(std::string_view(all).substr(i, 7));
    for (const std::string& line : drain(reader)) EXPECT_LE(line.size(), 32u);
    EXPECT_LE(reader.buffered(), reader.max_raw_line());
  }
}

}  // namespace
}  // namespace wftpd
