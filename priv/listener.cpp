#include "priv/listener.hpp"

#include "priv/listener_internal.hpp"

#if defined(WFTPD_SANITIZE)
#include <sanitizer/lsan_interface.h>
#endif

namespace wftpd {
namespace listener_internal {

Result<void> Listener::apply_config(ValidConfig valid) {
  Config& config = valid.config;
  if (force_stderr_) config.log_output = "stderr";  // the monitors read it from the memfd
  auto resources = prepare_session_resources(valid);
  if (!resources) return resources.error();
  std::optional<TicketSecret> ticket_secret = ticket_secret_;
  if (config.tls_enable && !ticket_secret) {
    auto made = make_ticket_secret();
    if (!made) return made.error();
    ticket_secret = *made;
  }
  auto trusted = parse_prefix_list(config.trusted_proxies);
  if (!trusted) return trusted.error();
  auto access = ClientAccess::from_config(config);
  if (!access) return access.error();
  auto ban_exempt = parse_prefix_list(config.ban_exempt);
  if (!ban_exempt) return make_error("ban_exempt: " + ban_exempt.error().message);
  std::optional<gid_t> control_gid;
  if (!config.control_group.empty()) {
    const group* found = ::getgrnam(config.control_group.c_str());
    if (found != nullptr) {
      control_gid = found->gr_gid;
    } else if (config.control_group.find_first_not_of("0123456789") == std::string::npos) {
      control_gid = static_cast<gid_t>(std::stoul(config.control_group));
    } else {
      return make_error("control_group: no group named '" + config.control_group + "'");
    }
  }
  // Last, as the only step that changes process state: nothing can fail after it.
  auto log = open_log(framing_of(config), config.syslog_socket);
  if (!log) {
    return make_error("cannot log to syslog (" + log.error().message +
                      "); set log_output=stderr or start wardenftpd with --stderr");
  }
  resources_ = std::move(*resources);
  ticket_secret_ = ticket_secret;
  config_ = std::move(config);
  trusted_proxies_ = std::move(*trusted);
  access_ = std::move(*access);
  ban_exempt_ = std::move(*ban_exempt);
  control_gid_ = control_gid;
  control_.set_group(control_gid_);
  bans_.configure(BanList::Settings{config_.ban_after_failures,
                                    std::chrono::seconds(config_.ban_window),
                                    std::chrono::seconds(config_.ban_time)});
  limits_.set_limits(config_.max_per_ip, config_.connect_rate_per_ip);
  set_log_level(parse_log_level(config_.log_level));
  return ok_result();
}

// The sockets a new configuration must fit: at start, those inherited from the service manager;
// on a reload, every socket the listener keeps (a reload never rebinds).
ServingContext Listener::serving_context() const {
  ServingContext context;
  for (const auto& socket : inherited_) {
    context.sockets.push_back(
        ServedSocket{"inherited socket " + socket.local_address, socket.name, socket.local_port});
  }
  for (const auto& socket : listen_sockets_) {
    context.sockets.push_back(ServedSocket{
        std::string(socket_activated_ ? "an inherited socket" : "a listening socket") +
            " kept across the reload",
        socket.implicit_tls ? "ftps" : "ftp", 0});
  }
  return context;
}

void Listener::spawn_session(UniqueFd accepted, std::uint64_t session_id, const std::string& key,
                             const ClientOrigin& origin, bool implicit_tls) {
  const std::string client_host = origin.client.host_string();
  const auto log_here = [&](LogLevel level, const std::string& message) {
    log_connection(level, session_id, client_host, message);
  };
  auto moved = move_high(std::move(accepted));
  if (!moved) {
    log_here(LogLevel::kError, moved.error().message);
    return;
  }
  UniqueFd client = std::move(*moved);
  const std::string peer_text =
      origin.client.to_string() + (origin.proxy ? " via proxy " + origin.proxy->to_string() : "");

  // The monitor reports on this socket (priv/session_report.hpp): login results (throttling
  // and bans across sessions), its status, and claims for a place among a user's sessions,
  // which the listener answers on it. SOCK_SEQPACKET: each frame is one message, whole or not
  // sent at all.
  int report_pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, report_pair) != 0) {
    log_here(LogLevel::kError, system_error("socketpair(report)", errno).message);
    return;
  }
  UniqueFd report_read(report_pair[0]);
  UniqueFd report_write(report_pair[1]);
  ::fcntl(report_read.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(report_write.get(), F_SETFL, O_NONBLOCK);
  auto report_high = move_high(std::move(report_write));
  if (!report_high) {
    log_here(LogLevel::kError, report_high.error().message);
    return;
  }
  report_write = std::move(*report_high);
  const std::uint32_t prior_failures = throttle_.recent_failures(key, std::chrono::steady_clock::now());

  // SECURITY: the keys of this client's address only; the secret stays in the listener.
  UniqueFd ticket_keys;
  if (resources_.tls_bundle && ticket_secret_) {
    auto pipe = session_ticket_key_pipe(&*ticket_secret_, client_host);
    if (!pipe) {
      log_here(LogLevel::kError, pipe.error().message);
      return;
    }
    ticket_keys = std::move(*pipe);
  }

  refresh_syslog_connection();
  SessionLaunch launch = make_session_launch(host_, resources_, client.get(), report_write.get());
  launch.log = log_descriptor();
  launch.ticket_keys = ticket_keys ? ticket_keys.get() : -1;
  launch.session_id = std::to_string(session_id);
  launch.prior_failures = prior_failures;
  launch.implicit_tls = implicit_tls;
  if (origin.proxy) {
    launch.proxied_client = origin.client.to_string();
    if (origin.destination) launch.proxied_destination = origin.destination->to_string();
  }
  auto spawned = spawn_session_monitor(launch);
  if (!spawned) {
    log_here(LogLevel::kError, spawned.error().message);
    if (!implicit_tls) {
      (void)write_all(client.get(), "421 Service not available, closing control connection.\r\n");
    }
    return;
  }
  const pid_t pid = *spawned;
  const std::string id_text = launch.session_id;
  Session session{session_id, client_host, key, std::move(report_read), ReportReader{}, 0,
                  any_contains(ban_exempt_, origin.client), SessionRecord{}, {}, std::nullopt, 0};
  session.record.id = session_id;
  session.record.pid = pid;
  session.record.client = origin.client;
  session.record.proxy = origin.proxy ? origin.proxy->to_string() : std::string();
  session.record.started_unix = unix_now();
  session.record.last_activity = std::chrono::steady_clock::now();
  sessions_[pid] = std::move(session);
  limits_.session_started(key);
  metrics_.session_started();
  log_here(LogLevel::kInfo, "session " + id_text + " from " + peer_text + " (monitor pid " +
                                std::to_string(pid) + ")");
}

void Listener::accept_clients(int listen_fd, bool implicit_tls) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    SocketAddress peer;
    UniqueFd client(::accept4(listen_fd, peer.raw(), peer.length_ptr(), SOCK_CLOEXEC));
    if (!client) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ECONNABORTED || errno == EPROTO) continue;
      log_error(system_error("accept4", errno).message);
      // EMFILE and friends: back off briefly rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return;
    }
    // Every accepted connection gets a session id, refused ones too, so that every log line
    // about a connection names one.
    const std::string peer_text = peer.to_string();
    const std::string client_host = peer.host_string();
    // Connections waiting for their PROXY header count too, so the pending set is bounded.
    if (sessions_.size() + proxy_pending_.size() >= config_.max_clients) {
      log_connection(LogLevel::kWarning, next_session_id_++, client_host,
                     "refusing " + peer_text + ": max_clients (" +
                         std::to_string(config_.max_clients) + ") reached");
      // Non-blocking best effort: a client that does not read does not stall the listener.
      // (A client of the implicit TLS port expects TLS, not a clear reply: it is just closed.)
      if (!implicit_tls) {
        ::send(client.get(), kTooManyClients.data(), kTooManyClients.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      metrics_.refused(ServerMetrics::Refusal::kMaxClients);
      continue;
    }
    // SECURITY: only a trusted proxy's header is ever read; anyone else is the client.
    if (config_.proxy_protocol && any_contains(trusted_proxies_, peer)) {
      proxy_pending_.add(std::move(client), next_session_id_++, peer, implicit_tls,
                         std::chrono::steady_clock::now() +
                             std::chrono::seconds(config_.proxy_header_timeout));
      continue;
    }
    admit(std::move(client), next_session_id_++, ClientOrigin{peer, std::nullopt, std::nullopt},
          implicit_tls);
  }
}

// The access lists and the per-address limits on the session's client (behind a proxy: the
// real client), then a session.
void Listener::admit(UniqueFd client, std::uint64_t session_id, const ClientOrigin& origin,
                     bool implicit_tls) {
  const SocketAddress& peer = origin.client;
  // SECURITY: before anything is forked, and before the client can use a connection token.
  const auto access = access_.decide(peer);
  if (access != ClientAccess::Decision::kAllowed) {
    log_connection(LogLevel::kWarning, session_id, peer.host_string(),
                   "refusing " + peer.to_string() +
                       (origin.proxy ? " (via proxy " + origin.proxy->to_string() + ")" : "") + ": " +
                       std::string(ClientAccess::reason(access)));
    if (!implicit_tls) {
      ::send(client.get(), kAccessRefusedReply.data(), kAccessRefusedReply.size(),
             MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    metrics_.refused(ServerMetrics::Refusal::kAccessList);
    return;
  }
  const std::string key = client_key(peer);
  const auto now = std::chrono::steady_clock::now();
  // SECURITY: a banned address is refused before anything is forked, and uses no token.
  if (const auto ban = bans_.check(peer, key, now)) {
    const bool automatic = ban->origin == BanList::Origin::kAutomatic;
    const std::string left =
        ban->remaining ? std::to_string(std::chrono::ceil<std::chrono::seconds>(*ban->remaining).count()) + " s left"
                       : "until unbanned";
    log_connection(LogLevel::kWarning, session_id, peer.host_string(),
                   "refusing " + peer.to_string() +
                       (origin.proxy ? " (via proxy " + origin.proxy->to_string() + ")" : "") +
                       (automatic ? ": banned after failed logins, " : ": banned (" + ban->prefix + "), ") + left);
    const std::string_view reply = automatic ? kBannedReply : kManuallyBannedReply;
    if (!implicit_tls) ::send(client.get(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    metrics_.refused(ServerMetrics::Refusal::kBanned);
    return;
  }
  const auto decision = limits_.admit(key, now);
  if (decision != ClientLimits::Decision::kAllow) {
    const bool too_many = decision == ClientLimits::Decision::kTooManySessions;
    log_connection(LogLevel::kWarning, session_id, peer.host_string(),
                   "refusing " + peer.to_string() +
                       (origin.proxy ? " (via proxy " + origin.proxy->to_string() + ")" : "") + ": " +
                       (too_many ? "max_per_ip (" + std::to_string(config_.max_per_ip) + ") reached"
                                 : "connect_rate_per_ip (" +
                                       std::to_string(config_.connect_rate_per_ip) + "/s) exceeded"));
    const std::string_view text = too_many ? kTooManyFromAddress : kTooFast;
    if (!implicit_tls) ::send(client.get(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    metrics_.refused(too_many ? ServerMetrics::Refusal::kMaxPerIp : ServerMetrics::Refusal::kConnectRate);
    return;
  }
  spawn_session(std::move(client), session_id, key, origin, implicit_tls);
}

Result<void> Listener::bind_all(const Config& config) {
  if (socket_activated_) return use_inherited_sockets(config);
  for (const bool implicit_tls : {false, true}) {
    const std::uint16_t port = implicit_tls ? config.tls_implicit_port : config.listen_port;
    if (port == 0) continue;
    for (const auto& host : config.listen_addresses) {
      auto fd = bind_listen_socket(host, port);
      if (!fd) return fd.error();
      listen_sockets_.push_back(ListenSocket{std::move(*fd), implicit_tls});
    }
  }
  return ok_result();
}

// Socket activation: the service manager's sockets instead of listen_address/listen_port.
Result<void> Listener::use_inherited_sockets(const Config& config) {
  for (auto& socket : inherited_) {
    // validate_config() refused a configuration without tls_enable for an implicit-TLS socket.
    const bool implicit_tls = serves_implicit_tls(socket, config.tls_implicit_port);
    listen_sockets_.push_back(ListenSocket{std::move(socket.fd), implicit_tls});
  }
  return ok_result();
}

std::string Listener::status_text() const {
  return std::to_string(sessions_.size()) + (sessions_.size() == 1 ? " session" : " sessions") +
         (socket_activated_ ? " (socket-activated)" : "");
}

void Listener::read_report(Session& session) {
  if (!session.report) return;
  char buffer[kMaxReportFrame];
  std::size_t taken = 0;
  while (taken < kReportBytesPerWakeup) {
    const ssize_t n = ::read(session.report.get(), buffer, sizeof(buffer));
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) session.report.reset();
      return;
    }
    taken += static_cast<std::size_t>(n);
    session.reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    for (;;) {
      auto report = session.reader.next();
      if (!report) {
        // SECURITY: a monitor that breaks the format is not believed any further.
        log_connection(LogLevel::kError, session.id, session.client,
                       "session " + std::to_string(session.id) + ": malformed report from its monitor (" +
                           report.error().message + "); its reports are ignored from now on");
        session.report.reset();
        return;
      }
      if (!*report) break;
      apply_report(session, **report);
    }
  }
}

void Listener::answer_claim(Session& session, const SessionReport& claim) {
  // One place per session, whatever its monitor asks; the sessions that hold one are counted
  // from the table, so a place is free again as soon as its session is gone.
  bool granted = session.claimed_user.empty();
  if (granted) {
    std::uint32_t holding = 0;
    for (const auto& [pid, other] : sessions_) {
      if (other.claimed_user == claim.user) ++holding;
    }
    granted = holding < claim.limit;
  }
  if (granted) session.claimed_user = claim.user;
  ListenerNotice answer;
  answer.type = NoticeType::kClaimAnswer;
  answer.granted = granted;
  send_notice(session, answer, "session claim answer");
}

void Listener::apply_rate_demand(Session& session, const SessionReport& demand) {
  // A monitor reports at most one running transfer for its session: a new start replaces the
  // old one, so the table holds one entry per session whatever the monitor sends.
  if (demand.active) {
    // Sessions are grouped by the user they logged in as; a demand before a login counts alone.
    const std::string user = session.record.logged_in() ? session.record.user
                                                        : "\x01session " + std::to_string(session.id);
    session.rate_demand = RateDemand{user, demand.direction, demand.session_rate, demand.user_rate};
    share_rates(&session);
  } else if (session.rate_demand && session.rate_demand->direction == demand.direction) {
    session.rate_demand.reset();
    session.rate_share_sent = 0;
    share_rates(nullptr);
  }
}

void Listener::share_rates(Session* asking) {
  std::vector<Session*> running;
  std::vector<RateDemand> demands;
  for (auto& [pid, session] : sessions_) {
    if (!session.rate_demand) continue;
    running.push_back(&session);
    demands.push_back(*session.rate_demand);
  }
  const std::vector<std::uint64_t> shares =
      compute_rate_shares(demands, config_.max_download_rate, config_.max_upload_rate);
  for (std::size_t i = 0; i < running.size(); ++i) {
    Session& session = *running[i];
    if (&session != asking && shares[i] == session.rate_share_sent) continue;
    session.rate_share_sent = shares[i];
    ListenerNotice notice;
    notice.type = NoticeType::kRateShare;
    notice.direction = session.rate_demand->direction;
    notice.rate = shares[i];
    send_notice(session, notice, "rate share");
  }
}

void Listener::apply_report(Session& session, const SessionReport& report) {
  const auto now = std::chrono::steady_clock::now();
  const bool login = report.type == ReportType::kLoginFailed || report.type == ReportType::kLoginAccepted;
  if (login) {
    // At most max_login_attempts + 1 results per session count; more is a misbehaving monitor.
    if (session.login_reports >= config_.max_login_attempts + 1) return;
    ++session.login_reports;
  }
  if (report.type == ReportType::kClaimSession) return answer_claim(session, report);
  if (report.type == ReportType::kQuotaQuery) return answer_quota_query(session, report);
  if (report.type == ReportType::kQuotaUsed) return apply_quota_used(session, report);
  if (report.type == ReportType::kRateDemand) return apply_rate_demand(session, report);
  session.record.apply(report, now);
  metrics_.apply(report);
  if (report.type == ReportType::kLoginAccepted && report.backend != LoginBackend::kAnonymous) {
    throttle_.record_success(session.client_key);
  }
  if (report.type != ReportType::kLoginFailed) return;
  throttle_.record_failure(session.client_key, now);
  if (session.ban_exempt || !bans_.record_failure(session.client_key, now, client_key_text(session.client_key))) return;
  log_connection(LogLevel::kWarning, session.id, session.client,
                 "banning " + session.client +
                     (session.client.find(':') != std::string::npos ? " (its /64)" : "") + " for " +
                     std::to_string(config_.ban_time) + " s: " + std::to_string(config_.ban_after_failures) +
                     " failed logins within " + std::to_string(config_.ban_window) + " s");
  metrics_.ban_started(BanList::Origin::kAutomatic);
  ban_state_changed();
}

void Listener::reap_children() {
  // SIGCHLD coalesces: reap until nothing is left.
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (rescan_ && rescan_->pid == pid) rescan_->reaped = true;
    auto it = sessions_.find(pid);
    if (it == sessions_.end()) continue;
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      log_connection(LogLevel::kWarning, it->second.id, it->second.client,
                     "session " + std::to_string(it->second.id) + " monitor " + describe_exit(status));
    }
    if (ended_by_sandbox_violation(status)) metrics_.monitor_sandbox_violation();
    read_report(it->second);  // what the monitor wrote before it ended
    limits_.session_ended(it->second.client_key);
    const bool was_transferring = it->second.rate_demand.has_value();
    sessions_.erase(it);
    // The others' shares of the rates this session shared grow again.
    if (was_transferring) share_rates(nullptr);
  }
}

Result<void> Listener::reload() {
  auto valid = load_config_file(config_path_, serving_context());
  if (!valid) {
    log_error("reload refused, keeping the current configuration: " + valid.error().message);
    return valid.error();
  }
  Config& config = valid->config;
  if (!socket_activated_ &&
      (config.listen_addresses != config_.listen_addresses || config.listen_port != config_.listen_port ||
       config.tls_implicit_port != config_.tls_implicit_port)) {
    // The sockets stay as bound (validate_config checked the new file against them).
    log_warning("reload: listen_address, listen_port and tls_implicit_port changes need a "
                "restart; kept the old ones");
    config.listen_addresses = config_.listen_addresses;
    config.listen_port = config_.listen_port;
    config.tls_implicit_port = config_.tls_implicit_port;
  }
  const std::string old_control_socket = config_.control_socket;
  auto applied = apply_config(std::move(*valid));
  if (!applied) {
    log_error("reload refused, keeping the current configuration: " + applied.error().message);
    return applied.error();
  }
  last_reload_unix_ = unix_now();
  log_info("configuration reloaded from " + config_path_ + "; it applies to new sessions");
  // max_download_rate and max_upload_rate are divided anew at once (a running session's
  // transfers still never exceed the bounds of the configuration it started with).
  share_rates(nullptr);
  if (config_.control_socket != old_control_socket) {
    auto opened = open_control_socket();
    if (!opened) log_error(opened.error().message);
  }
  return ok_result();
}

void Listener::shut_down() {
  log_info("shutting down: closing listening sockets, ending " + std::to_string(sessions_.size()) +
           " session(s)");
  if (ban_saves_.dirty()) save_ban_state();
  if (rescan_) finish_rescan("failed: the daemon stopped");
  listen_sockets_.clear();
  proxy_pending_.clear();
  for (const auto& [pid, id] : sessions_) ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!sessions_.empty() && std::chrono::steady_clock::now() < deadline) {
    reap_children();
    if (!sessions_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [pid, id] : sessions_) ::kill(pid, SIGKILL);
  while (!sessions_.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0 && errno != EINTR) break;
    sessions_.erase(pid);
  }
  // After the sessions: what their monitors reported last is in.
  if (quotas_.dirty()) save_quota_usage();
}

// Everything before the first accept: configuration, namespace, sockets, signal pipe, the
// seccomp floor. The error is already logged when it fails.
bool Listener::start_up() {
  auto valid = load_config_file(config_path_, serving_context());
  if (!valid) {
    log_start_error(valid.error().message);
    return false;
  }
  auto applied = apply_config(std::move(*valid));
  if (!applied) {
    log_start_error(applied.error().message);
    return false;
  }
  auto session_host = prepare_session_host();
  if (!session_host) {
    log_start_error(session_host.error().message);
    return false;
  }
  host_ = std::move(*session_host);
  if (host_.lean_image.fd) {
    log_info("sessions without TLS run " + host_.lean_image.path);
  } else {
    // Not fatal: the full image serves every configuration, at a higher cost per session.
    const std::string note = "session image without TLS not usable (" + host_.lean_image.problem +
                             "); every session runs the full image";
    if (config_.tls_enable) {
      log_info(note);
    } else {
      log_warning(note);
    }
  }
  auto bound = bind_all(config_);
  if (!bound) {
    log_start_error(bound.error().message);
    return false;
  }
  auto control = open_control_socket();
  if (!control) {
    log_start_error(control.error().message);
    return false;
  }
  load_ban_state();
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    log_start_error(system_error("pipe2", errno).message);
    return false;
  }
  signal_read_ = UniqueFd(pipe_fds[0]);
  signal_write_ = UniqueFd(pipe_fds[1]);
  auto handlers = install_signal_handlers(signal_write_.get());
  if (!handlers) {
    log_start_error(handlers.error().message);
    return false;
  }
  // Start-up is done (namespace made, sockets bound): from here on, and in every process spawned
  // from here, the floor applies.
  auto floor = install_seccomp_floor();
  if (!floor) {
    log_error("seccomp floor: " + floor.error().message);
    return false;
  }
  return true;
}

// "127.0.0.1:21, [::1]:21 (implicit TLS), ..." for the start-up log line.
std::string Listener::listening_description() {
  std::string where;
  for (const auto& socket : inherited_) {
    where += (where.empty() ? "" : ", ") + socket.local_address +
             (serves_implicit_tls(socket, config_.tls_implicit_port) ? " (implicit TLS)" : "");
  }
  if (socket_activated_) where += " (inherited from the service manager)";
  inherited_.clear();  // their descriptors now belong to listen_sockets_
  for (const std::uint16_t port : {config_.listen_port, config_.tls_implicit_port}) {
    if (port == 0 || socket_activated_) continue;
    for (const auto& host : config_.listen_addresses) {
      where += (where.empty() ? "" : ", ") +
               (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               std::to_string(port) + (port == config_.tls_implicit_port ? " (implicit TLS)" : "");
    }
  }
  return where;
}

// Signals arrive as bytes on the self-pipe. Returns the exit status when the listener must stop
// (SIGTERM, SIGINT); reloads on SIGHUP.
std::optional<int> Listener::on_signals() {
  unsigned char signals[64];
  bool stop = false, reload_requested = false;
  ssize_t got;
  while ((got = ::read(signal_read_.get(), signals, sizeof(signals))) > 0) {
    for (ssize_t i = 0; i < got; ++i) {
      if (signals[i] == SIGTERM || signals[i] == SIGINT) stop = true;
      if (signals[i] == SIGHUP) reload_requested = true;
    }
  }
  reap_children();
  if (stop) {
    notifier_.stopping();
    shut_down();
    log_info("stopped");
#if defined(WFTPD_SANITIZE)
    // Sanitizer builds: a leak in the long-lived listener fails its SIGTERM exit status,
    // which every end-to-end test checks.
    if (__lsan_do_recoverable_leak_check() != 0) {
      log_error("LeakSanitizer found leaks in the listener");
      return 23;
    }
#endif
    return 0;
  }
  if (reload_requested) {
    notifier_.reloading();
    (void)reload();
    notifier_.ready(status_text());  // reloaded, or kept the old configuration
  }
  return std::nullopt;
}

int Listener::run() {
  if (!start_up()) return 1;
  log_info("listening on " + listening_description() +
           (config_.tls_enable ? "; AUTH TLS offered" : ""));
  notifier_.ready(status_text());

  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({signal_read_.get(), POLLIN, 0});
    for (const auto& socket : listen_sockets_) fds.push_back({socket.fd.get(), POLLIN, 0});
    const std::size_t first_report = fds.size();
    std::vector<pid_t> report_owner;
    for (const auto& [pid, session] : sessions_) {
      if (!session.report) continue;
      fds.push_back({session.report.get(), POLLIN, 0});
      report_owner.push_back(pid);
    }
    const std::size_t rescan_index = fds.size();
    if (rescan_) fds.push_back({rescan_->answer.get(), POLLIN, 0});
    const std::size_t first_pending = fds.size();
    proxy_pending_.append_poll_fds(fds);
    const std::size_t first_control = fds.size();
    control_.append_poll_fds(fds);
    const auto before = std::chrono::steady_clock::now();
    int timeout = proxy_pending_.poll_timeout_ms(before);
    const auto until = [&](std::chrono::steady_clock::time_point when) {
      return static_cast<int>(std::clamp<long long>(
          std::chrono::ceil<std::chrono::milliseconds>(when - before).count(), 0, 3600000));
    };
    for (const int other : {control_.poll_timeout_ms(before),
                            config_.metrics_textfile.empty() ? -1 : until(next_metrics_write_),
                            ban_saves_.next_due() ? until(*ban_saves_.next_due()) : -1,
                            quota_saves_.next_due() ? until(*quota_saves_.next_due()) : -1,
                            rescan_ ? until(rescan_->deadline) : -1}) {
      if (other >= 0) timeout = timeout < 0 ? other : std::min(timeout, other);
    }
    const int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_error(system_error("poll", errno).message);
      notifier_.stopping();
      shut_down();
      return 1;
    }
    if (fds[0].revents != 0) {
      if (const auto status = on_signals()) return *status;
    }
    for (std::size_t i = first_report; i < rescan_index; ++i) {
      if (fds[i].revents == 0) continue;
      auto it = sessions_.find(report_owner[i - first_report]);
      if (it != sessions_.end()) read_report(it->second);
    }
    if (rescan_index < first_pending && fds[rescan_index].revents != 0) read_rescan();
    check_rescan_deadline(std::chrono::steady_clock::now());
    auto headed = proxy_pending_.process(
        std::span<const pollfd>(fds).subspan(first_pending, first_control - first_pending),
        std::chrono::steady_clock::now());
    for (auto& connection : headed) {
      // LOCAL/UNKNOWN (e.g. the proxy's health check): the proxy itself is the client.
      ClientOrigin origin{connection.client.value_or(connection.proxy), connection.proxy,
                          connection.destination};
      admit(std::move(connection.fd), connection.session_id, origin, connection.implicit_tls);
    }
    for (std::size_t i = 1; i < first_report; ++i) {
      if (fds[i].revents & POLLIN) accept_clients(fds[i].fd, listen_sockets_[i - 1].implicit_tls);
    }
    for (const auto& request : control_.process(std::span<const pollfd>(fds).subspan(first_control),
                                                std::chrono::steady_clock::now())) {
      serve_control(request);
    }
    if (!config_.metrics_textfile.empty() && std::chrono::steady_clock::now() >= next_metrics_write_) {
      write_metrics_textfile();
    }
    if (ban_saves_.due(std::chrono::steady_clock::now())) save_ban_state();
    if (quota_saves_.due(std::chrono::steady_clock::now())) save_quota_usage();
    if (notifier_.active() && sessions_.size() != status_sessions_) {
      status_sessions_ = sessions_.size();
      notifier_.status(status_text());
    }
  }
}


}  // namespace listener_internal

using listener_internal::Listener;

int run_listener(const std::string& config_path, bool force_stderr) {
  set_log_role("listener");
  // First, before this process opens anything: inherited sockets sit at descriptors 3.., where
  // they are checked and moved out of the way.
  auto inherited = take_inherited_sockets();
  if (!inherited) {
    log_start_error("socket activation: " + inherited.error().message);
    return 1;
  }
  auto notifier = ServiceNotifier::from_environment();
  if (!notifier) {
    log_start_error("readiness notification: " + notifier.error().message);
    return 1;
  }
  Listener listener(config_path, force_stderr, std::move(*inherited), std::move(*notifier));
  return listener.run();
}

}  // namespace wftpd
