// A token bucket for one transfer's rate. Bytes are spent after they moved; a transfer that has
// spent more than the bucket held waits until the debt is repaid, so over any stretch longer
// than a step the rate is the configured one. Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace wftpd {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  // A burst is about 1/8 s of the rate, never less than kMinStep bytes.
  static constexpr std::uint64_t kBurstDivisor = 8;
  static constexpr std::size_t kMinStep = 4096;

  // `rate` bytes/s; 0: no limit (spend() never asks for a wait). The bucket starts empty, so a
  // transfer does not begin with a burst above its rate.
  TokenBucket(std::uint64_t rate, Clock::time_point now) : rate_(rate), last_(now) {}

  std::uint64_t rate() const { return rate_; }
  // A new rate from `now` on; what was earned so far at the old rate is kept (up to the new
  // burst).
  void set_rate(std::uint64_t rate, Clock::time_point now);
  // `bytes` moved at `now`: how long to wait before moving more (zero: go on at once).
  std::chrono::nanoseconds spend(std::uint64_t bytes, Clock::time_point now);
  // How many bytes to move in one step: about one burst, at most `largest`.
  std::size_t step(std::size_t largest) const;

 private:
  double burst() const;
  void refill(Clock::time_point now);

  std::uint64_t rate_;
  double tokens_ = 0;  // bytes that may move now; negative: a debt to wait out
  Clock::time_point last_;
};

}  // namespace wftpd
