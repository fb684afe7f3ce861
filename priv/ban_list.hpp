// Bans, checked by the listener before anything is forked. Automatic bans, as ProFTPD's mod_ban
// and fail2ban do them: after ban_after_failures failed logins from one client address (IPv6:
// its /64) within ban_window, that address is refused for ban_time. Manual bans: a prefix the
// operator named (`wardenftpd-ctl ban`), for a time or until unbanned. Pure bookkeeping (no
// I/O, the clock passed in), bounded in memory whatever clients do.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/address_prefix.hpp"
#include "common/result.hpp"
#include "common/socket_address.hpp"

namespace wftpd {

class BanList {
 public:
  using Clock = std::chrono::steady_clock;
  struct Settings {
    std::uint32_t after_failures = 0;  // 0: no automatic bans
    std::chrono::seconds window{600};
    std::chrono::seconds duration{3600};
  };

  enum class Origin { kAutomatic, kManual };
  // A ban in force, for the operator and the state file.
  struct Entry {
    std::string prefix;  // "192.0.2.7", "2001:db8:1:2::/64", "198.51.100.0/24"
    Origin origin = Origin::kManual;
    std::optional<Clock::duration> remaining;  // none: until unbanned
  };
  // Why a client is refused.
  struct Hit {
    Origin origin = Origin::kManual;
    std::string prefix;
    std::optional<Clock::duration> remaining;  // none: until unbanned
  };
  static constexpr std::size_t kMaxManualBans = 10000;

  explicit BanList(std::size_t max_tracked = 65536) : max_tracked_(max_tracked) {}

  // New settings apply to failures recorded from now on; bans in force keep their end.
  void configure(const Settings& settings);

  // A failed login from `key` (client_key()); true when this failure starts a ban. `prefix`: the
  // key as text (client_key_text()), for the operator.
  bool record_failure(const std::string& key, Clock::time_point now, std::string_view prefix = {});

  // The time left of the automatic ban on `key` (zero: not banned).
  Clock::duration remaining(const std::string& key, Clock::time_point now) const;

  // SECURITY: the one answer to "is this client banned", automatic or manual.
  std::optional<Hit> check(const SocketAddress& client, const std::string& key,
                           Clock::time_point now) const;

  // A manual ban of `prefix` (AddressPrefix syntax) for `duration`, or until unbanned; replaces
  // a manual ban of the same prefix. Refused beyond kMaxManualBans.
  Result<void> ban(std::string_view prefix, std::optional<Clock::duration> duration, Clock::time_point now);
  // Lifts the bans (manual, and automatic of that address or /64) written as `prefix`; how many.
  std::size_t unban(std::string_view prefix, Clock::time_point now);
  // An automatic ban read back from the state file (restored even with automatic bans off).
  void restore_automatic(const std::string& key, std::string_view prefix, Clock::duration remaining,
                         Clock::time_point now);

  std::vector<Entry> entries(Clock::time_point now) const;
  std::size_t bans_in_force(Clock::time_point now) const;
  std::size_t tracked() const { return failures_.size() + bans_.size(); }

 private:
  void prune(Clock::time_point now);

  Settings settings_;
  std::size_t max_tracked_;
  // The times of the latest failures per key, at most after_failures of them, oldest first.
  std::map<std::string, std::vector<Clock::time_point>> failures_;
  struct AutomaticBan {
    Clock::time_point end;
    std::string prefix;
  };
  std::map<std::string, AutomaticBan> bans_;  // key -> its ban
  struct ManualBan {
    AddressPrefix prefix;
    std::string text;  // as the operator wrote it, normalised
    std::optional<Clock::time_point> end;
  };
  std::vector<ManualBan> manual_;
  Clock::time_point last_prune_{};
};

}  // namespace wftpd
