// Login throttling across sessions, kept by the listener: failed logins per client address
// (the same keys as the per-address limits) over a sliding quiet period. Each new session's
// monitor is told how many failures its address has to its name and makes every failed login
// wait longer (failure_delay()).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace wftpd {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  // An address that fails no login for `quiet` starts again from zero.
  explicit LoginThrottle(std::chrono::seconds quiet = std::chrono::minutes(15),
                         std::size_t max_tracked = 65536)
      : quiet_(quiet), max_tracked_(max_tracked) {}

  void record_failure(const std::string& key, Clock::time_point now);
  void record_success(const std::string& key);
  std::uint32_t recent_failures(const std::string& key, Clock::time_point now) const;
  std::size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t failures = 0;
    Clock::time_point last;
  };
  void prune(Clock::time_point now);

  std::chrono::seconds quiet_;
  std::size_t max_tracked_;
  std::map<std::string, Entry> entries_;
};

// The delay before a failed login is answered, for the `failures_so_far`-th failure of the
// client's address (0: its first): base, doubled per earlier failure, at most 32 x base and
// never more than a minute.
std::chrono::milliseconds failure_delay(std::chrono::milliseconds base, std::uint32_t failures_so_far);

}  // namespace wftpd
