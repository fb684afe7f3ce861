#include "priv/session_monitor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <span>

#include "common/address_prefix.hpp"
#include "common/exit_codes.hpp"
#include "common/signing_key.hpp"
#include "common/tls_context.hpp"
#include "common/io.hpp"
#include "common/log.hpp"
#include "common/monitor_channel.hpp"
#include "common/secret_wipe.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"
#include "priv/active_connector.hpp"
#include "priv/listener_link.hpp"
#include "priv/login_verifier.hpp"
#include "priv/monitor_dispatch.hpp"
#include "priv/monitor_loop.hpp"
#include "priv/monitor_ports.hpp"
#include "priv/pam_backend.hpp"
#include "priv/passive_listener.hpp"
#include "priv/privilege_drop.hpp"
#include "priv/session_children.hpp"
#include "priv/upload_event.hpp"
#include "priv/upload_event_socket.hpp"
#include "priv/users_file_loader.hpp"

namespace wftpd {
namespace {

constexpr std::chrono::milliseconds kListenerAnswerTimeout{3000};

// Reads the ticket keys the listener wrote into the pipe `fd` (exactly kTicketKeyBytes, then
// end of file) and closes it.
Result<void> read_ticket_keys(UniqueFd fd, TicketKeys& keys) {
  std::array<char, kTicketKeyBytes + 1> buffer{};
  std::size_t filled = 0;
  // Bounded: every turn reads at least one byte into the buffer or ends.
  while (filled < buffer.size()) {
    auto got = read_some(fd.get(), std::span<char>(buffer).subspan(filled));
    if (!got) return got.error();
    if (*got == 0) break;
    filled += *got;
  }
  const bool whole = filled == kTicketKeyBytes;
  if (whole) std::memcpy(keys.data(), buffer.data(), keys.size());
  wipe_bytes(buffer.data(), buffer.size());
  if (!whole) return make_error("expected " + std::to_string(kTicketKeyBytes) + " bytes, got " +
                                std::to_string(filled));
  return ok_result();
}

// One session: sets up the descriptors, the children and the sandbox, then serves the request
// table (priv/monitor_dispatch.hpp) until the session ends. It is the live MonitorPorts: what
// the handlers do to sockets, children, the PAM helper and the logs happens here.
class SessionMonitor final : public MonitorPorts {
 public:
  SessionMonitor(const SessionEngines& engines, Config config, const SessionOptions& options,
                 std::uint64_t session_id)
      : engines_(engines),
        config_(std::move(config)),
        session_id_(session_id),
        implicit_tls_(options.implicit_tls),
        prior_failures_(options.prior_failures),
        destination_(options.proxied_destination),
        proxied_client_(options.proxied_client) {}

  int run();

  Result<void> send(Child to, const std::string& datagram, int attached_fd) override {
    return channel(to).send_datagram(datagram, attached_fd);
  }
  void linger(Child child) override {
    ReceivedMessage ignored;
    (void)channel(child).receive(ignored, std::chrono::seconds(5));
  }
  void stop_preauth() override {
    children_.preauth.close();
    if (stop_child(children_.preauth_pid, "pre-auth")) report_violations(1);
  }
  // The request table refuses logins once the login phase has ended; after it (no verifier)
  // there would be nobody to check a name against.
  bool knows_virtual_user(std::string_view name) override {
    return verifier_ && verifier_->knows(name);
  }
  LoginDecision check_virtual_user(std::string_view name, std::string_view password) override {
    if (!verifier_) return LoginDecision{false, nullptr, "the login phase is over"};
    return verifier_->check(name, password);
  }
  Result<PamVerdict> check_pam(const PamCheck& check) override { return pam_.authenticate(check); }
  void end_login_phase() override {
    pam_.finish();
    // SECURITY: the hashes are wiped as soon as no login can use them: a monitor compromised
    // later (its post-auth requests come from the logged-in user's process) finds none.
    verifier_.reset();
  }
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_until(std::chrono::steady_clock::time_point deadline) override {
    wftpd::sleep_until(deadline);
  }
  void report(const SessionReport& report) override { listener_.report(report); }
  bool claim_user_session(std::string_view user, std::uint32_t limit) override {
    if (!listener_.connected()) {
      log_warning("max_sessions_per_user cannot be counted without the listener (inetd mode)");
      return false;
    }
    SessionReport claim;
    claim.type = ReportType::kClaimSession;
    claim.user = std::string(user);
    claim.limit = limit;
    auto answer = listener_.ask(claim, NoticeType::kClaimAnswer, kListenerAnswerTimeout);
    return answer && answer->granted;
  }
  std::optional<ListenerNotice> ask_quota(std::uint32_t uploads_per_hour, bool wants_usage) override {
    if (!listener_.connected()) {
      log_warning("quotas and upload limits cannot be kept without the listener (inetd mode)");
      return std::nullopt;
    }
    SessionReport question;
    question.type = ReportType::kQuotaQuery;
    question.uploads_per_hour = uploads_per_hour;
    question.wants_usage = wants_usage;
    return listener_.ask(question, NoticeType::kQuotaAnswer, kListenerAnswerTimeout);
  }
  std::uint64_t start_rate_demand(const SessionReport& demand) override {
    // Without a listener (inetd mode) nothing is shared: the child keeps its own bound.
    auto answer = listener_.ask(demand, NoticeType::kRateShare, kListenerAnswerTimeout);
    return answer && answer->direction == demand.direction ? answer->rate : 0;
  }
  std::uint64_t rate_share(TransferDirection direction) override {
    return listener_.rate_share(direction);
  }
  PassiveReady passive_listen() override { return passive_->listen(); }
  void close_passive() override { passive_->close(); }
  ActiveStatus set_active_target(const ActiveTarget& target) override {
    return active_->set_target(target);
  }
  void clear_active_target() override { active_->clear(); }
  DataStatus open_data_connection(UniqueFd& connection) override {
    const auto timeout = std::chrono::seconds(config_.data_connection_timeout);
    return active_->has_target() ? active_->connect(timeout, connection)
                                 : passive_->accept(timeout, connection);
  }
  Result<std::string> sign_handshake(const SignRequest& request) override {
    if (!signing_key_) return make_error("no TLS key in this session");
    return signing_key_->sign(static_cast<std::uint16_t>(request.scheme), request.digest);
  }
  bool keeps_transfer_log() const override { return xferlog_.valid(); }
  void append_transfer_log(const std::string& line) override {
    // One write on an O_APPEND descriptor: lines of concurrent sessions never interleave.
    if (::write(xferlog_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      log_error(system_error("write(xferlog_file)", errno).message);
    }
  }
  void publish_upload(const UploadEvent& event) override {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    auto text = format_upload_event(event, session_id_, now);
    if (!text) {
      // Only a post-auth child that lies about its path (or a bug) gets here.
      log_error(text.error() == UploadEventError::kPathNotNormalised
                    ? "post-auth child reported an upload path that is not normalised; no upload event"
                    : "upload event field too long; no upload event");
      return;
    }
    // The session's totals (upload_events_.sent(), dropped()) are logged by log_summary() at its
    // end; each drop is also counted in the listener's metrics.
    if (upload_events_.send(*text) != UploadEventDelivery::kSent) {
      SessionReport dropped;
      dropped.type = ReportType::kEvent;
      dropped.event = ReportEvent::kUploadEventDropped;
      report(dropped);
    }
  }

 private:
  MonitorChannel& channel(Child child) {
    return child == Child::kPreauth ? children_.preauth : children_.postauth;
  }
  bool take_descriptors();
  bool prepare_control_connection();
  void prepare_data_connections();
  bool start_children();
  bool load_signing_key();
  bool confine();
  void end_children() {
    pam_.finish();
    report_violations(end_session_children(children_));
  }
  void report_violations(std::uint32_t count) {
    SessionReport violation;
    violation.type = ReportType::kEvent;
    violation.event = ReportEvent::kSandboxViolation;
    for (std::uint32_t i = 0; i < count; ++i) report(violation);
  }

  const SessionEngines& engines_;
  Config config_;
  const std::uint64_t session_id_;  // the listener's number for this session (upload events)
  const bool implicit_tls_;
  const std::uint32_t prior_failures_;  // of the client's address, in earlier sessions
  // To the listener: login results, status, counts; from it, notices (priv/session_report.hpp).
  ListenerLink listener_;
  UniqueFd xferlog_;  // the transfer log (xferlog_enable), append-only
  UploadEventSocket upload_events_;  // to the upload-event consumer (upload_event_socket)
  UniqueFd tls_bundle_;  // sealed memfd: certificate chain, then key
  std::string certificate_chain_;  // read before the children exist; all they get of the bundle
  std::optional<SigningKey> signing_key_;  // read after the children exist; only here
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
  SessionChildren children_;
};

// The descriptors the listener passed (see session_monitor.hpp), moved above the children's
// range so that no child inherits them.
bool SessionMonitor::take_descriptors() {
  client_ = UniqueFd(kSessionClientFd);
  // Above the children's descriptor range, so no child inherits it.
  UniqueFd report(::fcntl(kSessionReportFd, F_DUPFD_CLOEXEC, 10));
  ::close(kSessionReportFd);
  // inetd mode passes /dev/null here: no listener to report to or hear from.
  struct stat report_stat{};
  if (report && ::fstat(report.get(), &report_stat) == 0 && S_ISSOCK(report_stat.st_mode)) {
    listener_ = ListenerLink(std::move(report));
  }
  if (config_.xferlog_enable) {
    // Above the children's descriptor range, so no child inherits it.
    xferlog_ = UniqueFd(::fcntl(kSessionXferlogFd, F_DUPFD_CLOEXEC, 10));
    ::close(kSessionXferlogFd);
    if (!xferlog_) {
      log_error(system_error("transfer log descriptor", errno).message);
      return false;
    }
  }
  if (config_.tls_enable) {
    tls_bundle_ = UniqueFd(::fcntl(kSessionTlsFd, F_DUPFD_CLOEXEC, 10));
    ::close(kSessionTlsFd);
    if (!tls_bundle_) {
      log_error(system_error("TLS credential descriptor", errno).message);
      return false;
    }
    // SECURITY: only the certificate part is read now, before the children are forked; the
    // key's bytes stay in the memfd until load_signing_key(), after the forks.
    auto chain = read_certificate_chain(tls_bundle_.get());
    if (!chain) {
      log_error("TLS certificate: " + chain.error().message);
      return false;
    }
    certificate_chain_ = std::move(*chain);
    // Before the forks (and before the key): P and U inherit a ready OpenSSL.
    auto prepared = prepare_tls_library(config_, certificate_chain_);
    if (!prepared) {
      log_error("TLS: " + prepared.error().message);
      return false;
    }
    // The keys the listener derived for this client's address (see derive_ticket_keys).
    auto got = read_ticket_keys(UniqueFd(kSessionTicketKeysFd), ticket_keys_);
    if (!got) {
      log_error("session ticket keys: " + got.error().message);
      return false;
    }
  }
  netns_ = UniqueFd(::fcntl(kSessionNetnsFd, F_DUPFD_CLOEXEC, 10));
  ::close(kSessionNetnsFd);
  if (!netns_) {
    log_error(system_error("network namespace descriptor", errno).message);
    return false;
  }
  return true;
}

bool SessionMonitor::prepare_control_connection() {
  auto peer = SocketAddress::peer_of(client_.get());
  auto local = SocketAddress::local_of(client_.get());
  if (!peer || !local) {
    log_error("control connection: " + (peer ? local.error() : peer.error()).message);
    return false;
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
      return false;
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
  // Replies are small writes that must leave at once: with Nagle's algorithm a 226 written
  // while the 150 before it is still unacknowledged waits for the client's delayed ACK
  // (about 40 ms on Linux), which capped a session at ~23 small files/s. Set here, where every
  // writer of the control connection (P, U, P as the TLS relay) inherits it.
  if (::setsockopt(client_.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0) {
    log_warning(system_error("control connection: setsockopt(TCP_NODELAY)", errno).message);
  }
  return true;
}

void SessionMonitor::prepare_data_connections() {
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
}

bool SessionMonitor::start_children() {
  const ChildLaunch launch{config_,      engines_,      client_.get(), netns_.get(),
                           config_.tls_enable ? &certificate_chain_ : nullptr, implicit_tls_,
                           &ticket_keys_};
  if (!launch_session_children(launch, children_)) return false;
  netns_.reset();  // only the children need it
  // Both children have their copy of the ticket keys; the monitor has no use for them.
  wipe_bytes(ticket_keys_.data(), ticket_keys_.size());
  return true;
}

// SECURITY: the private key enters the monitor only now, after every child (pre-auth, standby,
// PAM waiting child) was forked, so none of them has a copy; the children sign through
// SignRequest. The encoded key is wiped as soon as OpenSSL holds the key. OpenSSL itself was set
// up before the forks (prepare_tls_library), so this costs about a tenth of a millisecond.
bool SessionMonitor::load_signing_key() {
  if (!tls_bundle_) return true;
  auto key = read_signing_key(tls_bundle_.get());
  tls_bundle_.reset();
  if (!key) {
    log_error("TLS key: " + key.error().message);
    return false;
  }
  signing_key_.emplace(std::move(*key));
  return true;
}

bool SessionMonitor::confine() {
  SandboxSpec spec = sandbox_spec(Role::kMonitor);
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
  auto sandboxed = enter_sandbox(spec);
  if (!sandboxed) log_error("monitor sandbox: " + sandboxed.error().message);
  return sandboxed.ok();
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
  if (!take_descriptors() || !prepare_control_connection()) return 1;
  prepare_data_connections();

  // Children need these to enter their sandboxes; everything else goes before they exist.
  std::vector<cap_value_t> needed = {CAP_SETUID,    CAP_SETGID,  CAP_SYS_CHROOT,
                                     CAP_SYS_ADMIN, CAP_SETPCAP, CAP_KILL};
  if (config_.connect_from_port_20) needed.push_back(CAP_NET_BIND_SERVICE);
  auto bounded = restrict_bounding_set(needed);
  if (!bounded) {
    log_error("monitor: " + bounded.error().message);
    return 1;
  }
  if (!start_children() || !load_signing_key()) {
    end_children();
    return 1;
  }
  // SECURITY: the users file is read only now: after the last fork (the PAM waiting child, the
  // pre-auth child and the standby child have their copies of this memory already, and the
  // monitor's filter has no fork or clone), before the sandbox takes open() away. So no child
  // ever holds a password hash; the file's bytes are wiped once parsed, the hashes when the
  // login phase ends.
  verifier_.emplace(load_users_file(config_));
  // SECURITY: connected now, after the last fork (no child ever holds it) and before the
  // filter (which makes no AF_UNIX socket) and the chroot (after which the path names nothing):
  // the monitor never reconnects (priv/upload_event_socket.hpp).
  if (!config_.upload_event_socket.empty()) {
    upload_events_ = UploadEventSocket::connect_to(config_.upload_event_socket);
  }
  if (!confine()) {
    end_children();
    return kExitSandboxFailed;
  }
  MonitorDispatcher dispatcher(config_, *this, peer_.host_string(), prior_failures_);
  run_monitor_loop(dispatcher, children_.preauth, children_.postauth, listener_);
  end_children();
  upload_events_.log_summary();
  log_info("session ended");
  return 0;
}

}  // namespace

int run_session_monitor(const SessionEngines& engines, const std::string& session_id,
                        const SessionOptions& options) {
  // SECURITY: the image being exec'd (wardenftpd-session) is not for the session: closed before
  // anything else can inherit it.
  ::close(kSessionImageFd);
  ::signal(SIGPIPE, SIG_IGN);
  // OpenSSL's clean-up at exit takes locks (futex) the monitor's filter does not allow; the key
  // is freed (and its numbers cleared) with the monitor object before the process exits.
  skip_tls_library_exit_cleanup();
  set_process_name(role_spec(Role::kMonitor).process_name);
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
  // The slots this configuration leaves unused hold /dev/null, so that the later ones land where
  // they belong (session_spawn.cpp): closed now, before the PAM waiting child is forked and
  // before any descriptor the monitor opens could take one of these numbers.
  if (!config->tls_enable) {
    ::close(kSessionTlsFd);
    ::close(kSessionTicketKeysFd);
  }
  if (!config->xferlog_enable) ::close(kSessionXferlogFd);
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
  // SECURITY: fail closed if the listener ever execs the image without TLS for a TLS
  // configuration: such a session would serve plain text where the operator asked for TLS.
  if (config->tls_enable && !tls_built_in()) {
    log_error("monitor: tls_enable=yes, but this session image was built without TLS");
    return 1;
  }
  SessionMonitor monitor(engines, std::move(*config), options, id);
  return monitor.run();
}

}  // namespace wftpd
