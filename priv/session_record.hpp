// What the listener knows about one live session, for `wardenftpd-ctl who` and `kick`: where it
// came from (the listener's own knowledge) and what it is doing (the monitor's reports, which
// describe this session only). Pure: the listener owns the records and the clock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address_prefix.hpp"
#include "common/control_protocol.hpp"
#include "common/socket_address.hpp"
#include "priv/session_report.hpp"

namespace wftpd {

struct SessionRecord {
  using Clock = std::chrono::steady_clock;
  std::uint64_t id = 0;
  pid_t pid = 0;                // the session's monitor
  SocketAddress client;         // behind a trusted proxy: the client it named
  std::string proxy;            // the proxy's address, or empty
  std::int64_t started_unix = 0;
  Clock::time_point last_activity;
  std::string user;             // empty before login
  std::string backend;
  std::string user_class;       // the class the monitor chose at login
  SessionStatus status;         // the latest the session reported
  Clock::time_point status_time;
  // Bytes per second between the last two statuses of the same transfer (none before two).
  std::optional<std::uint64_t> rate;

  // Folds a report in (logins and status; counts are the metrics' business).
  void apply(const SessionReport& report, Clock::time_point now);
  bool logged_in() const { return !user.empty(); }
};

// The `who` table, one row per session.
ControlResponse who_table(const std::vector<const SessionRecord*>& sessions, SessionRecord::Clock::time_point now);

// Which sessions a `kick` names: by session id, by user (exact name) or by client prefix.
// An error for an argument that is not a number or prefix where one is needed.
class KickSelection {
 public:
  static Result<KickSelection> from(const ControlRequest& request);
  bool matches(const SessionRecord& session) const;

 private:
  KickSelector selector_ = KickSelector::kSession;
  std::uint64_t id_ = 0;
  std::string user_;
  std::optional<AddressPrefix> prefix_;
};

// "2026-12-03T09:41:07Z"
std::string utc_time_text(std::int64_t unix_seconds);

}  // namespace wftpd
