#include "unpriv/token_bucket.hpp"

#include <algorithm>

namespace wftpd {

double TokenBucket::burst() const {
  return std::max<double>(static_cast<double>(kMinStep), static_cast<double>(rate_ / kBurstDivisor));
}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;  // a clock that does not move forward earns nothing
  const double seconds = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  // Long idle earns one burst at most.
  tokens_ = std::min(burst(), tokens_ + seconds * static_cast<double>(rate_));
}

void TokenBucket::set_rate(std::uint64_t rate, Clock::time_point now) {
  if (rate_ != 0) refill(now);
  last_ = std::max(last_, now);
  rate_ = rate;
  tokens_ = std::min(tokens_, burst());
}

std::chrono::nanoseconds TokenBucket::spend(std::uint64_t bytes, Clock::time_point now) {
  if (rate_ == 0) return std::chrono::nanoseconds(0);
  refill(now);
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  const double seconds = -tokens_ / static_cast<double>(rate_);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9) + 1);
}

std::size_t TokenBucket::step(std::size_t largest) const {
  if (rate_ == 0) return largest;
  return static_cast<std::size_t>(std::min<double>(static_cast<double>(largest), burst()));
}

}  // namespace wftpd
