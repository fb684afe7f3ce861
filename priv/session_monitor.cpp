#include "priv/session_monitor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>

#include "common/address_prefix.hpp"
#include "common/exit_codes.hpp"
#include "common/tls_context.hpp"
#include "common/io.hpp"
#include "common/log.hpp"
#include "common/monitor_channel.hpp"
#include "common/pam_protocol.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"
#include "common/users_file.hpp"
#include "priv/active_connector.hpp"
#include "priv/child_exit.hpp"
#include "priv/login_access.hpp"
#include "priv/login_throttle.hpp"
#include "priv/login_verifier.hpp"
#include "priv/pam_backend.hpp"
#include "priv/passive_listener.hpp"
#include "priv/privilege_drop.hpp"
#include "priv/transfer_log.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxUsersFileBytes = 64u << 20;
constexpr std::chrono::seconds kChildAnswerTimeout{30};

enum class Phase { kPreauth, kPostauth };

// Reads the users file while the monitor can still open files. A missing or unsafe file means
// no login can succeed; the reason is logged.
std::vector<VirtualUser> load_users(const Config& config) {
  UniqueFd fd(::open(config.users_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    log_error(system_error("open(" + config.users_file + ")", errno).message);
    return {};
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    log_error(system_error("fstat(" + config.users_file + ")", errno).message);
    return {};
  }
  // SECURITY: the file holds password hashes and decides uids: it must be root's and private.
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0027) != 0) {
    log_error(config.users_file + " must be a regular file owned by root, mode 0600 or 0640");
    return {};
  }
  auto text = read_whole_fd(fd.get(), kMaxUsersFileBytes);
  if (!text) {
    log_error(config.users_file + ": " + text.error().message);
    return {};
  }
  auto users = parse_users_file(*text, config.users_file);
  if (!users) {
    log_error(users.error().message);
    return {};
  }
  return std::move(*users);
}

// Puts the child's descriptors in the fixed layout: 0-1 /dev/null, 2 the log until the sandbox
// is complete, 3 control, 4 monitor, 5 /dev/null (replaces the log just before seccomp),
// 6 the empty network namespace (joined and closed first thing in the sandbox), 7 the TLS
// credential bundle (only for a child that needs it), 8 the TLS relay socket (TLS sessions).
constexpr int kChildDevNullFd = 5;
constexpr int kChildNetnsFd = 6;
constexpr int kChildLastFd = kChildRelayFd;

struct ChildFds {
  int devnull = -1;
  int control = -1;
  int monitor = -1;
  int netns = -1;
  int tls_bundle = -1;  // -1: none
  int relay = -1;       // -1: none
};

[[nodiscard]] bool arrange_child_fds(const ChildFds& fds) {
  const std::pair<int, int> moves[] = {
      {fds.devnull, 0},           {fds.devnull, 1},
      {fds.control, kChildControlFd}, {fds.monitor, kChildMonitorFd},
      {fds.devnull, kChildDevNullFd}, {fds.netns, kChildNetnsFd},
      {fds.tls_bundle, kChildTlsBundleFd}, {fds.relay, kChildRelayFd}};
  // Move the sources above the target range first so dup2 cannot clobber one with another.
  int high[std::size(moves)];
  for (std::size_t i = 0; i < std::size(moves); ++i) {
    high[i] = -1;
    if (moves[i].first < 0) continue;
    high[i] = ::fcntl(moves[i].first, F_DUPFD_CLOEXEC, 20);
    if (high[i] < 0) return false;
  }
  for (std::size_t i = 0; i < std::size(moves); ++i) {
    if (high[i] < 0) {
      ::close(moves[i].second);
      continue;
    }
    if (::dup2(high[i], moves[i].second) < 0) return false;
  }
  // SECURITY: nothing else the monitor held (config memfd, users file, other sockets) leaks in.
  return ::close_range(kChildLastFd + 1, ~0U, 0) == 0;
}

class SessionMonitor {
 public:
  SessionMonitor(const SessionEngines& engines, Config config, const SessionOptions& options)
      : engines_(engines),
        config_(std::move(config)),
        implicit_tls_(options.implicit_tls),
        prior_failures_(options.prior_failures),
        destination_(options.proxied_destination),
        proxied_client_(options.proxied_client) {}

  int run();

 private:
  using Handler = bool (SessionMonitor::*)(ReceivedMessage&);

  // The monitor's request table: which request is allowed in which phase, and its handler.
  struct RequestRule {
    MessageType type;
    Phase phase;
    bool decides_authentication;
    Handler handler;
  };
  static const std::array<RequestRule, 7> kRequestTable;

  // What a login attempt came to: the account to become, or the reason for the server log.
  struct LoginOutcome {
    std::optional<VirtualUser> user;
    bool read_only = false;
    std::string backend;     // "virtual", "PAM", "anonymous"
    std::string log_reason;  // never shown to the client
  };

  bool start_children();
  bool dispatch(Phase phase, ReceivedMessage& message);
  bool handle_login(ReceivedMessage& message);
  LoginOutcome decide_login(const LoginRequest& request);
  LoginOutcome decide_pam_login(const LoginRequest& request);
  bool handle_passive_listen(ReceivedMessage& message);
  bool handle_data_connect(ReceivedMessage& message);
  bool handle_active_target(ReceivedMessage& message);
  bool handle_transfer_done(ReceivedMessage& message);
  bool handle_preauth_log(ReceivedMessage& message);
  bool handle_postauth_log(ReceivedMessage& message);
  bool log_child_event(ReceivedMessage& message, const char* role, std::uint32_t& count);
  bool promote_standby(const VirtualUser& user, bool read_only);
  bool is_anonymous_login(std::string_view name) const;
  void report(char event) {
    // Best effort: the listener's pipe is non-blocking for it, one byte per login attempt.
    if (report_) [[maybe_unused]] const ssize_t n = ::write(report_.get(), &event, 1);
  }
  void serve(Phase phase, MonitorChannel& channel, std::chrono::milliseconds timeout);
  void serve_postauth();
  void end_children();
  void reap(pid_t& pid, const char* role);

  const SessionEngines& engines_;
  Config config_;
  const bool implicit_tls_;
  const std::uint32_t prior_failures_;  // of the client's address, in earlier sessions
  UniqueFd report_;  // to the listener's login throttle
  UniqueFd xferlog_;  // the transfer log (xferlog_enable), append-only
  UniqueFd tls_bundle_;  // sealed memfd; never read by the monitor itself
  TicketKeys ticket_keys_{};
  UniqueFd client_;
  UniqueFd netns_;
  SocketAddress peer_;   // the client: the socket's peer, or the client a trusted proxy named
  SocketAddress local_;
  std::optional<SocketAddress> proxy_;        // the socket's peer when it is a trusted proxy
  std::optional<SocketAddress> destination_;  // the proxy's address the client connected to
  std::optional<SocketAddress> proxied_client_;
  std::optional<LoginVerifier> verifier_;
  PamBackend pam_;  // running only with pam_enable, until the pre-auth phase ends
  std::optional<PassiveListener> passive_;
  std::optional<ActiveConnector> active_;
  MonitorChannel preauth_;
  MonitorChannel postauth_;
  pid_t preauth_pid_ = 0;
  pid_t postauth_pid_ = 0;
  std::uint32_t failed_logins_ = 0;
  std::uint32_t preauth_log_lines_ = 0;
  std::uint32_t postauth_log_lines_ = 0;
  bool logged_in_ = false;
  std::string user_;                          // the logged-in user, for the transfer log
  AccessMode access_ = AccessMode::kReal;
  std::uint32_t unreported_data_connections_ = 0;  // each may be followed by one TransferDone
  bool preauth_relays_ = false;  // TLS session: the pre-auth child stays as the relay
};

// A child may write this many lines to the log; more are dropped (a compromised child must not
// be able to flood the log).
constexpr std::uint32_t kMaxChildLogLines = 200;

const std::array<SessionMonitor::RequestRule, 7> SessionMonitor::kRequestTable = {{
    {MessageType::kLoginRequest, Phase::kPreauth, true, &SessionMonitor::handle_login},
    {MessageType::kLogEvent, Phase::kPreauth, false, &SessionMonitor::handle_preauth_log},
    {MessageType::kLogEvent, Phase::kPostauth, false, &SessionMonitor::handle_postauth_log},
    {MessageType::kPassiveListen, Phase::kPostauth, false, &SessionMonitor::handle_passive_listen},
    {MessageType::kDataConnect, Phase::kPostauth, false, &SessionMonitor::handle_data_connect},
    {MessageType::kActiveTarget, Phase::kPostauth, false, &SessionMonitor::handle_active_target},
    {MessageType::kTransferDone, Phase::kPostauth, false, &SessionMonitor::handle_transfer_done},
}};

bool SessionMonitor::dispatch(Phase phase, ReceivedMessage& message) {
  for (const auto& rule : kRequestTable) {
    if (static_cast<std::uint16_t>(rule.type) != message.type) continue;
    // SECURITY: a request outside its phase ends the session.
    if (rule.phase != phase) continue;
    if (rule.decides_authentication && logged_in_) break;
    if (message.attached_fd.valid()) {
      log_error("child sent a descriptor with " + std::string(message_type_name(message.type)));
      return false;
    }
    return (this->*rule.handler)(message);
  }
  log_error("protocol violation: " + std::string(message_type_name(message.type)) + " (type " +
            std::to_string(message.type) + ") not allowed in the " +
            (phase == Phase::kPreauth ? "pre-auth" : "post-auth") + " phase; ending session");
  return false;
}

bool SessionMonitor::log_child_event(ReceivedMessage& message, const char* role,
                                     std::uint32_t& count) {
  auto event = decode_payload<LogEvent>(message.payload);
  if (!event) {
    log_error("malformed LogEvent: " + event.error().message);
    return false;
  }
  if (++count > kMaxChildLogLines) {
    if (count == kMaxChildLogLines + 1) log_warning(std::string(role) + " child: further log lines dropped");
    return true;
  }
  // SECURITY: the text may carry client bytes; escape_for_log keeps it one printable line.
  const std::string line = std::string(role) + ": " + escape_for_log(event->text, kMaxReasonLength);
  switch (event->level) {
    case EventLevel::kError: log_error(line); break;
    case EventLevel::kWarning: log_warning(line); break;
    case EventLevel::kInfo: log_info(line); break;
    case EventLevel::kDebug: log_debug(line); break;
  }
  return true;
}

bool SessionMonitor::handle_preauth_log(ReceivedMessage& message) {
  return log_child_event(message, "pre-auth", preauth_log_lines_);
}

bool SessionMonitor::handle_postauth_log(ReceivedMessage& message) {
  return log_child_event(message, "post-auth", postauth_log_lines_);
}

bool SessionMonitor::handle_login(ReceivedMessage& message) {
  auto request = decode_payload<LoginRequest>(message.payload);
  if (!request) {
    log_error("malformed LoginRequest: " + request.error().message);
    return false;
  }
  const auto started = std::chrono::steady_clock::now();
  LoginOutcome outcome = decide_login(*request);
  ::explicit_bzero(request->password.data(), request->password.size());
  ::explicit_bzero(message.payload.data(), message.payload.size());
  if (outcome.user) {
    // SECURITY: the pre-auth phase is over: PAM modules run no more in this session.
    pam_.finish();
    if (outcome.read_only) {
      // Anonymous FTP takes any password (by custom an e-mail address, which is not logged).
      log_line(LogLevel::kInfo, "anonymous login", {{"event", "login"}, {"user", "anonymous"}});
      user_ = "anonymous";
      access_ = AccessMode::kAnonymous;
    } else {
      const std::string user = escape_for_log(outcome.user->name);
      log_line(LogLevel::kInfo, "login accepted for user '" + user + "' (" + outcome.backend + ")",
               {{"event", "login"}, {"user", user}, {"backend", outcome.backend}});
      user_ = outcome.user->name;
      access_ = AccessMode::kReal;
      report('S');
    }
    return promote_standby(*outcome.user, outcome.read_only);
  }
  // Each failure of this address waits longer, across sessions (the listener keeps count).
  // SECURITY: every refusal, whichever backend or list decided it, gets the same answer at the
  // same moment (attempt start + delay): reply and timing do not tell the reasons apart.
  const auto delay = failure_delay(std::chrono::milliseconds(config_.login_fail_delay_ms),
                                   prior_failures_ + failed_logins_);
  sleep_until(started + delay);
  report('F');
  ++failed_logins_;
  const std::string user = escape_for_log(request->user);
  log_line(LogLevel::kWarning,
           "login refused for user '" + user + "': " + outcome.log_reason + " (attempt " +
               std::to_string(failed_logins_) + " of " + std::to_string(config_.max_login_attempts) +
               "; answered after " + std::to_string(delay.count()) + " ms, " +
               std::to_string(prior_failures_) + " earlier failures from this address)",
           {{"event", "login-failed"}, {"user", user}});
  const bool final_attempt = failed_logins_ >= config_.max_login_attempts;
  auto sent = preauth_.send(
      LoginResult{final_attempt ? LoginStatus::kRejectedFinal : LoginStatus::kRejected});
  if (!sent) {
    log_error(sent.error().message);
    return false;
  }
  if (final_attempt) {
    // Give the child a moment to answer 530 and close; then the session ends either way.
    ReceivedMessage ignored;
    (void)preauth_.receive(ignored, std::chrono::seconds(5));
    return false;
  }
  return true;
}

// Order: anonymous names; the user lists (by name, before any password is checked); virtual
// users (a name in users_file never reaches PAM); PAM; then the group lists on the account found.
SessionMonitor::LoginOutcome SessionMonitor::decide_login(const LoginRequest& request) {
  LoginOutcome outcome;
  if (is_anonymous_login(request.user)) {
    outcome.backend = "anonymous";
    if (auto refused = refuse_by_name(config_, "anonymous")) {
      outcome.log_reason = "anonymous: " + *refused;
      return outcome;
    }
    const gid_t groups[] = {config_.anon_gid};
    if (auto refused = refuse_by_groups(config_, groups)) {
      outcome.log_reason = "anonymous: " + *refused;
      return outcome;
    }
    outcome.user = VirtualUser{"anonymous", "", config_.anon_uid, config_.anon_gid,
                               config_.anon_root};
    outcome.read_only = true;
    return outcome;
  }
  if (auto refused = refuse_by_name(config_, request.user)) {
    outcome.log_reason = *refused;
    return outcome;
  }
  if (!config_.pam_enable || verifier_->knows(request.user)) {
    outcome.backend = "virtual";
    const auto decision = verifier_->check(request.user, request.password);
    if (!decision.accepted) {
      outcome.log_reason = decision.log_reason;
      return outcome;
    }
    const gid_t groups[] = {decision.user->gid};
    if (auto refused = refuse_by_groups(config_, groups)) {
      outcome.log_reason = *refused;
      return outcome;
    }
    outcome.user = *decision.user;
    return outcome;
  }
  return decide_pam_login(request);
}

SessionMonitor::LoginOutcome SessionMonitor::decide_pam_login(const LoginRequest& request) {
  LoginOutcome outcome;
  outcome.backend = "PAM";
  PamCheck check{config_.pam_service, request.user, request.password, peer_.host_string()};
  auto verdict = pam_.authenticate(check);
  ::explicit_bzero(check.password.data(), check.password.size());
  if (!verdict) {
    log_error(verdict.error().message);
    outcome.log_reason = "PAM helper failed: " + verdict.error().message;
    return outcome;
  }
  const std::string reason = escape_for_log(verdict->reason, kMaxReasonLength);
  switch (verdict->outcome) {
    case PamOutcome::kAccepted:
      break;
    case PamOutcome::kAuthenticationFailed:
      outcome.log_reason = "PAM authentication failed: " + reason;
      return outcome;
    case PamOutcome::kAccountRefused:
      outcome.log_reason = "PAM account check failed: " + reason;
      return outcome;
    case PamOutcome::kRootRefused:
      outcome.log_reason = "uid 0 may never log in (" + reason + ")";
      return outcome;
    case PamOutcome::kFailed:
      outcome.log_reason = "PAM error: " + reason;
      return outcome;
  }
  // The decoder already refused uid/gid 0 and an unclean home; what remains is policy.
  const std::string account = escape_for_log(verdict->account);
  if (verdict->account != request.user) {
    // A module mapped the name (e.g. case folding): the lists apply to the account as well.
    if (auto refused = refuse_by_name(config_, verdict->account)) {
      outcome.log_reason = "account '" + account + "' " + *refused;
      return outcome;
    }
  }
  if (verdict->home == "/") {
    // SECURITY: a system account whose home is / would see the whole file system.
    outcome.log_reason = "account '" + account + "' has / as its home directory";
    return outcome;
  }
  std::vector<gid_t> groups{verdict->gid};
  groups.insert(groups.end(), verdict->groups.begin(), verdict->groups.end());
  if (auto refused = refuse_by_groups(config_, groups)) {
    outcome.log_reason = *refused;
    return outcome;
  }
  outcome.user = VirtualUser{verdict->account, "", verdict->uid, verdict->gid, verdict->home};
  return outcome;
}

bool SessionMonitor::is_anonymous_login(std::string_view name) const {
  return config_.anonymous_enable && config_.anon_uid != 0 &&
         (name == "anonymous" || name == "ftp" || name == "ANONYMOUS" || name == "FTP");
}

bool SessionMonitor::promote_standby(const VirtualUser& user, bool read_only) {
  BecomeUser become{user.name, user.uid, user.gid, user.root, read_only};
  auto sent = postauth_.send(become);
  std::optional<StandbyReady> ready;
  if (sent) {
    auto answer = postauth_.expect<StandbyReady>(nullptr, kChildAnswerTimeout);
    if (answer) ready = *answer;
    else log_error("standby child: " + answer.error().message);
  } else {
    log_error(sent.error().message);
  }
  if (!ready || !ready->ok) {
    if (ready) log_error("cannot start session for '" + escape_for_log(user.name) + "': " + escape_for_log(ready->reason, 512));
    (void)preauth_.send(LoginResult{LoginStatus::kUnavailable});
    ReceivedMessage ignored;
    (void)preauth_.receive(ignored, std::chrono::seconds(5));
    return false;
  }
  auto accepted = preauth_.send(LoginResult{LoginStatus::kAccepted});
  if (!accepted) {
    log_error(accepted.error().message);
    return false;
  }
  auto handoff = preauth_.expect<Handoff>(nullptr, kChildAnswerTimeout);
  if (!handoff) {
    log_error("pre-auth child during hand-off: " + handoff.error().message);
    return false;
  }
  if (handoff->tls.control_tls) {
    // TLS: the pre-auth child stays as the control connection's TLS endpoint (it has nothing
    // more to ask the monitor) and relays plaintext to the post-auth child.
    if (!config_.tls_enable) {
      log_error("pre-auth child claims TLS on a server without TLS; ending session");
      return false;
    }
    preauth_relays_ = true;
    log_info("control connection is TLS-protected; data protection " +
             std::string(handoff->tls.prot_private ? "private" : "clear"));
  } else {
    // The pre-auth child has nothing left to do; it is stopped whatever it would do next.
    preauth_.close();
    ::kill(preauth_pid_, SIGKILL);
    reap(preauth_pid_, "pre-auth");
  }
  auto started = postauth_.send(StartSession{std::move(handoff->pending_input), handoff->tls});
  if (!started) {
    log_error(started.error().message);
    return false;
  }
  logged_in_ = true;
  return true;
}

bool SessionMonitor::handle_passive_listen(ReceivedMessage& message) {
  auto request = decode_payload<PassiveListen>(message.payload);
  if (!request) {
    log_error("malformed PassiveListen: " + request.error().message);
    return false;
  }
  active_->clear();  // the latest of PASV/EPSV and PORT/EPRT wins
  auto sent = postauth_.send(passive_->listen());
  if (!sent) log_error(sent.error().message);
  return sent.ok();
}

bool SessionMonitor::handle_active_target(ReceivedMessage& message) {
  auto request = decode_payload<ActiveTarget>(message.payload);
  if (!request) {
    log_error("malformed ActiveTarget: " + request.error().message);
    return false;
  }
  passive_->close();
  auto sent = postauth_.send(ActiveReady{active_->set_target(*request)});
  if (!sent) log_error(sent.error().message);
  return sent.ok();
}

bool SessionMonitor::handle_data_connect(ReceivedMessage& message) {
  auto request = decode_payload<DataConnect>(message.payload);
  if (!request) {
    log_error("malformed DataConnect: " + request.error().message);
    return false;
  }
  UniqueFd connection;
  const auto timeout = std::chrono::seconds(config_.data_connection_timeout);
  const DataStatus status = active_->has_target() ? active_->connect(timeout, connection)
                                                  : passive_->accept(timeout, connection);
  auto sent = postauth_.send(DataReady{status}, connection.get());
  if (!sent) log_error(sent.error().message);
  if (status == DataStatus::kConnected) ++unreported_data_connections_;
  return sent.ok();
}

bool SessionMonitor::handle_transfer_done(ReceivedMessage& message) {
  auto transfer = decode_payload<TransferDone>(message.payload);
  if (!transfer) {
    log_error("malformed TransferDone: " + transfer.error().message);
    return false;
  }
  // SECURITY: one report per data connection the monitor handed out, so a compromised child
  // cannot fill the transfer log with transfers that never happened.
  if (unreported_data_connections_ == 0) {
    log_error("protocol violation: TransferDone without a data connection; ending session");
    return false;
  }
  --unreported_data_connections_;
  const bool incoming = transfer->direction == TransferDirection::kIncoming;
  const std::string bytes = std::to_string(transfer->bytes);
  const std::string milliseconds = std::to_string(transfer->milliseconds);
  // SECURITY: the path is client bytes; escaped for the log (JSON fields are escaped again).
  const std::string path = escape_for_log(transfer->path, 1024);
  const std::string user = escape_for_log(user_);
  log_line(LogLevel::kInfo,
           std::string(incoming ? "upload" : "download") + " of '" + path + "' " +
               (transfer->complete ? "complete" : "incomplete") + ": " + bytes + " bytes in " +
               milliseconds + " ms",
           {{"event", "transfer"},
            {"direction", incoming ? "in" : "out"},
            {"user", user},
            {"path", path},
            {"bytes", bytes},
            {"ms", milliseconds},
            {"type", transfer->ascii ? "ascii" : "binary"},
            {"status", transfer->complete ? "complete" : "incomplete"}});
  if (!xferlog_) return true;
  TransferLogEntry entry;
  entry.now = ::time(nullptr);
  entry.milliseconds = transfer->milliseconds;
  const std::string host = peer_.host_string();
  entry.remote_host = host;
  entry.transfer = std::move(*transfer);
  entry.access = access_;
  entry.user = user_;
  const std::string line = format_transfer_log_line(entry);
  // One write on an O_APPEND descriptor: lines of concurrent sessions never interleave.
  if (::write(xferlog_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    log_error(system_error("write(xferlog_file)", errno).message);
  }
  return true;
}

void SessionMonitor::serve(Phase phase, MonitorChannel& channel, std::chrono::milliseconds timeout) {
  for (;;) {
    if (phase == Phase::kPreauth && logged_in_) return;
    ReceivedMessage message;
    auto status = channel.receive(message, timeout);
    if (!status) {
      log_error("monitor channel: " + status.error().message + "; ending session");
      return;
    }
    if (*status == ReceiveStatus::kClosed) return;
    if (*status == ReceiveStatus::kTimeout) {
      log_warning("child silent for too long; ending session");
      return;
    }
    if (!dispatch(phase, message)) return;
  }
}

// The post-auth phase. With a TLS relay the pre-auth child lives on; its channel stays open so
// that it can still report (a LogEvent, e.g. its seccomp filter stopping it). Anything else
// from it now is a protocol violation.
void SessionMonitor::serve_postauth() {
  for (;;) {
    if (preauth_.valid()) {
      pollfd fds[2] = {{postauth_.fd(), POLLIN, 0}, {preauth_.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        log_error(system_error("poll", errno).message);
        return;
      }
      if (fds[1].revents != 0 && fds[0].revents == 0) {
        ReceivedMessage message;
        auto status = preauth_.receive(message, std::chrono::milliseconds(0));
        if (!status || *status == ReceiveStatus::kClosed) {
          preauth_.close();  // the relay ended; the post-auth child sees its control close
          continue;
        }
        if (*status == ReceiveStatus::kTimeout) continue;
        if (message.type != static_cast<std::uint16_t>(MessageType::kLogEvent) ||
            message.attached_fd.valid() || !log_child_event(message, "pre-auth", preauth_log_lines_)) {
          log_error("protocol violation: " + std::string(message_type_name(message.type)) +
                    " from the pre-auth child after login; ending session");
          return;
        }
        continue;
      }
    }
    ReceivedMessage message;
    auto status = postauth_.receive(message, std::chrono::milliseconds(-1));
    if (!status) {
      log_error("monitor channel: " + status.error().message + "; ending session");
      return;
    }
    if (*status != ReceiveStatus::kMessage) return;
    if (!dispatch(Phase::kPostauth, message)) return;
  }
}

void SessionMonitor::reap(pid_t& pid, const char* role) {
  if (pid <= 0) return;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool normal = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                      (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  if (!normal) log_warning(std::string(role) + " child " + describe_exit(status));
  pid = 0;
}

void SessionMonitor::end_children() {
  pam_.finish();
  preauth_.close();
  postauth_.close();
  // A child whose channel closed is normally exiting: give it a moment, so that its exit
  // status (idle timeout, stalled transfer, seccomp kill) can be logged. One that keeps running
  // is then stopped; every child is reaped, so no zombie outlives the monitor.
  for (pid_t* pid : {&preauth_pid_, &postauth_pid_}) {
    if (*pid <= 0) continue;
    const char* role = pid == &preauth_pid_ ? "pre-auth" : "post-auth";
    int status = 0;
    pid_t done = 0;
    for (int waited_ms = 0; waited_ms < 500; waited_ms += 5) {
      done = ::waitpid(*pid, &status, WNOHANG);
      if (done != 0) break;
      const timespec pause{0, 5'000'000};
      ::nanosleep(&pause, nullptr);
    }
    if (done == *pid) {
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        log_warning(std::string(role) + " child " + describe_exit(status));
      }
      *pid = 0;
      continue;
    }
    ::kill(*pid, SIGKILL);
    reap(*pid, role);
  }
}

bool SessionMonitor::start_children() {
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) {
    log_error(system_error("open(/dev/null)", errno).message);
    return false;
  }
  auto preauth_pair = make_monitor_socketpair();
  auto postauth_pair = make_monitor_socketpair();
  if (!preauth_pair || !postauth_pair) {
    log_error((preauth_pair ? postauth_pair.error() : preauth_pair.error()).message);
    return false;
  }
  // TLS sessions: the byte stream between the pre-auth child (TLS endpoint) and the post-auth
  // child (FTP engine).
  UniqueFd relay_preauth, relay_postauth;
  if (config_.tls_enable) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      log_error(system_error("socketpair(relay)", errno).message);
      return false;
    }
    relay_preauth.reset(pair[0]);
    relay_postauth.reset(pair[1]);
  }
  const pid_t monitor_pid = ::getpid();

  preauth_pid_ = ::fork();
  if (preauth_pid_ < 0) {
    log_error(system_error("fork", errno).message);
    return false;
  }
  if (preauth_pid_ == 0) {
    set_process_name("wftpd:preauth");
    ChildFds fds{devnull.get(), client_.get(), preauth_pair->second.get(), netns_.get(),
                 tls_bundle_.get(), relay_preauth.get()};
    if (!arrange_child_fds(fds)) _exit(kExitSandboxFailed);
    ChildSetup setup;
    setup.control_fd = kChildControlFd;
    setup.monitor_fd = kChildMonitorFd;
    setup.tls_bundle_fd = tls_bundle_ ? kChildTlsBundleFd : -1;
    setup.relay_fd = relay_preauth ? kChildRelayFd : -1;
    setup.implicit_tls = implicit_tls_;
    setup.ticket_keys = &ticket_keys_;
    setup.enter_sandbox = [&](const std::string& failure) {
      if (!failure.empty()) {
        log_error("pre-auth child: " + failure);
        return false;
      }
      SandboxSpec spec;
      // SECURITY: the filter follows the configuration: what only TLS needs is allowed only
      // when TLS is on.
      spec.role = config_.tls_enable ? "preauth-tls" : "preauth";
      spec.violation_report_fd = kChildMonitorFd;
      spec.uid = config_.nopriv_uid;
      spec.gid = config_.nopriv_gid;
      spec.root = config_.secure_chroot_dir;
      spec.network_namespace_fd = kChildNetnsFd;
      spec.max_open_files = 16;
      // Pre-auth work is bounded by login_timeout; as the TLS relay it only encrypts control
      // traffic. Ten minutes of CPU and 1 GiB of address space are far beyond either.
      spec.max_address_space = rlim_t{1} << 30;
      spec.max_cpu_seconds = 600;
      spec.expected_parent = monitor_pid;
      spec.stderr_replacement_fd = kChildDevNullFd;
      auto sandboxed = enter_sandbox(spec);
      if (!sandboxed) log_error("pre-auth sandbox: " + sandboxed.error().message);
      return sandboxed.ok();
    };
    _exit(engines_.run_preauth(config_, setup));
  }

  postauth_pid_ = ::fork();
  if (postauth_pid_ < 0) {
    log_error(system_error("fork", errno).message);
    return false;
  }
  if (postauth_pid_ == 0) {
    // The standby child: forked before the monitor confines itself, it waits (doing nothing
    // but one blocking read from the monitor) until a login is accepted, then becomes the
    // post-auth child. Its only input is the monitor.
    set_process_name("wftpd:standby");
    preauth_pair->first.reset();
    preauth_pair->second.reset();
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != monitor_pid) _exit(0);
    // SECURITY: the post-auth child gets the key only when full handshakes on data connections
    // are allowed (require_tls_session_reuse=no); otherwise it never holds the key.
    const bool needs_key = tls_bundle_ && !config_.require_tls_session_reuse;
    ChildFds fds{devnull.get(), client_.get(), postauth_pair->second.get(), netns_.get(),
                 needs_key ? tls_bundle_.get() : -1, relay_postauth.get()};
    if (!arrange_child_fds(fds)) _exit(kExitSandboxFailed);
    MonitorChannel monitor{UniqueFd(kChildMonitorFd)};
    auto become = monitor.expect<BecomeUser>();
    if (!become) _exit(0);  // session ended before a login
    set_process_name("wftpd:postauth");
    ChildSetup setup;
    setup.control_fd = kChildControlFd;
    setup.monitor_fd = kChildMonitorFd;
    setup.tls_bundle_fd = needs_key ? kChildTlsBundleFd : -1;
    setup.relay_fd = relay_postauth ? kChildRelayFd : -1;
    setup.ticket_keys = &ticket_keys_;
    setup.enter_sandbox = [&](const std::string& failure) {
      if (!failure.empty()) {
        (void)monitor.send(StandbyReady{false, failure.substr(0, kMaxReasonLength)});
        return false;
      }
      SandboxSpec spec;
      // SECURITY: a read-only (anonymous) session gets a filter without any write system call.
      spec.role = !become->read_only              ? "postauth"
                  : config_.anon_upload_dir.empty() ? "anonymous"
                                                    : "anonymous-upload";
      spec.violation_report_fd = kChildMonitorFd;
      spec.uid = become->uid;
      spec.gid = become->gid;
      spec.root = become->root;
      spec.network_namespace_fd = kChildNetnsFd;
      spec.max_open_files = 64;
      // Long transfers are legitimate: no CPU limit; address space bounds a runaway listing.
      spec.max_address_space = rlim_t{4} << 30;
      spec.expected_parent = monitor_pid;
      spec.stderr_replacement_fd = kChildDevNullFd;
      ::umask(static_cast<mode_t>(config_.local_umask));
      auto sandboxed = enter_sandbox(spec);
      if (!sandboxed) {
        (void)monitor.send(StandbyReady{false, sandboxed.error().message.substr(0, kMaxReasonLength)});
        return false;
      }
      return monitor.send(StandbyReady{true, ""}).ok();
    };
    _exit(engines_.run_postauth(config_, *become, setup));
  }
  preauth_ = MonitorChannel(std::move(preauth_pair->first));
  postauth_ = MonitorChannel(std::move(postauth_pair->first));
  netns_.reset();  // only the children need it
  tls_bundle_.reset();
  // Both children have their copy of the ticket keys; the monitor has no use for them.
  OPENSSL_cleanse(ticket_keys_.data(), ticket_keys_.size());
  return true;
}

int SessionMonitor::run() {
  if (config_.pam_enable) {
    // First, while the monitor's memory holds nothing but the configuration: the waiting child
    // keeps a copy of it until it execs the helper.
    auto started = pam_.start(config_);
    if (!started) {
      log_error("PAM helper: " + started.error().message);
      return 1;
    }
  }
  client_ = UniqueFd(kSessionClientFd);
  // Above the children's descriptor range, so no child inherits it.
  report_ = UniqueFd(::fcntl(kSessionReportFd, F_DUPFD_CLOEXEC, 10));
  ::close(kSessionReportFd);
  if (config_.xferlog_enable) {
    // Above the children's descriptor range, so no child inherits it.
    xferlog_ = UniqueFd(::fcntl(kSessionXferlogFd, F_DUPFD_CLOEXEC, 10));
    ::close(kSessionXferlogFd);
    if (!xferlog_) {
      log_error(system_error("transfer log descriptor", errno).message);
      return 1;
    }
  }
  if (!config_.tls_enable) ::close(kSessionTlsFd);  // /dev/null in that slot
  if (config_.tls_enable) {
    // The bundle stays unread here: the monitor's memory (which the standby child inherits)
    // never holds the private key.
    tls_bundle_ = UniqueFd(::fcntl(kSessionTlsFd, F_DUPFD_CLOEXEC, 10));
    ::close(kSessionTlsFd);
    if (!tls_bundle_) {
      log_error(system_error("TLS credential descriptor", errno).message);
      return 1;
    }
    auto keys = make_ticket_keys();
    if (!keys) {
      log_error(keys.error().message);
      return 1;
    }
    ticket_keys_ = *keys;
  }
  netns_ = UniqueFd(::fcntl(kSessionNetnsFd, F_DUPFD_CLOEXEC, 10));
  ::close(kSessionNetnsFd);
  if (!netns_) {
    log_error(system_error("network namespace descriptor", errno).message);
    return 1;
  }
  auto peer = SocketAddress::peer_of(client_.get());
  auto local = SocketAddress::local_of(client_.get());
  if (!peer || !local) {
    log_error("control connection: " + (peer ? local.error() : peer.error()).message);
    return 1;
  }
  peer_ = *peer;
  local_ = *local;
  if (proxied_client_ || destination_) {
    // SECURITY: defence in depth against a listener bug: a client named by a proxy is taken
    // only from a peer this configuration trusts to name one.
    auto trusted = parse_prefix_list(config_.trusted_proxies);
    if (!proxied_client_ || !config_.proxy_protocol || !trusted ||
        !any_contains(*trusted, peer_)) {
      log_error("proxied client given for a connection from " + peer_.to_string() +
                ", which is not a trusted proxy; ending session");
      return 1;
    }
    // Behind a trusted proxy (the listener read its PROXY header): the client is who the proxy
    // says; the socket's peer is the proxy, which also relays passive data connections.
    proxy_ = peer_;
    peer_ = *proxied_client_;
    log_info("connected through trusted proxy " + proxy_->to_string() + " from " + peer_.to_string());
  }
  // Bounds every reply write of the children on a client that stops reading.
  const timeval send_timeout{static_cast<time_t>(config_.idle_timeout), 0};
  ::setsockopt(client_.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  // Telnet Synch (sent with ABOR) is urgent data; inline, the reader strips it with the rest of
  // the Telnet sequence instead of leaving a stray IAC that would eat the A of ABOR.
  const int on = 1;
  ::setsockopt(client_.get(), SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));

  verifier_.emplace(load_users(config_));
  PassiveAnnouncement announcement;
  if (!config_.pasv_address.empty() &&
      ::inet_pton(AF_INET, config_.pasv_address.c_str(), announcement.ipv4.data()) == 1) {
    announcement.use_configured = true;
  } else if (destination_ && destination_->family() == AF_INET) {
    // Behind a proxy, PASV names the address the client reached (the proxy forwards the
    // passive port range too); pasv_address, when set, still wins.
    const auto bytes = destination_->address_bytes();
    std::copy(bytes.begin(), bytes.begin() + 4, announcement.ipv4.begin());
    announcement.use_configured = true;
  }
  passive_.emplace(local_, peer_, PassivePortRange{config_.pasv_min_port, config_.pasv_max_port},
                   announcement, proxy_);
  active_.emplace(local_, peer_, config_.connect_from_port_20);

  // Children need these to enter their sandboxes; everything else goes before they exist.
  std::vector<cap_value_t> needed = {CAP_SETUID,    CAP_SETGID,  CAP_SYS_CHROOT,
                                     CAP_SYS_ADMIN, CAP_SETPCAP, CAP_KILL};
  if (config_.connect_from_port_20) needed.push_back(CAP_NET_BIND_SERVICE);
  auto bounded = restrict_bounding_set(needed);
  if (!bounded) {
    log_error("monitor: " + bounded.error().message);
    return 1;
  }
  if (!start_children()) {
    end_children();
    return 1;
  }

  SandboxSpec spec;
  spec.role = "monitor";
  spec.change_identity = false;
  spec.violation_report_fd = STDERR_FILENO;  // the monitor's stderr is the log
  spec.violation_format = policy::ReportFormat::kLine;
  // The report is written from the SIGSYS handler, which cannot format: it gets the framing of
  // this session's log lines now (with a syslog datagram or a JSON line, a bare text line would
  // be malformed). Its timestamp is therefore the sandbox's start.
  const auto [violation_prefix, violation_suffix] = log_line_frame(LogLevel::kError);
  policy::set_violation_line_frame(violation_prefix, violation_suffix);
  spec.root = config_.secure_chroot_dir;
  // SECURITY: the monitor keeps only CAP_KILL, to stop children that run under other uids,
  // and CAP_NET_BIND_SERVICE only when active connections must come from port 20.
  spec.retained_capabilities = {CAP_KILL};
  if (config_.connect_from_port_20) spec.retained_capabilities.push_back(CAP_NET_BIND_SERVICE);
  spec.max_open_files = 64;
  spec.max_address_space = rlim_t{1} << 30;
  auto sandboxed = enter_sandbox(spec);
  if (!sandboxed) {
    log_error("monitor sandbox: " + sandboxed.error().message);
    end_children();
    return kExitSandboxFailed;
  }

  // A silent pre-auth child is given its own idle timeout plus a margin before the monitor
  // gives up on it (an honest one times out the client itself).
  serve(Phase::kPreauth, preauth_,
        std::chrono::seconds(static_cast<long long>(config_.idle_timeout) + 30));
  if (logged_in_) serve_postauth();
  end_children();
  log_info("session ended");
  return 0;
}

}  // namespace

int run_session_monitor(const SessionEngines& engines, const std::string& session_id,
                        const SessionOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);
  set_process_name("wftpd:monitor");
  set_log_role("monitor");
  // glibc reads the time zone file on the first gmtime_r; do it now, while files can still be
  // opened, so no sandboxed role (all fork from here) ever tries.
  ::tzset();
  auto text = read_whole_fd(kSessionConfigFd, 1u << 20);
  if (!text) {
    log_error("monitor: reading configuration: " + text.error().message);
    return 1;
  }
  auto config = parse_config(*text, "<session configuration>");
  if (!config) {
    log_error("monitor: " + config.error().message);
    return 1;
  }
  ::close(kSessionConfigFd);
  set_log_level(parse_log_level(config->log_level));
  set_log_framing(framing_of(*config));
  std::uint64_t id = 0;
  for (const char c : session_id) {
    if (c < '0' || c > '9' || id > (UINT64_MAX - 9) / 10) {
      log_error("monitor: bad session id (a decimal number is expected)");
      return 2;
    }
    id = id * 10 + static_cast<std::uint64_t>(c - '0');
  }
  // Behind a trusted proxy, the client it named (checked again in the monitor before use).
  auto peer = SocketAddress::peer_of(kSessionClientFd);
  set_log_session(id, options.proxied_client ? options.proxied_client->host_string()
                      : peer                 ? peer->host_string()
                                             : "unknown");
  if (options.implicit_tls && !config->tls_enable) {
    log_error("monitor: implicit TLS connection but tls_enable=no");
    return 1;
  }
  SessionMonitor monitor(engines, std::move(*config), options);
  return monitor.run();
}

}  // namespace wftpd
