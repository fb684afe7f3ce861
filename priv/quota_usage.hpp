// Quota usage (quota_bytes, quota_files) and the uploads per client and hour
// (upload_files_per_hour), as the listener keeps them: pure, the listener does the file I/O.
//
// The listener, not the session monitor, keeps usage: it is the one process that sees every
// session of a user (each session has its own monitor), and a monitor cannot open a file after
// entering its sandbox. A usage file, one per user in quota_dir, is rewritten whole and
// atomically (priv/state_file.hpp):
//   # comment lines
//   bytes <N>
//   files <N>
// SECURITY: usage changes come from the post-auth child through its monitor, which bounds each
// change (common/monitor_protocol.hpp, QuotaUsed); here usage never goes below zero or beyond
// kMaxByteSize bytes and kMaxQuotaFiles files, whatever arrives.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"
#include "common/session_policy.hpp"
#include "priv/session_report.hpp"

namespace wftpd {

struct QuotaUsage {
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
  bool operator==(const QuotaUsage&) const = default;
};

// What one upload or DELE changed (a kQuotaUsed report).
struct QuotaDelta {
  std::uint64_t bytes_added = 0;
  std::uint64_t bytes_removed = 0;
  std::uint64_t files_added = 0;
  std::uint64_t files_removed = 0;
};

// `usage` after `delta`: never below zero, never beyond the bounds.
QuotaUsage apply_quota_delta(QuotaUsage usage, const QuotaDelta& delta);

// The usage file's text, and its strict parser (a missing, repeated or unknown key, a number out
// of range or trailing text is an error naming the line).
std::string format_quota_usage(std::string_view user, const QuotaUsage& usage);
Result<QuotaUsage> parse_quota_usage(std::string_view text);

// The usage file's name for `user`: the name itself when it is made of [A-Za-z0-9_.@+-] and does
// not start with '.'; otherwise every other byte (and a leading '.') as %XX. Never empty, never
// '.', '..' or a path.
std::string quota_file_name(std::string_view user);

// What the monitor tells the post-auth child before an upload: the session's limits less the
// user's usage (the listener's answer; none when it did not answer).
QuotaAllowance quota_allowance(const SessionPolicy& policy, const std::optional<ListenerNotice>& answer);

// Every user's usage the listener knows, and which of them still have to be written.
class QuotaLedger {
 public:
  static constexpr std::size_t kMaxUsers = 100000;
  const QuotaUsage* find(const std::string& user) const;
  // Known from the user's file (not dirty) or counted by a rescan (dirty). False when the ledger
  // is full (the user's usage is then not kept).
  bool set(const std::string& user, const QuotaUsage& usage, bool dirty);
  // False when the user is not known (set() first).
  bool apply(const std::string& user, const QuotaDelta& delta);
  bool dirty() const { return !dirty_.empty(); }
  // The users to write now; they are clean afterwards (a failed write marks them again).
  std::vector<std::string> take_dirty();
  void mark_dirty(const std::string& user) { dirty_.insert(user); }

 private:
  std::map<std::string, QuotaUsage> usage_;
  std::set<std::string> dirty_;
};

// The uploads each client address started within the last hour (upload_files_per_hour).
// Bounded: at most kMaxClients addresses (when full, those with nothing left in the hour go
// first; if none can go, a new client is refused: fail closed).
class UploadRateBook {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxClients = 65536;
  static constexpr Clock::duration kWindow = std::chrono::hours(1);
  // Whether `client` may start one more upload now under `per_hour` (1 or more); counts it if so.
  bool try_start(const std::string& client, std::uint32_t per_hour, Clock::time_point now);
  std::size_t clients() const { return starts_.size(); }

 private:
  void forget_old(Clock::time_point now);
  std::map<std::string, std::deque<Clock::time_point>> starts_;
};

}  // namespace wftpd
