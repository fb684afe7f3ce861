#include "priv/login_throttle.hpp"

#include <algorithm>

namespace wftpd {

void LoginThrottle::record_failure(const std::string& key, Clock::time_point now) {
  if (entries_.size() >= max_tracked_ && entries_.find(key) == entries_.end()) prune(now);
  if (entries_.size() >= max_tracked_) return;  // bounded memory: a flood of addresses
  Entry& entry = entries_[key];
  if (now - entry.last > quiet_) entry.failures = 0;
  if (entry.failures < 1000000) ++entry.failures;
  entry.last = now;
}

void LoginThrottle::record_success(const std::string& key) { entries_.erase(key); }

std::uint32_t LoginThrottle::recent_failures(const std::string& key, Clock::time_point now) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() || now - it->second.last > quiet_) return 0;
  return it->second.failures;
}

void LoginThrottle::prune(Clock::time_point now) {
  // Bounded by the map size; runs only when the map is full.
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.last > quiet_) it = entries_.erase(it);
    else ++it;
  }
}

std::chrono::milliseconds failure_delay(std::chrono::milliseconds base, std::uint32_t failures_so_far) {
  const std::uint32_t doublings = std::min<std::uint32_t>(failures_so_far, 5);
  const auto delay = base * (1LL << doublings);
  return std::min<std::chrono::milliseconds>(delay, std::chrono::minutes(1));
}

}  // namespace wftpd
