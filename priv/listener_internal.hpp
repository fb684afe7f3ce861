// The listener's state and its parts, shared by its two files: priv/listener.cpp (start-up,
// accepting, spawning, reports, reaping, reloads) and priv/listener_control.cpp (the control
// socket's commands, metrics, the ban state file). Internal to the listener: nothing else
// includes it.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <thread>
#include <vector>
#include "common/address_prefix.hpp"
#include "common/io.hpp"
#include "common/tls_context.hpp"
#include "common/log.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"
#include "priv/child_exit.hpp"
#include "priv/ban_list.hpp"
#include "priv/ban_state_file.hpp"
#include "priv/control_socket.hpp"
#include "priv/server_metrics.hpp"
#include "priv/session_record.hpp"
#include "common/rate_share.hpp"
#include "priv/session_report.hpp"
#include "priv/client_access.hpp"
#include "priv/client_limits.hpp"
#include "priv/config_validation.hpp"
#include "priv/login_throttle.hpp"
#include "priv/proxy_pending.hpp"
#include "priv/quota_rescan.hpp"
#include "priv/quota_usage.hpp"
#include "priv/listen_socket.hpp"
#include "priv/service_notify.hpp"
#include "priv/session_monitor.hpp"
#include "priv/session_spawn.hpp"
#include "priv/signal_pipe.hpp"
#include "priv/write_pacer.hpp"
#include "priv/socket_activation.hpp"

namespace wftpd {
namespace listener_internal {

constexpr int kMaxAcceptsPerWakeup = 64;
constexpr std::string_view kTooManyClients = "421 Too many connections, try again later.\r\n";
constexpr std::string_view kTooManyFromAddress =
    "421 Too many connections from your address, try again later.\r\n";
constexpr std::string_view kTooFast = "421 Connecting too fast, try again later.\r\n";
constexpr std::string_view kBannedReply =
    "421 Too many failed logins from your address, try again later.\r\n";
constexpr std::string_view kManuallyBannedReply = "421 Your address is not allowed to connect.\r\n";
// Report bytes the listener takes from one session per wakeup, so that no session starves the
// others (a frame is at most kMaxReportFrame).
constexpr std::size_t kReportBytesPerWakeup = 4 * kMaxReportFrame;

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}


class Listener {
 public:
  Listener(std::string config_path, bool force_stderr, std::vector<InheritedSocket> inherited,
           ServiceNotifier notifier)
      : config_path_(std::move(config_path)),
        force_stderr_(force_stderr),
        inherited_(std::move(inherited)),
        socket_activated_(!inherited_.empty()),
        notifier_(std::move(notifier)) {}
  int run();

 private:
  bool start_up();
  std::string listening_description();
  std::optional<int> on_signals();
  Result<void> apply_config(ValidConfig valid);
  ServingContext serving_context() const;
  void accept_clients(int listen_fd, bool implicit_tls);
  // Who a session is for: the connection's peer, or the client a trusted proxy named.
  struct ClientOrigin {
    SocketAddress client;
    std::optional<SocketAddress> proxy;        // set when the connection came through one
    std::optional<SocketAddress> destination;  // the proxy's address the client connected to
  };
  void admit(UniqueFd client, std::uint64_t session_id, const ClientOrigin& origin, bool implicit_tls);
  void spawn_session(UniqueFd client, std::uint64_t session_id, const std::string& key,
                     const ClientOrigin& origin, bool implicit_tls);
  Result<void> bind_all(const Config& config);
  Result<void> use_inherited_sockets(const Config& config);
  std::string status_text() const;
  void reap_children();
  // Reloads the configuration file; the error when the old configuration is kept.
  Result<void> reload();
  void shut_down();
  // The control socket (priv/control_socket.hpp) and what it serves.
  Result<void> open_control_socket();
  void serve_control(const ControlSocket::Request& request);
  ControlResponse control_kick(const ControlSocket::Request& request);
  ControlResponse control_ban(const ControlSocket::Request& request);
  ControlResponse control_unban(const ControlSocket::Request& request);
  ControlResponse control_bans() const;
  ControlResponse control_status() const;
  std::string metrics_text() const;
  void write_metrics_textfile();
  // Bans across restarts (ban_state_file).
  void load_ban_state();
  // A ban started or was lifted: the state file is rewritten now, or, within kBanSaveInterval
  // of the last write, when that interval is over (a flood of automatic bans costs one write
  // per interval, not one per ban).
  void ban_state_changed();
  void save_ban_state();

  std::string config_path_;
  const bool force_stderr_;  // --stderr: log to stderr whatever log_output says
  std::vector<InheritedSocket> inherited_;  // socket activation: taken by use_inherited_sockets
  bool socket_activated_;
  ServiceNotifier notifier_;
  std::size_t status_sessions_ = 0;  // the session count last reported to the service manager
  Config config_;
  SessionResources resources_;  // configuration and TLS memfds, transfer log: per configuration
  // Every session's ticket keys derive from it and the client's address (derive_ticket_keys);
  // made once, at the first start with tls_enable, kept across reloads.
  std::optional<TicketSecret> ticket_secret_;
  SessionHost host_;  // /dev/null and the empty network namespace, made once at start
  struct ListenSocket {
    UniqueFd fd;
    bool implicit_tls;  // tls_implicit_port: TLS from the first byte
  };
  std::vector<ListenSocket> listen_sockets_;
  struct Session {
    std::uint64_t id;
    std::string client;  // the address, for log lines about this session
    std::string client_key;
    UniqueFd report;               // the monitor's reports (priv/session_report.hpp)
    ReportReader reader;
    std::uint32_t login_reports = 0;  // login results taken (bounded per session)
    bool ban_exempt = false;       // the client is in ban_exempt
    SessionRecord record;          // what `wardenftpd-ctl who` shows
    std::string claimed_user;      // a place among this user's sessions (max_sessions_per_user)
    // Its running file transfer that a shared rate applies to (kRateDemand), and the share last
    // sent for it.
    std::optional<RateDemand> rate_demand;
    std::uint64_t rate_share_sent = 0;
  };
  std::map<pid_t, Session> sessions_;  // by monitor pid
  void apply_report(Session& session, const SessionReport& report);
  void answer_claim(Session& session, const SessionReport& claim);
  // One notice to a session's monitor (non-blocking; a failure is logged).
  void send_notice(Session& session, const ListenerNotice& notice, std::string_view what);
  // Quotas (priv/listener_quota.cpp).
  void answer_quota_query(Session& session, const SessionReport& query);
  void apply_quota_used(Session& session, const SessionReport& used);
  // The user's usage, read from quota_dir the first time; null when it cannot be known.
  const QuotaUsage* quota_usage_of(const std::string& user);
  std::string quota_file_path(const std::string& user) const;
  void save_quota_usage();
  struct QuotaAccount {
    RescanAccount rescan;
    std::string user_class;
    bool anonymous = false;
  };
  Result<QuotaAccount> find_quota_account(const std::string& user) const;
  ControlResponse control_quota(const ControlSocket::Request& request);
  void read_rescan();
  void finish_rescan(const std::string& state);
  void check_rescan_deadline(std::chrono::steady_clock::time_point now);
  QuotaLedger quotas_;
  UploadRateBook upload_starts_;
  WritePacer quota_saves_{kBanSaveInterval};
  struct RunningRescan {
    pid_t pid;
    UniqueFd answer;
    std::string user;
    std::string text;
    std::chrono::steady_clock::time_point deadline;
    bool reaped;
  };
  std::optional<RunningRescan> rescan_;  // one at a time
  std::map<std::string, std::string> rescan_states_;  // the last rescan of each user
  // A transfer started or ended in `session`: every running transfer's share is recomputed and
  // sent to the monitors whose share changed (and to `session`'s, which asked, when it started).
  void apply_rate_demand(Session& session, const SessionReport& demand);
  void share_rates(Session* asking);
  ControlSocket control_;
  std::optional<gid_t> control_gid_;
  ServerMetrics metrics_;
  std::int64_t start_unix_ = unix_now();
  std::int64_t last_reload_unix_ = 0;
  std::chrono::steady_clock::time_point next_metrics_write_{};
  static constexpr std::chrono::seconds kBanSaveInterval{2};
  WritePacer ban_saves_{kBanSaveInterval};
  LoginThrottle throttle_;
  void read_report(Session& session);
  ClientAccess access_;  // allow_clients, deny_clients
  BanList bans_;         // ban_after_failures, ban_window, ban_time
  std::vector<AddressPrefix> ban_exempt_;
  ClientLimits limits_{0, 0};
  std::vector<AddressPrefix> trusted_proxies_;
  PendingProxyHeaders proxy_pending_;  // trusted proxies' connections until their header is read
  std::uint64_t next_session_id_ = 1;
  UniqueFd signal_read_;   // the self-pipe the signal handlers write to
  UniqueFd signal_write_;
};

}  // namespace listener_internal
}  // namespace wftpd
