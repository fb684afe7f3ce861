// SIZE and REST in TYPE A: the octet counts of a file's TYPE A transfer representation, and where
// a restart marker lands in the file, must agree with what AsciiEncoder sends.
#include "unpriv/ascii_transfer.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <string>

#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

std::string encoded(std::string_view file) {
  AsciiEncoder encoder;
  return encoder.encode(file);
}

// Feeds `file` to `counter` in pieces of `piece` bytes, as count_ascii_octets does with reads.
void feed_in_pieces(AsciiOctetCounter& counter, std::string_view file, std::size_t piece) {
  for (std::size_t at = 0; at < file.size() && !counter.reached(); at += piece) {
    counter.feed(file.substr(at, piece));
  }
}

// Text made of 'a', CR and LF in random order: every line-end case (bare LF, CRLF, lone CR, CR
// CR LF, LF LF) turns up.
std::string random_text(std::mt19937& random, std::size_t size, std::string_view alphabet) {
  std::string text;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (std::size_t i = 0; i < size; ++i) text.push_back(alphabet[pick(random)]);
  return text;
}

TEST(AsciiOctetCounter, BareLfCountsTwoOctetsAndCrlfCountsTwo) {
  AsciiOctetCounter counter;
  EXPECT_EQ(counter.feed("a\nb\r\nc\n"), 7u);
  EXPECT_EQ(counter.octets(), 9u);  // "a\r\nb\r\nc\r\n"
  EXPECT_EQ(counter.file_bytes(), 7u);
  EXPECT_FALSE(counter.reached());
}

TEST(AsciiOctetCounter, CrlfSplitAcrossChunksCountsOnce) {
  AsciiOctetCounter counter;
  counter.feed("a\r");
  counter.feed("\n");
  EXPECT_EQ(counter.octets(), 3u);
}

TEST(AsciiOctetCounter, CountAgreesWithEncoderWhateverTheChunking) {
  std::mt19937 random(1234);
  for (int round = 0; round < 200; ++round) {
    const std::string file = random_text(random, round % 50, "a\r\n");
    for (std::size_t piece = 1; piece <= 7; ++piece) {
      AsciiOctetCounter counter;
      feed_in_pieces(counter, file, piece);
      EXPECT_EQ(counter.octets(), encoded(file).size()) << file;
    }
  }
}

TEST(AsciiOctetCounter, ResumingDownloadAtEveryMarkerSendsTheRestOfTheEncodedStream) {
  std::mt19937 random(99);
  for (int round = 0; round < 100; ++round) {
    const std::string file = random_text(random, 30, "a\r\n\n");
    const std::string wire = encoded(file);
    for (std::size_t marker = 0; marker <= wire.size(); ++marker) {
      for (std::size_t piece : {std::size_t{1}, std::size_t{4}, file.size() + 1}) {
        AsciiOctetCounter counter(marker);
        feed_in_pieces(counter, file, piece);
        ASSERT_TRUE(counter.reached()) << marker;
        AsciiEncoder resumed(counter.after_cr());
        EXPECT_EQ(resumed.encode(std::string_view(file).substr(counter.file_bytes())),
                  wire.substr(marker))
            << "file " << testing::PrintToString(file) << " marker " << marker;
      }
    }
  }
}

TEST(AsciiOctetCounter, LongDenseTextResumesAtEveryMarkerWhateverTheChunking) {
  // Long enough for the word-at-a-time counting, with CRs and LFs at every word boundary.
  std::mt19937 random(2024);
  const std::string file = random_text(random, 1500, "a\r\n\n");
  const std::string wire = encoded(file);
  for (std::size_t marker = 0; marker <= wire.size(); ++marker) {
    for (std::size_t piece : {std::size_t{13}, std::size_t{64}, file.size()}) {
      AsciiOctetCounter counter(marker);
      feed_in_pieces(counter, file, piece);
      ASSERT_TRUE(counter.reached()) << marker;
      AsciiEncoder resumed(counter.after_cr());
      ASSERT_EQ(resumed.encode(std::string_view(file).substr(counter.file_bytes())),
                wire.substr(marker))
          << "marker " << marker << " piece " << piece;
    }
  }
}

TEST(AsciiOctetCounter, MarkerBetweenInsertedCrAndLfStopsBeforeTheLf) {
  AsciiOctetCounter counter(2);  // "a\r|\n"
  EXPECT_EQ(counter.feed("a\nb"), 1u);
  EXPECT_TRUE(counter.reached());
  EXPECT_TRUE(counter.inside_line_end());
  EXPECT_TRUE(counter.after_cr());
  EXPECT_EQ(counter.file_bytes(), 1u);
  EXPECT_EQ(counter.feed("\nb"), 0u);  // stopped: nothing more is counted
}

TEST(AsciiOctetCounter, MarkerAfterTheFilesOwnCrIsNotInsideALineEnd) {
  AsciiOctetCounter counter(2);  // "a\r|\n": the CR is the file's
  counter.feed("a\r\nb");
  EXPECT_TRUE(counter.reached());
  EXPECT_FALSE(counter.inside_line_end());
  EXPECT_TRUE(counter.after_cr());
  EXPECT_EQ(counter.file_bytes(), 2u);
}

TEST(AsciiOctetCounter, MarkerPastTheEndIsNotReached) {
  AsciiOctetCounter counter(10);
  counter.feed("a\nb\n");  // 6 octets
  EXPECT_FALSE(counter.reached());
  EXPECT_EQ(counter.octets(), 6u);
}

TEST(AsciiOctetCounter, ResumedUploadOfUnixTextRebuildsTheFileAtEveryMarker) {
  // STOR after REST in TYPE A: the stored file is cut where the marker lands and the rest of
  // the client's stream is decoded after it (with the CR already received when the marker fell
  // inside a line end).
  std::mt19937 random(7);
  for (int round = 0; round < 100; ++round) {
    const std::string file = random_text(random, 25, "ab\n");
    const std::string wire = encoded(file);
    for (std::size_t marker = 0; marker <= wire.size(); ++marker) {
      AsciiOctetCounter counter(marker);
      counter.feed(file);
      ASSERT_TRUE(counter.reached());
      AsciiDecoder decoder(counter.inside_line_end());
      std::string rebuilt = file.substr(0, counter.file_bytes());
      rebuilt += decoder.decode(std::string_view(wire).substr(marker));
      rebuilt += decoder.finish();
      EXPECT_EQ(rebuilt, file) << "marker " << marker;
    }
  }
}

UniqueFd file_holding(const std::string& content) {
  UniqueFd fd(::memfd_create("ascii-octets", MFD_CLOEXEC));
  EXPECT_TRUE(fd);
  EXPECT_EQ(::write(fd.get(), content.data(), content.size()), static_cast<ssize_t>(content.size()));
  return fd;
}

TEST(AsciiOctetCounter, FileScanCountsAcrossReadChunksFromTheStart) {
  std::mt19937 random(5);
  // Over 256 KiB: several reads, with line ends split between them.
  const std::string content = random_text(random, (600u << 10) + 3, "abc\r\n\n");
  UniqueFd fd = file_holding(content);  // its offset is at the end: the scan must rewind
  AsciiOctetCounter counter;
  ASSERT_TRUE(count_ascii_octets(fd.get(), content.size(), counter));
  EXPECT_EQ(counter.octets(), encoded(content).size());
  EXPECT_EQ(counter.file_bytes(), content.size());
}

TEST(AsciiOctetCounter, FileScanReadsNoMoreThanTheSizeItIsGiven) {
  UniqueFd fd = file_holding("a\nb\nc\n");
  AsciiOctetCounter counter;
  ASSERT_TRUE(count_ascii_octets(fd.get(), 4, counter));
  EXPECT_EQ(counter.file_bytes(), 4u);
  EXPECT_EQ(counter.octets(), 6u);
}

TEST(AsciiOctetCounter, FileScanStopsAtTheMarker) {
  UniqueFd fd = file_holding(std::string(1u << 20, 'x') + "\n");
  AsciiOctetCounter counter(1u << 20 | 1u);
  ASSERT_TRUE(count_ascii_octets(fd.get(), (1u << 20) + 1, counter));
  EXPECT_TRUE(counter.reached());
  EXPECT_TRUE(counter.inside_line_end());
  EXPECT_EQ(counter.file_bytes(), 1u << 20);
}

TEST(AsciiOctetCounter, FileScanReportsAReadError) {
  UniqueFd fd(::open("/", O_PATH | O_CLOEXEC));  // an O_PATH descriptor cannot be read
  AsciiOctetCounter counter;
  EXPECT_FALSE(count_ascii_octets(fd.get(), 10, counter));
}

}  // namespace
}  // namespace wftpd
