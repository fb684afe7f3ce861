#include "unpriv/token_bucket.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "unpriv/transfer_pace.hpp"

namespace wftpd {
namespace {

using Clock = TokenBucket::Clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Moves `total` bytes in the bucket's steps, waiting out every pause on a fake clock; returns
// the fake seconds it took.
double simulate(TokenBucket& bucket, Clock::time_point& now, std::uint64_t total,
                std::size_t largest_step = 256u << 10) {
  const Clock::time_point start = now;
  while (total > 0) {
    const std::uint64_t step = std::min<std::uint64_t>(total, bucket.step(largest_step));
    total -= step;
    now += bucket.spend(step, now);
  }
  return std::chrono::duration<double>(now - start).count();
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  Clock::time_point now{};
  TokenBucket bucket(0, now);
  EXPECT_EQ(bucket.spend(1ull << 40, now), nanoseconds(0));
  EXPECT_EQ(bucket.step(1u << 20), 1u << 20);
}

TEST(TokenBucket, AchievedRateIsTheConfiguredOneFrom100KBto100MB) {
  for (const std::uint64_t rate : {100'000ull, 1'000'000ull, 10'000'000ull, 100'000'000ull}) {
    Clock::time_point now{};
    TokenBucket bucket(rate, now);
    const std::uint64_t total = rate * 4;  // four seconds' worth
    const double seconds_taken = simulate(bucket, now, total);
    // The bucket starts empty and only the last step's pause is not waited for (the transfer
    // ends): within one step (1/8 s) of total / rate.
    EXPECT_NEAR(seconds_taken, 4.0, 0.13) << rate;
    EXPECT_LE(seconds_taken, 4.0 + 1e-6) << rate;
  }
}

TEST(TokenBucket, StepIsAboutAnEighthOfASecond) {
  Clock::time_point now{};
  EXPECT_EQ(TokenBucket(800'000, now).step(1u << 20), 100'000u);
  EXPECT_EQ(TokenBucket(100, now).step(1u << 20), TokenBucket::kMinStep);  // never tiny steps
  EXPECT_EQ(TokenBucket(1ull << 40, now).step(256u << 10), 256u << 10);    // never past the buffer
}

TEST(TokenBucket, BurstAfterLongIdleIsBounded) {
  Clock::time_point now{};
  TokenBucket bucket(1'000'000, now);
  now += std::chrono::hours(24);
  // A day of idle earns one burst (1/8 s), not a day of bytes.
  EXPECT_EQ(bucket.spend(125'000, now), nanoseconds(0));
  const nanoseconds wait = bucket.spend(1'000'000, now);
  EXPECT_NEAR(std::chrono::duration<double>(wait).count(), 1.0, 0.001);
}

TEST(TokenBucket, HugeRatesNeitherOverflowNorWait) {
  Clock::time_point now{};
  TokenBucket bucket(1ull << 40, now);
  now += milliseconds(1);
  EXPECT_EQ(bucket.spend(1u << 20, now), nanoseconds(0));  // 1 ms earns 1 GiB
  now += seconds(1000000);
  EXPECT_EQ(bucket.spend(1u << 30, now), nanoseconds(0));
}

TEST(TokenBucket, AClockThatGoesBackEarnsNothing) {
  Clock::time_point now{};
  now += seconds(10);
  TokenBucket bucket(1000, now);
  const nanoseconds first = bucket.spend(1000, now);
  EXPECT_GT(first, nanoseconds(0));
  const nanoseconds second = bucket.spend(1000, now - seconds(5));
  EXPECT_GT(second, first);  // the debt grew; nothing was earned
}

TEST(TokenBucket, SetRateChangesThePaceFromNowOn) {
  Clock::time_point now{};
  TokenBucket bucket(1'000'000, now);
  EXPECT_NEAR(simulate(bucket, now, 2'000'000), 2.0, 0.13);
  bucket.set_rate(250'000, now);
  EXPECT_NEAR(simulate(bucket, now, 1'000'000), 4.0, 0.13);
  bucket.set_rate(0, now);
  EXPECT_EQ(bucket.spend(1ull << 30, now), nanoseconds(0));
}

TEST(TransferPace, AdoptsTheShareAtTheStartAndAboutOnceASecond) {
  Clock::time_point now{};
  std::vector<std::uint64_t> answers = {0, 500'000, 4'000'000};  // unknown, then half, then more
  std::size_t asked = 0;
  TransferPace pace(
      1'000'000, [&] { return answers[std::min(asked++, answers.size() - 1)]; },
      [&] { return now; });
  EXPECT_EQ(asked, 1u);               // asked once when the transfer starts
  EXPECT_EQ(pace.rate(), 1'000'000u);  // no share known: its own bound
  now += nanoseconds(pace.moved(1000));
  EXPECT_EQ(asked, 1u);  // not again within the second
  now += TransferPace::kShareInterval;
  (void)pace.moved(1000);
  EXPECT_EQ(asked, 2u);
  EXPECT_EQ(pace.rate(), 500'000u);
  now += TransferPace::kShareInterval;
  (void)pace.moved(1000);
  EXPECT_EQ(pace.rate(), 1'000'000u);  // a share above the bound never lifts it
}

TEST(TransferPace, WithoutSharedLimitsItNeverAsks) {
  Clock::time_point now{};
  int clock_reads = 0;
  TransferPace pace(200'000, nullptr, [&] {
    ++clock_reads;
    return now;
  });
  now += seconds(5);
  (void)pace.moved(100);
  EXPECT_EQ(pace.rate(), 200'000u);
  EXPECT_EQ(clock_reads, 2);  // the start and the step: no reads beyond those it needs
}

}  // namespace
}  // namespace wftpd
