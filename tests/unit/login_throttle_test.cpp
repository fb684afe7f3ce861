#include "priv/login_throttle.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

using Clock = LoginThrottle::Clock;
using std::chrono::milliseconds;

TEST(LoginThrottle, CountsFailuresPerAddress) {
  LoginThrottle throttle;
  const auto now = Clock::now();
  throttle.record_failure("192.0.2.1", now);
  throttle.record_failure("192.0.2.1", now);
  throttle.record_failure("192.0.2.2", now);
  EXPECT_EQ(throttle.recent_failures("192.0.2.1", now), 2u);
  EXPECT_EQ(throttle.recent_failures("192.0.2.2", now), 1u);
  EXPECT_EQ(throttle.recent_failures("192.0.2.3", now), 0u);
}

TEST(LoginThrottle, QuietPeriodForgetsAndSuccessClears) {
  LoginThrottle throttle(std::chrono::seconds(60));
  const auto now = Clock::now();
  throttle.record_failure("a", now);
  throttle.record_failure("b", now);
  EXPECT_EQ(throttle.recent_failures("a", now + std::chrono::seconds(59)), 1u);
  EXPECT_EQ(throttle.recent_failures("a", now + std::chrono::seconds(61)), 0u);
  throttle.record_failure("a", now + std::chrono::seconds(61));
  EXPECT_EQ(throttle.recent_failures("a", now + std::chrono::seconds(61)), 1u);
  throttle.record_success("b");
  EXPECT_EQ(throttle.recent_failures("b", now), 0u);
}

TEST(LoginThrottle, MemoryIsBounded) {
  LoginThrottle throttle(std::chrono::seconds(60), 100);
  const auto now = Clock::now();
  for (int i = 0; i < 1000; ++i) throttle.record_failure("addr" + std::to_string(i), now);
  EXPECT_LE(throttle.tracked(), 100u);
  // Old entries make room for new ones.
  throttle.record_failure("late", now + std::chrono::minutes(5));
  EXPECT_EQ(throttle.recent_failures("late", now + std::chrono::minutes(5)), 1u);
}

TEST(LoginThrottle, DelayDoublesAndIsCapped) {
  EXPECT_EQ(failure_delay(milliseconds(1000), 0), milliseconds(1000));
  EXPECT_EQ(failure_delay(milliseconds(1000), 1), milliseconds(2000));
  EXPECT_EQ(failure_delay(milliseconds(1000), 3), milliseconds(8000));
  EXPECT_EQ(failure_delay(milliseconds(1000), 5), milliseconds(32000));
  EXPECT_EQ(failure_delay(milliseconds(1000), 500), milliseconds(32000));
  EXPECT_EQ(failure_delay(milliseconds(5000), 5), milliseconds(60000));
  EXPECT_EQ(failure_delay(milliseconds(0), 5), milliseconds(0));
}

}  // namespace
}  // namespace wftpd
