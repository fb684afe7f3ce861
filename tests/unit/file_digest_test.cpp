// HASH's digests against the published test vectors (RFC 1321 for MD5, FIPS 180 examples for
// SHA-1, SHA-256 and SHA-512), the names the draft uses, and reading a range of a file.
#include "unpriv/file_digest.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

struct Vector {
  DigestAlgorithm algorithm;
  std::string_view message;
  std::string_view hex;
};

constexpr std::string_view kTwoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

constexpr Vector kVectors[] = {
    {DigestAlgorithm::kMd5, "", "d41d8cd98f00b204e9800998ecf8427e"},
    {DigestAlgorithm::kMd5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {DigestAlgorithm::kSha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {DigestAlgorithm::kSha1, kTwoBlocks, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {DigestAlgorithm::kSha256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {DigestAlgorithm::kSha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {DigestAlgorithm::kSha256, kTwoBlocks,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {DigestAlgorithm::kSha512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
};

TEST(FileDigest, MatchesThePublishedTestVectors) {
  for (const Vector& vector : kVectors) {
    EXPECT_EQ(digest_hex(vector.algorithm, vector.message), vector.hex)
        << digest_name(vector.algorithm) << " of '" << vector.message << "'";
  }
}

TEST(FileDigest, UpdatesInPiecesGiveTheDigestOfTheWhole) {
  // FIPS 180-2 appendix B.3: one million 'a', fed in uneven pieces.
  const std::string million(1000000, 'a');
  FileDigest digest(DigestAlgorithm::kSha256);
  for (std::size_t at = 0, piece = 1; at < million.size(); at += piece, piece = piece * 3 % 9973 + 1) {
    digest.update(std::as_bytes(std::span(million.data() + at, std::min(piece, million.size() - at))));
  }
  EXPECT_EQ(digest.finish_hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FileDigest, NamesAreTheIanaSpellingsAndParseInAnyCase) {
  EXPECT_EQ(digest_name(DigestAlgorithm::kSha256), "SHA-256");
  EXPECT_EQ(digest_name(DigestAlgorithm::kSha512), "SHA-512");
  EXPECT_EQ(digest_name(DigestAlgorithm::kSha1), "SHA-1");
  EXPECT_EQ(digest_name(DigestAlgorithm::kMd5), "MD5");
  EXPECT_EQ(parse_digest_name("sha-512"), DigestAlgorithm::kSha512);
  EXPECT_EQ(parse_digest_name("Md5"), DigestAlgorithm::kMd5);
  EXPECT_EQ(parse_digest_name("SHA-1"), DigestAlgorithm::kSha1);
  using namespace std::string_view_literals;
  for (const std::string_view unknown : {""sv, "SHA256"sv, "SHA-224"sv, "CRC32"sv, "SHA-1 "sv, "MD5\0"sv}) {
    EXPECT_FALSE(parse_digest_name(unknown)) << unknown;
  }
}

class DigestFileRange : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3 * 1024 * 1024 + 11; ++i) content_ += static_cast<char>((i * 7919) >> 5);
    file_ = UniqueFd(::memfd_create("digest-range", MFD_CLOEXEC));
    ASSERT_TRUE(file_);
    ASSERT_EQ(::write(file_.get(), content_.data(), content_.size()),
              static_cast<ssize_t>(content_.size()));
  }
  std::string content_;
  UniqueFd file_;
};

TEST_F(DigestFileRange, ReadsExactlyTheRangeAskedFor) {
  int checks = 0;
  const auto never = [&checks] { ++checks; return false; };
  for (const auto& [offset, length] : {std::pair<std::uint64_t, std::uint64_t>{0, 0}, {0, 1},
                                      {5, 300000}, {1, content_.size() - 1}, {0, content_.size()}}) {
    FileDigest digest(DigestAlgorithm::kSha1);
    const DigestRead read = digest_file_range(file_.get(), offset, length, digest, never);
    EXPECT_EQ(read.result, DigestReadResult::kComplete);
    EXPECT_EQ(read.bytes, length);
    EXPECT_EQ(digest.finish_hex(),
              digest_hex(DigestAlgorithm::kSha1, std::string_view(content_).substr(offset, length)));
  }
  // Once before reading and about once a MiB: 3 MiB + 11 bytes asks 1 + 3 times.
  checks = 0;
  FileDigest digest(DigestAlgorithm::kMd5);
  (void)digest_file_range(file_.get(), 0, content_.size(), digest, never);
  EXPECT_EQ(checks, 4);
}

TEST_F(DigestFileRange, StopsWhenAbortIsRequested) {
  int checks = 0;
  FileDigest digest(DigestAlgorithm::kSha256);
  const DigestRead read = digest_file_range(file_.get(), 0, content_.size(), digest,
                                            [&checks] { return ++checks == 2; });
  EXPECT_EQ(read.result, DigestReadResult::kAborted);
  EXPECT_EQ(read.bytes, 1u << 20);
  FileDigest at_once(DigestAlgorithm::kSha256);
  EXPECT_EQ(digest_file_range(file_.get(), 0, 10, at_once, [] { return true; }).bytes, 0u);
}

TEST_F(DigestFileRange, ReportsAFileThatEndsEarly) {
  FileDigest digest(DigestAlgorithm::kSha512);
  const DigestRead read = digest_file_range(file_.get(), 100, content_.size(), digest,
                                            [] { return false; });
  EXPECT_EQ(read.result, DigestReadResult::kShrank);
  EXPECT_EQ(read.bytes, content_.size() - 100);
  FileDigest failing(DigestAlgorithm::kSha512);
  const DigestRead bad = digest_file_range(-1, 0, 10, failing, [] { return false; });
  EXPECT_EQ(bad.result, DigestReadResult::kFailed);
  EXPECT_EQ(bad.error_number, EBADF);
}

}  // namespace
}  // namespace wftpd
