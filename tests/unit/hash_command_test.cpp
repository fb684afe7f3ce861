// HASH, OPTS HASH and RANG without I/O: arguments, the bytes a HASH covers, its reply, FEAT's
// list, and the session's hashing allowance.
#include "unpriv/hash_command.hpp"

#include <gtest/gtest.h>

#include "unpriv/ftp_verbs.hpp"

namespace wftpd {
namespace {

TEST(RangArgument, TwoInclusiveOffsetsSelectARange) {
  auto parsed = parse_rang_argument("0 49");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->range, (OctetRange{0, 49}));
  parsed = parse_rang_argument("7 7");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->range, (OctetRange{7, 7}));
  parsed = parse_rang_argument("9223372036854775806 9223372036854775807");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->range->last, 9223372036854775807u);
}

TEST(RangArgument, OneZeroResetsToTheWholeFile) {
  const auto parsed = parse_rang_argument("1 0");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->range);
}

TEST(RangArgument, AStartAfterTheEndIsRefused) {
  for (const std::string_view argument : {"2 1", "10 0", "5 4"}) {
    const auto parsed = parse_rang_argument(argument);
    ASSERT_FALSE(parsed) << argument;
    EXPECT_EQ(parsed.error(), RangeError::kStartAfterEnd) << argument;
  }
}

TEST(RangArgument, AnythingButTwoDecimalOffsetsIsMalformed) {
  for (const std::string_view argument :
       {"", " ", "1", "1 ", " 1", "1  2", "1 2 3", "-1 5", "+1 5", "1 -5", "a b", "0x1 2", "1 2\t",
        "9223372036854775808 9223372036854775809", "99999999999999999999 1", "1.5 2"}) {
    const auto parsed = parse_rang_argument(argument);
    ASSERT_FALSE(parsed) << "'" << argument << "'";
    EXPECT_EQ(parsed.error(), RangeError::kMalformed) << "'" << argument << "'";
  }
}

TEST(HashOption, NothingQueriesANameSelects) {
  auto option = parse_hash_option("");
  ASSERT_TRUE(option);
  EXPECT_FALSE(option->select);
  option = parse_hash_option("sha-512");
  ASSERT_TRUE(option);
  EXPECT_EQ(option->select, DigestAlgorithm::kSha512);
  option = parse_hash_option("MD5");
  ASSERT_TRUE(option);
  EXPECT_EQ(option->select, DigestAlgorithm::kMd5);
}

TEST(HashOption, UnknownAlgorithmsAndExtraWordsAreRefused) {
  EXPECT_EQ(parse_hash_option("CRC-37").error(), HashOptionError::kUnknownAlgorithm);
  EXPECT_EQ(parse_hash_option("SHA256").error(), HashOptionError::kUnknownAlgorithm);
  EXPECT_EQ(parse_hash_option("SHA-1 MD5").error(), HashOptionError::kMalformed);
  EXPECT_EQ(parse_hash_option(" SHA-1").error(), HashOptionError::kMalformed);
}

TEST(HashSpan, WithoutARangeTheWholeFileIsReadAndNamedInclusively) {
  auto span = hash_span(std::nullopt, 100);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->offset, 0u);
  EXPECT_EQ(span->length, 100u);
  EXPECT_EQ(span->reported, (OctetRange{0, 99}));
  // An empty file: nothing read, reported "0-0" (the draft wants end >= start).
  span = hash_span(std::nullopt, 0);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->length, 0u);
  EXPECT_EQ(span->reported, (OctetRange{0, 0}));
}

TEST(HashSpan, ARangeIsCutAtTheEndOfTheFileAndMustStartInIt) {
  auto span = hash_span(OctetRange{10, 49}, 100);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->offset, 10u);
  EXPECT_EQ(span->length, 40u);
  EXPECT_EQ(span->reported, (OctetRange{10, 49}));
  span = hash_span(OctetRange{90, 1000}, 100);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->length, 10u);
  EXPECT_EQ(span->reported, (OctetRange{90, 99}));
  span = hash_span(OctetRange{99, 99}, 100);
  ASSERT_TRUE(span);
  EXPECT_EQ(span->length, 1u);
  for (const auto& [range, size] : {std::pair{OctetRange{100, 200}, 100ull},
                                    std::pair{OctetRange{0, 0}, 0ull}}) {
    const auto refused = hash_span(range, size);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), HashSpanError::kStartPastEnd);
  }
}

TEST(HashReply, IsTheDraftsFormat) {
  EXPECT_EQ(hash_reply_text(DigestAlgorithm::kSha256, {0, 49}, "169cd2", "filename.ext"),
            "SHA-256 0-49 169cd2 filename.ext");
  EXPECT_EQ(hash_reply_text(DigestAlgorithm::kMd5, {7, 7}, "ab", "dir/a file"),
            "MD5 7-7 ab dir/a file");
}

TEST(HashFeature, ListsEveryAlgorithmAndMarksTheSelectedOne) {
  EXPECT_EQ(hash_feature_list(DigestAlgorithm::kSha256), "SHA-256*;SHA-512;SHA-1;MD5");
  EXPECT_EQ(hash_feature_list(DigestAlgorithm::kMd5), "SHA-256;SHA-512;SHA-1;MD5*");
  const std::string feat = feature_reply({}, false, hash_feature_list(DigestAlgorithm::kSha1));
  EXPECT_NE(feat.find("\r\n HASH SHA-256;SHA-512;SHA-1*;MD5\r\n"), std::string::npos) << feat;
  EXPECT_EQ(feat.find("RANG"), std::string::npos);  // RANG here is for HASH only
  EXPECT_EQ(feature_reply().find("HASH"), std::string::npos);
  EXPECT_NE(help_reply(false, true).find(" HASH RANG\r\n"), std::string::npos);
  EXPECT_EQ(help_reply(false, false).find("HASH"), std::string::npos);
}

TEST(HashVerbs, AreKnown) {
  EXPECT_TRUE(is_known_verb("HASH"));
  EXPECT_TRUE(is_known_verb("RANG"));
}

using Clock = HashBudget::Clock;

TEST(HashBudget, StartsFullAndRefillsAtItsRate) {
  const Clock::time_point start{};
  HashBudget budget(4000, 1000, start);
  EXPECT_EQ(budget.seconds_until(4000, start), 0u);
  budget.spend(4000, start);
  EXPECT_EQ(budget.seconds_until(1, start), 1u);
  EXPECT_EQ(budget.seconds_until(4000, start), 4u);
  EXPECT_EQ(budget.seconds_until(2500, start), 3u);
  // 1.5 s later: 1500 bytes back.
  const auto later = start + std::chrono::milliseconds(1500);
  EXPECT_EQ(budget.seconds_until(1500, later), 0u);
  EXPECT_EQ(budget.seconds_until(1501, later), 1u);
  // Never beyond the capacity, however long the pause.
  const auto much_later = start + std::chrono::hours(24 * 365);
  EXPECT_EQ(budget.seconds_until(4000, much_later), 0u);
  EXPECT_EQ(budget.seconds_until(4001, much_later), 1u);
}

TEST(HashBudget, FrequentLooksAtASlowRateStillAddUp) {
  Clock::time_point now{};
  HashBudget budget(10, 1, now);
  budget.spend(10, now);
  for (int i = 0; i < 40; ++i) {  // every 100 ms for 4 s: each look alone earns nothing
    now += std::chrono::milliseconds(100);
    (void)budget.seconds_until(10, now);
  }
  EXPECT_EQ(budget.seconds_until(4, now), 0u);
  EXPECT_EQ(budget.seconds_until(5, now), 1u);
}

TEST(HashBudget, ChargesWhatWasReadAndNoMoreThanItHolds) {
  const Clock::time_point start{};
  HashBudget budget(1ull << 40, 1ull << 40, start);
  budget.spend(1ull << 39, start);
  EXPECT_EQ(budget.seconds_until(1ull << 39, start), 0u);
  budget.spend(1ull << 41, start);  // more than it holds: empty, not wrapped
  EXPECT_EQ(budget.seconds_until(1, start), 1u);
  EXPECT_EQ(budget.seconds_until(1ull << 40, start + std::chrono::seconds(1)), 0u);
}

}  // namespace
}  // namespace wftpd
