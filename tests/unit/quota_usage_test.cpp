#include "priv/quota_usage.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "tests/unit/require_root.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.hpp"
#include "priv/quota_rescan.hpp"
#include "priv/state_file.hpp"

namespace wftpd {
namespace {

TEST(QuotaUsage, DeltasAreClampedAtZeroAndAtTheBounds) {
  QuotaUsage usage{100, 2};
  usage = apply_quota_delta(usage, QuotaDelta{0, 500, 0, 5});
  EXPECT_EQ(usage, (QuotaUsage{0, 0}));  // never below zero, whatever a child claims
  usage = apply_quota_delta(usage, QuotaDelta{kMaxByteSize, 0, kMaxQuotaFiles, 0});
  usage = apply_quota_delta(usage, QuotaDelta{kMaxByteSize, 0, kMaxQuotaFiles, 0});
  EXPECT_EQ(usage, (QuotaUsage{kMaxByteSize, kMaxQuotaFiles}));  // saturates, never wraps
  usage = apply_quota_delta(QuotaUsage{1000, 3}, QuotaDelta{~0ull, 0, ~0ull, 0});
  EXPECT_EQ(usage, (QuotaUsage{kMaxByteSize, kMaxQuotaFiles}));
  // A STOR over a file: the old size goes, the new one comes.
  usage = apply_quota_delta(QuotaUsage{5000, 2}, QuotaDelta{3000, 4000, 0, 0});
  EXPECT_EQ(usage, (QuotaUsage{4000, 2}));
}

TEST(QuotaUsage, TheUsageFileRoundTripsAndItsParserIsStrict) {
  const std::string text = format_quota_usage("alice", QuotaUsage{123456, 78});
  auto parsed = parse_quota_usage(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, (QuotaUsage{123456, 78}));
  for (const char* bad : {"bytes 1\n", "files 1\n", "bytes 1\nfiles 1\nbytes 2\n", "bytes x\nfiles 1\n",
                          "bytes 1 \nfiles 1\n", "bytes -1\nfiles 1\n", "bytes 1\nfiles 1\nextra 3\n",
                          "bytes 99999999999999999999\nfiles 1\n", "bytes 4611686018427387905\nfiles 0\n",
                          "bytes\nfiles 1\n", ""}) {
    EXPECT_FALSE(parse_quota_usage(bad).ok()) << bad;
  }
  EXPECT_TRUE(parse_quota_usage("# comment\n\nfiles 0\nbytes 0").ok());
}

TEST(QuotaUsage, FileNamesAreNeverPaths) {
  EXPECT_EQ(quota_file_name("alice"), "alice");
  EXPECT_EQ(quota_file_name("a.b-c_d@e+f"), "a.b-c_d@e+f");
  EXPECT_EQ(quota_file_name(".."), "%2E.");
  EXPECT_EQ(quota_file_name("."), "%2E");
  EXPECT_EQ(quota_file_name("a/b"), "a%2Fb");
  EXPECT_EQ(quota_file_name("100%"), "100%25");
  EXPECT_EQ(quota_file_name(""), "%");
}

TEST(QuotaUsage, TheAllowanceIsTheLimitsLessTheUsageAndFailsClosed) {
  SessionPolicy policy;
  policy.quota_bytes = 1000;
  policy.quota_files = 3;
  ListenerNotice answer;
  answer.type = NoticeType::kQuotaAnswer;
  answer.granted = true;
  answer.usage_known = true;
  answer.used_bytes = 400;
  answer.used_files = 3;
  QuotaAllowance allowance = quota_allowance(policy, answer);
  EXPECT_EQ(allowance.status, QuotaStatus::kGranted);
  EXPECT_EQ(allowance.bytes_left, 600u);
  EXPECT_EQ(allowance.files_left, 0u);
  answer.used_bytes = 5000;  // over (a lowered quota): nothing left, never a wrap-around
  EXPECT_EQ(quota_allowance(policy, answer).bytes_left, 0u);
  policy.quota_files = 0;
  EXPECT_EQ(quota_allowance(policy, answer).files_left, kUnlimitedAllowance);
  answer.usage_known = false;
  EXPECT_EQ(quota_allowance(policy, answer).status, QuotaStatus::kUnavailable);
  EXPECT_EQ(quota_allowance(policy, std::nullopt).status, QuotaStatus::kUnavailable);
  answer.usage_known = true;
  answer.granted = false;
  EXPECT_EQ(quota_allowance(policy, answer).status, QuotaStatus::kHourlyLimit);
  answer.type = NoticeType::kClaimAnswer;  // not an answer to this question
  EXPECT_EQ(quota_allowance(policy, answer).status, QuotaStatus::kUnavailable);
}

TEST(QuotaUsage, TheLedgerKeepsUsersAndWhatIsToBeWritten) {
  QuotaLedger ledger;
  EXPECT_FALSE(ledger.apply("alice", QuotaDelta{10, 0, 1, 0}));  // unknown until set
  EXPECT_TRUE(ledger.set("alice", QuotaUsage{5, 1}, false));
  EXPECT_FALSE(ledger.dirty());
  EXPECT_TRUE(ledger.apply("alice", QuotaDelta{10, 0, 1, 0}));
  EXPECT_EQ(*ledger.find("alice"), (QuotaUsage{15, 2}));
  EXPECT_EQ(ledger.take_dirty(), std::vector<std::string>{"alice"});
  EXPECT_FALSE(ledger.dirty());
}

TEST(QuotaUsage, UploadsPerHourArePerClientAndSlide) {
  UploadRateBook book;
  const auto t0 = UploadRateBook::Clock::time_point(std::chrono::hours(10));
  EXPECT_TRUE(book.try_start("192.0.2.1", 2, t0));
  EXPECT_TRUE(book.try_start("192.0.2.1", 2, t0 + std::chrono::minutes(10)));
  EXPECT_FALSE(book.try_start("192.0.2.1", 2, t0 + std::chrono::minutes(20)));
  EXPECT_TRUE(book.try_start("192.0.2.2", 2, t0 + std::chrono::minutes(20)));  // another client
  // An hour after the first, one more.
  EXPECT_TRUE(book.try_start("192.0.2.1", 2, t0 + std::chrono::minutes(60)));
  EXPECT_FALSE(book.try_start("192.0.2.1", 2, t0 + std::chrono::minutes(69)));
  EXPECT_TRUE(book.try_start("192.0.2.1", 0, t0));  // no limit
}

class QuotaFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wftpd-quota-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(QuotaFiles, StateFilesAreWrittenPrivateAndReadOnlyWhenRootsAlone) {
  WFTPD_REQUIRE_ROOT();
  const std::string quota_dir = dir_ + "/state/quota";
  ASSERT_TRUE(prepare_private_directory(quota_dir).ok());
  struct stat st{};
  ASSERT_EQ(::stat(quota_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::string path = quota_dir + "/alice";
  ASSERT_TRUE(write_state_file(path, format_quota_usage("alice", QuotaUsage{7, 1})).ok());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = read_root_state_file(path, 4096);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*parse_quota_usage(*text), (QuotaUsage{7, 1}));
  ::chmod(path.c_str(), 0666);
  EXPECT_FALSE(read_root_state_file(path, 4096).ok());
  // A symbolic link is never followed.
  ::chmod(path.c_str(), 0600);
  ASSERT_EQ(::symlink(path.c_str(), (quota_dir + "/link").c_str()), 0);
  EXPECT_FALSE(read_root_state_file(quota_dir + "/link", 4096).ok());
  // A directory open to others is refused.
  ::chmod(quota_dir.c_str(), 0755);
  EXPECT_FALSE(prepare_private_directory(quota_dir).ok());
}

TEST_F(QuotaFiles, TheRescanWalkCountsRegularFilesWithoutFollowingLinks) {
  std::filesystem::create_directories(dir_ + "/a/b");
  std::ofstream(dir_ + "/one") << std::string(100, 'x');
  std::ofstream(dir_ + "/a/two") << std::string(20, 'x');
  std::ofstream(dir_ + "/a/b/three") << std::string(3, 'x');
  ASSERT_EQ(::symlink("/etc/passwd", (dir_ + "/a/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("/etc", (dir_ + "/a/etc").c_str()), 0);
  UniqueFd root(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  RescanTotals totals = count_tree(root.get(), RescanLimits{});
  EXPECT_TRUE(totals.complete);
  EXPECT_EQ(totals.usage, (QuotaUsage{123, 3}));
  // Bounded: too few entries allowed, or too shallow, is an incomplete count.
  RescanLimits few;
  few.max_entries = 2;
  EXPECT_FALSE(count_tree(root.get(), few).complete);
  RescanLimits shallow;
  shallow.max_depth = 2;
  totals = count_tree(root.get(), shallow);
  EXPECT_FALSE(totals.complete);
  EXPECT_EQ(totals.usage, (QuotaUsage{120, 2}));
}

TEST(QuotaRescan, TheAnswerLineRoundTripsAndIsStrict) {
  RescanTotals totals;
  totals.usage = QuotaUsage{42, 7};
  totals.complete = false;
  auto parsed = parse_rescan_answer(format_rescan_answer(totals));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->usage, totals.usage);
  EXPECT_FALSE(parsed->complete);
  for (const char* bad : {"", "bytes 1 files 2\n", "bytes 1 files 2 complete", "bytes  1 files 2 complete\n",
                          "bytes 1 files 2 complete\nextra", "bytes 9999999999999999999 files 2 complete\n"}) {
    EXPECT_FALSE(parse_rescan_answer(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace wftpd
