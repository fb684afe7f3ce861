// The listener's counters for `wardenftpd-ctl metrics` (and metrics_textfile), in the Prometheus
// text exposition format. Pure: the listener calls it as things happen; nothing here does I/O.
// Counters count since the listener started; the session reports they come from are each
// session's own (priv/session_report.hpp), so a lying session skews only what it reports.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "priv/ban_list.hpp"
#include "priv/session_report.hpp"

namespace wftpd {

class ServerMetrics {
 public:
  enum class Refusal : std::uint8_t { kMaxClients, kMaxPerIp, kConnectRate, kAccessList, kBanned };
  static constexpr std::size_t kRefusals = 5;

  // What the listener knows at the time of rendering.
  struct Gauges {
    std::size_t sessions_open = 0;
    std::size_t sessions_logged_in = 0;
    std::size_t bans_in_force = 0;
    std::int64_t start_time_unix = 0;
    std::int64_t last_reload_unix = 0;  // 0: never reloaded
  };

  void session_started() { ++sessions_total_; }
  void refused(Refusal reason) { ++refusals_[static_cast<std::size_t>(reason)]; }
  void ban_started(BanList::Origin origin) {
    ++bans_[origin == BanList::Origin::kAutomatic ? 0 : 1];
  }
  void monitor_sandbox_violation() { ++sandbox_violations_; }
  void control_request() { ++control_requests_; }
  // Logins, transfers, TLS, violations and throttling, as a session reported them.
  void apply(const SessionReport& report);

  std::string render(const Gauges& gauges) const;

 private:
  std::uint64_t sessions_total_ = 0;
  std::array<std::uint64_t, kRefusals> refusals_{};
  std::array<std::uint64_t, 2> bans_{};  // automatic, manual
  // Logins by result (accepted, failed) and backend (anonymous, virtual, pam, none).
  std::array<std::array<std::uint64_t, 4>, 2> logins_{};
  std::uint64_t throttled_logins_ = 0;
  std::array<std::uint64_t, 2> bytes_{};  // in, out
  std::array<std::array<std::uint64_t, 2>, 2> transfers_{};  // [in|out][complete|incomplete]
  std::uint64_t control_tls_handshakes_ = 0;
  std::uint64_t data_tls_handshakes_ = 0;
  std::uint64_t data_tls_refusals_ = 0;
  std::uint64_t sandbox_violations_ = 0;
  std::uint64_t upload_events_dropped_ = 0;
  std::uint64_t quota_refusals_ = 0;
  std::uint64_t control_requests_ = 0;
};

}  // namespace wftpd
