// The monitor's request table and the state it guards. Every datagram a child sends reaches a
// handler through dispatch() and nowhere else: dispatch() finds the rule for (type, sender),
// checks the phase, the flags and the permit the rule needs, refuses descriptors, decodes the
// payload, and only then calls the handler with the typed message. Anything not permitted now
// ends the session. Handlers live in monitor_dispatch.cpp (log lines), monitor_login.cpp (login
// and hand-off) and monitor_data.cpp (data connections, transfer log, upload events).
#pragma once

#include <array>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/monitor_channel.hpp"
#include "common/monitor_protocol.hpp"
#include "priv/login_policy.hpp"
#include "priv/monitor_ports.hpp"
#include "priv/session_report.hpp"
#include "priv/transfer_log.hpp"

namespace wftpd {

// Session phases: before login; between an accepted login and the hand-off (the standby child
// enters its sandbox, the pre-auth child hands over); after login.
enum class Phase : std::uint8_t { kPreauth = 1, kHandoff = 2, kPostauth = 4 };

// One request unlocks the next: an accepted login permits one StandbyReady, which permits one
// Handoff; a data connection handed out for a file transfer permits one TransferDone, until the
// next DataConnect (permits for transfer-log lines never pile up). Permits are counted and
// consumed by dispatch() before the handler runs. Signatures: a TLS session starts with
// kMaxControlSignatures for the control connection's handshake (pre-auth phase only); with
// require_tls_session_reuse=no, each data connection handed out permits one more (post-auth
// child, post-auth phase), never more than one outstanding.
enum class Permit : std::uint8_t { kStandbyReady, kHandoff, kTransferDone, kControlSignature, kDataSignature };
inline constexpr std::size_t kPermitKinds = 5;

// A full TLS handshake signs once (TLS 1.2 ServerKeyExchange, TLS 1.3 CertificateVerify), and the
// control connection has one handshake: a failed one ends the session, AUTH TLS is refused once
// TLS is on, and renegotiation is off.
inline constexpr std::uint32_t kMaxControlSignatures = 1;

enum class Step : std::uint8_t { kContinue, kEndSession };

class MonitorDispatcher {
 public:
  MonitorDispatcher(const Config& config, MonitorPorts& ports, std::string client_host,
                    std::uint32_t prior_failures);

  // The one way in for a child's message.
  Step dispatch(Child from, ReceivedMessage& message);
  // The child's channel closed (`error` empty) or failed; the loop closes it when told to go on.
  Step on_closed(Child child, const std::string& error);
  // Nothing arrived within wait_limit(), or the phase's deadline passed.
  Step on_timeout();

  Phase phase() const { return phase_; }
  std::uint32_t permits(Permit permit) const { return permits_[static_cast<std::size_t>(permit)]; }
  // Whether the loop should read this child's channel now (the standby child has nothing to say
  // before a login is accepted).
  bool listens_to(Child child) const;
  // How long the loop waits for the next message: until the phase's deadline (see
  // phase_deadline_), no limit after login.
  std::chrono::milliseconds wait_limit() const;

  // The hand-off, from the accepted login to StartSession, takes at most this long.
  static constexpr std::chrono::seconds kChildAnswerTimeout{30};
  // The pre-auth phase ends login_timeout after the session started plus this much, which lets
  // an honest pre-auth child end it first and tell its client (421).
  static constexpr std::chrono::seconds kLoginTimeoutGrace{5};
  // A child may write this many lines to the log; one more ends the session.
  static constexpr std::uint32_t kMaxChildLogLines = kMaxLogEventsPerChild;
  // SessionStatus messages the monitor forwards to the listener: a burst of this many, then
  // kStatusPerSecond; more are dropped (an honest child sends about one a second).
  static constexpr double kStatusBurst = 10;
  static constexpr double kStatusPerSecond = 4;

 private:
  using Handle = Step (*)(MonitorDispatcher&, std::string& payload);
  enum Flag : std::uint8_t {
    kOnce = 1,          // at most once per session
    kDecidesAuth = 2,   // refused once a login has been accepted
    kCarriesSecret = 4  // the raw payload is wiped after the handler (passwords)
  };
  struct RequestRule {
    MessageType type;
    Child from;
    std::uint8_t phases;  // Phase bits
    std::uint8_t flags;
    std::optional<Permit> needs;
    Handle handle;
  };
  static const std::array<RequestRule, 16> kRequestTable;

  template <class Message, Step (MonitorDispatcher::*Handler)(Message&)>
  static Step decode_then(MonitorDispatcher& self, std::string& payload);
  Step refuse(Child from, std::uint16_t type, const std::string& why);

  // What a login attempt came to: the account to become, or the reason for the server log.
  struct LoginOutcome {
    std::optional<VirtualUser> user;
    bool read_only = false;
    std::optional<LoginBackend> backend;
    std::string log_reason;  // never shown to the client
    SessionPolicy policy;    // of an accepted login: the session's, for BecomeUser
    bool counts_as_failure = true;  // false: a limit refused a right password (no ban counts it)
  };

  // monitor_login.cpp
  Step on_login(LoginRequest& request);
  Step on_user_query(UserQuery& query);
  Step on_standby_ready(StandbyReady& ready);
  Step on_handoff(Handoff& handoff);
  LoginOutcome decide_login(const LoginRequest& request);
  LoginOutcome decide_pam_login(const LoginRequest& request);
  // An accepted account's policy (class, override), and the rules it sets on logging in
  // (allow_networks, max_sessions_per_user): fills outcome.policy, or refuses.
  void decide_policy(LoginOutcome& outcome);
  Step refuse_login(const LoginRequest& request, const LoginOutcome& outcome,
                    std::chrono::steady_clock::time_point started);
  Step begin_handoff(const VirtualUser& user, bool read_only, const SessionPolicy& policy);
  Step abandon_login();
  // monitor_data.cpp
  Step on_passive_listen(PassiveListen& request);
  Step on_active_target(ActiveTarget& request);
  Step on_data_connect(DataConnect& request);
  Step on_transfer_done(TransferDone& transfer);
  Step on_session_status(SessionStatus& status);
  Step on_quota_query(QuotaQuery& query);
  Step on_quota_used(QuotaUsed& used);
  Step on_rate_query(RateQuery& query);
  // The file transfer the listener counts for this session's shared rates ended (or never got
  // its report): tells the listener, once.
  void end_rate_demand();
  // monitor_dispatch.cpp
  Step on_control_sign_request(SignRequest& request);
  Step on_data_sign_request(SignRequest& request);
  Step sign_for(Child child, const SignRequest& request);
  Step on_preauth_log(LogEvent& event);
  Step on_postauth_log(LogEvent& event);
  Step log_child_event(Child from, const LogEvent& event, std::uint32_t& count);
  bool phase_expired() const;

  template <class Message>
  Step send(Child to, const Message& message, int attached_fd = -1);
  void grant(Permit permit) { ++permits_[static_cast<std::size_t>(permit)]; }
  void allow_one(Permit permit) { permits_[static_cast<std::size_t>(permit)] = 1; }
  void revoke(Permit permit) { permits_[static_cast<std::size_t>(permit)] = 0; }

  const Config& config_;
  const LoginPolicy policy_;
  MonitorPorts& ports_;
  const std::string client_host_;
  const std::uint32_t prior_failures_;  // of the client's address, in earlier sessions
  Phase phase_ = Phase::kPreauth;
  // SECURITY: when the current phase must be over, fixed when it begins: pre-auth, login_timeout
  // (plus kLoginTimeoutGrace) from the session's start; the hand-off, kChildAnswerTimeout from
  // the accepted login; none after login. Nothing a child sends moves it, so a compromised
  // pre-auth child cannot keep a session alive with LogEvents or USER queries.
  std::optional<std::chrono::steady_clock::time_point> phase_deadline_;
  std::array<std::uint32_t, kPermitKinds> permits_{};
  std::bitset<16> used_;  // rules with kOnce that have been used
  bool auth_decided_ = false;
  std::uint32_t failed_logins_ = 0;
  std::uint32_t preauth_log_lines_ = 0;
  std::uint32_t postauth_log_lines_ = 0;
  std::string user_;  // the account being set up or logged in, for the log and transfer log
  std::string user_root_;  // that account's root, for the on-disk path of upload events
  SessionPolicy session_policy_;  // the logged-in session's (quotas and upload limits)
  AccessMode access_ = AccessMode::kReal;
  // What the operator sees: the status messages' budget, and the data connections handed out
  // (bounds the TLS counters a status may claim).
  double status_tokens_ = kStatusBurst;
  std::chrono::steady_clock::time_point status_refilled_{};
  std::uint32_t data_connections_ = 0;
  // Bandwidth (common/rate_share.hpp): the session's own and its user's rate per direction
  // ([0] upload, [1] download), from the policy decided at login, and the direction of the
  // file transfer the listener counts as running for this session, if any.
  struct RateLimits {
    std::uint64_t session = 0;
    std::uint64_t user = 0;
  };
  std::array<RateLimits, 2> rate_limits_{};
  std::optional<TransferDirection> rate_demand_;
  std::uint32_t reported_tls_handshakes_ = 0;
  std::uint32_t reported_tls_refusals_ = 0;
};

template <class Message>
Step MonitorDispatcher::send(Child to, const Message& message, int attached_fd) {
  auto sent = ports_.send(to, encode_message(message), attached_fd);
  if (sent) return Step::kContinue;
  log_error(sent.error().message);
  return Step::kEndSession;
}

}  // namespace wftpd
