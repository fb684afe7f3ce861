// Automatic bans, as ProFTPD's mod_ban and fail2ban do them: after ban_after_failures failed
// logins from one client address (IPv6: its /64) within ban_window, that address is refused
// for ban_time, by the listener, before anything is forked. Pure bookkeeping (no I/O, the clock
// passed in), bounded in memory whatever clients do.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wftpd {

class BanList {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    std::uint32_t after_failures = 0;  // 0: no automatic bans
    std::chrono::seconds window{600};
    std::chrono::seconds duration{3600};
  };

  explicit BanList(std::size_t max_tracked = 65536) : max_tracked_(max_tracked) {}

  // New settings apply to failures recorded from now on; bans in force keep their end.
  void configure(const Settings& settings);

  // A failed login from `key` (client_key()); true when this failure starts a ban.
  bool record_failure(const std::string& key, Clock::time_point now);

  // The time left of the ban on `key` (zero: not banned).
  Clock::duration remaining(const std::string& key, Clock::time_point now) const;

  std::size_t bans_in_force(Clock::time_point now) const;
  std::size_t tracked() const { return failures_.size() + bans_.size(); }

 private:
  void prune(Clock::time_point now);

  Settings settings_;
  std::size_t max_tracked_;
  // The times of the latest failures per key, at most after_failures of them, oldest first.
  std::map<std::string, std::vector<Clock::time_point>> failures_;
  std::map<std::string, Clock::time_point> bans_;  // key -> end of its ban
  Clock::time_point last_prune_{};
};

}  // namespace wftpd
