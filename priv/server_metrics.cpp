#include "priv/server_metrics.hpp"

namespace wftpd {
namespace {

std::size_t backend_index(const std::optional<LoginBackend>& backend) {
  if (!backend) return 3;
  switch (*backend) {
    case LoginBackend::kAnonymous: return 0;
    case LoginBackend::kVirtual: return 1;
    case LoginBackend::kPam: return 2;
  }
  return 3;
}

constexpr const char* kBackendLabels[] = {"anonymous", "virtual", "pam", "none"};
constexpr const char* kRefusalLabels[] = {"max_clients", "max_per_ip", "connect_rate_per_ip",
                                          "access_list", "banned"};

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const char* name, const std::string& labels, std::uint64_t value) {
    text_ += name;
    if (!labels.empty()) text_ += "{" + labels + "}";
    text_ += " " + std::to_string(value) + "\n";
  }
  void sample(const char* name, std::int64_t value) { text_ += std::string(name) + " " + std::to_string(value) + "\n"; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

void ServerMetrics::apply(const SessionReport& report) {
  switch (report.type) {
    case ReportType::kLoginFailed:
      ++logins_[1][backend_index(report.backend)];
      if (report.throttled) ++throttled_logins_;
      break;
    case ReportType::kLoginAccepted:
      ++logins_[0][backend_index(report.backend)];
      break;
    case ReportType::kStatus:
      data_tls_handshakes_ += report.status.data_tls_handshakes;
      data_tls_refusals_ += report.status.data_tls_refusals;
      break;
    case ReportType::kTransferDone: {
      const std::size_t direction = report.direction == TransferDirection::kIncoming ? 0 : 1;
      bytes_[direction] += report.bytes;
      ++transfers_[direction][report.complete ? 0 : 1];
      break;
    }
    case ReportType::kEvent:
      switch (report.event) {
        case ReportEvent::kControlTlsHandshake: ++control_tls_handshakes_; break;
        case ReportEvent::kSandboxViolation: ++sandbox_violations_; break;
        case ReportEvent::kUploadEventDropped: ++upload_events_dropped_; break;
        case ReportEvent::kQuotaRefused: ++quota_refusals_; break;
      }
      break;
    case ReportType::kClaimSession:  // answered by the listener, counted as a login result
    case ReportType::kQuotaQuery:    // answered by the listener
    case ReportType::kQuotaUsed:     // kept by the listener (priv/quota_usage.hpp)
    case ReportType::kRateDemand:    // answered by the listener (rate shares)
      break;
  }
}

std::string ServerMetrics::render(const Gauges& gauges) const {
  Exposition out;
  out.family("wardenftpd_start_time_seconds", "gauge", "When the listener started (UNIX time).");
  out.sample("wardenftpd_start_time_seconds", gauges.start_time_unix);
  out.family("wardenftpd_last_reload_time_seconds", "gauge",
             "When the configuration was last reloaded (UNIX time; 0: never).");
  out.sample("wardenftpd_last_reload_time_seconds", gauges.last_reload_unix);
  out.family("wardenftpd_sessions_open", "gauge", "Sessions being served now.");
  out.sample("wardenftpd_sessions_open", "", gauges.sessions_open);
  out.family("wardenftpd_sessions_logged_in", "gauge", "Sessions being served now that have logged in.");
  out.sample("wardenftpd_sessions_logged_in", "", gauges.sessions_logged_in);
  out.family("wardenftpd_sessions_total", "counter", "Sessions started (a monitor was made).");
  out.sample("wardenftpd_sessions_total", "", sessions_total_);
  out.family("wardenftpd_connections_refused_total", "counter",
             "Connections refused before anything was forked, by reason.");
  for (std::size_t i = 0; i < kRefusals; ++i) {
    out.sample("wardenftpd_connections_refused_total", std::string("reason=\"") + kRefusalLabels[i] + "\"",
               refusals_[i]);
  }
  out.family("wardenftpd_logins_total", "counter",
             "Login attempts by result and by the backend that decided (none: refused by name).");
  for (std::size_t result = 0; result < 2; ++result) {
    for (std::size_t backend = 0; backend < 4; ++backend) {
      out.sample("wardenftpd_logins_total",
                 std::string("result=\"") + (result == 0 ? "accepted" : "failed") + "\",backend=\"" +
                     kBackendLabels[backend] + "\"",
                 logins_[result][backend]);
    }
  }
  out.family("wardenftpd_logins_throttled_total", "counter",
             "Failed logins answered after an added delay for earlier failures of the address.");
  out.sample("wardenftpd_logins_throttled_total", "", throttled_logins_);
  out.family("wardenftpd_bans_total", "counter", "Bans started, by origin.");
  out.sample("wardenftpd_bans_total", "origin=\"automatic\"", bans_[0]);
  out.sample("wardenftpd_bans_total", "origin=\"manual\"", bans_[1]);
  out.family("wardenftpd_bans_in_force", "gauge", "Bans in force now, automatic and manual.");
  out.sample("wardenftpd_bans_in_force", "", gauges.bans_in_force);
  out.family("wardenftpd_transfer_bytes_total", "counter",
             "Data-connection bytes of finished file transfers, by direction.");
  out.sample("wardenftpd_transfer_bytes_total", "direction=\"in\"", bytes_[0]);
  out.sample("wardenftpd_transfer_bytes_total", "direction=\"out\"", bytes_[1]);
  out.family("wardenftpd_transfers_total", "counter", "Finished file transfers, by direction and result.");
  for (std::size_t direction = 0; direction < 2; ++direction) {
    for (std::size_t result = 0; result < 2; ++result) {
      out.sample("wardenftpd_transfers_total",
                 std::string("direction=\"") + (direction == 0 ? "in" : "out") + "\",result=\"" +
                     (result == 0 ? "complete" : "incomplete") + "\"",
                 transfers_[direction][result]);
    }
  }
  out.family("wardenftpd_tls_handshakes_total", "counter",
             "Full TLS handshakes of control connections (signed by the monitor) and TLS handshakes "
             "of data connections.");
  out.sample("wardenftpd_tls_handshakes_total", "channel=\"control\"", control_tls_handshakes_);
  out.sample("wardenftpd_tls_handshakes_total", "channel=\"data\"", data_tls_handshakes_);
  out.family("wardenftpd_tls_reuse_refusals_total", "counter",
             "Data connections refused with 522 because their TLS session did not resume the "
             "control connection's.");
  out.sample("wardenftpd_tls_reuse_refusals_total", "", data_tls_refusals_);
  out.family("wardenftpd_seccomp_violations_total", "counter",
             "Session processes stopped by their seccomp filter.");
  out.sample("wardenftpd_seccomp_violations_total", "", sandbox_violations_);
  out.family("wardenftpd_upload_events_dropped_total", "counter",
             "Upload events not delivered because the consumer was absent or slow.");
  out.sample("wardenftpd_upload_events_dropped_total", "", upload_events_dropped_);
  out.family("wardenftpd_quota_refusals_total", "counter",
             "Uploads refused or stopped by quota_bytes, quota_files, max_file_size or "
             "upload_files_per_hour.");
  out.sample("wardenftpd_quota_refusals_total", "", quota_refusals_);
  out.family("wardenftpd_control_requests_total", "counter", "Requests served on the control socket.");
  out.sample("wardenftpd_control_requests_total", "", control_requests_);
  return out.take();
}

}  // namespace wftpd
