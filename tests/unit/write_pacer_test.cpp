#include "priv/write_pacer.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WritePacer, TheFirstChangeIsWrittenAtOnceAndABurstOncePerInterval) {
  WritePacer pacer(seconds(2));
  const auto t = WritePacer::Clock::now();
  ASSERT_TRUE(pacer.changed(t));
  pacer.written(t);
  int writes = 1;
  // 10,000 changes within the next second (a flood of automatic bans): none written at once.
  for (int i = 1; i <= 10000; ++i) {
    if (pacer.changed(t + milliseconds(i / 10))) {
      pacer.written(t + milliseconds(i / 10));
      ++writes;
    }
  }
  EXPECT_EQ(writes, 1);
  EXPECT_TRUE(pacer.dirty());
  EXPECT_FALSE(pacer.due(t + milliseconds(1999)));
  ASSERT_TRUE(pacer.next_due().has_value());
  EXPECT_EQ(*pacer.next_due(), t + seconds(2));
  EXPECT_TRUE(pacer.due(t + seconds(2)));  // the last change is not lost
  pacer.written(t + seconds(2));
  EXPECT_FALSE(pacer.next_due().has_value());
  // After a quiet spell, a change is written at once again.
  EXPECT_TRUE(pacer.changed(t + seconds(10)));
}

}  // namespace
}  // namespace wftpd
