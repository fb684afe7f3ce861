// The monitor's login requests: USER's TLS rule, the login decision, and the hand-off that an
// accepted login permits (BecomeUser -> StandbyReady -> LoginResult -> Handoff -> StartSession).
#include <string.h>

#include "common/address_prefix.hpp"
#include "common/io.hpp"
#include "common/socket_address.hpp"
#include "common/log.hpp"
#include "priv/monitor_dispatch.hpp"

namespace wftpd {

Step MonitorDispatcher::on_user_query(UserQuery& query) {
  // SECURITY: the pre-auth child applies the TLS rule the login policy names for this exact
  // name, so "anonymous" means the same thing here and at PASS.
  return send(Child::kPreauth, UserAnswer{policy_.clear_login(query.user)});
}

Step MonitorDispatcher::on_login(LoginRequest& request) {
  const auto started = ports_.now();
  LoginOutcome outcome = decide_login(request);
  if (outcome.user) decide_policy(outcome);
  ::explicit_bzero(request.password.data(), request.password.size());
  if (!outcome.user) return refuse_login(request, outcome, started);
  // SECURITY: the pre-auth phase is over: PAM modules run no more in this session, and the
  // monitor holds no password hash for the rest of it.
  ports_.end_login_phase();
  if (outcome.read_only) {
    // Anonymous FTP takes any password (by custom an e-mail address, which is not logged).
    log_line(LogLevel::kInfo, "anonymous login, class " + outcome.policy.class_name,
             {{"event", "login"}, {"user", "anonymous"}, {"class", outcome.policy.class_name}});
    user_ = "anonymous";
    access_ = AccessMode::kAnonymous;
    SessionReport accepted;
    accepted.type = ReportType::kLoginAccepted;
    accepted.backend = LoginBackend::kAnonymous;
    accepted.user = "anonymous";
    accepted.user_class = outcome.policy.class_name;
    ports_.report(accepted);
  } else {
    const std::string user = escape_for_log(outcome.user->name);
    const std::string backend(backend_name(*outcome.backend));
    log_line(LogLevel::kInfo,
             "login accepted for user '" + user + "' (" + backend + "), class " +
                 outcome.policy.class_name,
             {{"event", "login"}, {"user", user}, {"backend", backend}, {"class", outcome.policy.class_name}});
    user_ = outcome.user->name;
    access_ = AccessMode::kReal;
    SessionReport accepted;
    accepted.type = ReportType::kLoginAccepted;
    accepted.backend = outcome.backend;
    accepted.user = outcome.user->name;
    accepted.user_class = outcome.policy.class_name;
    ports_.report(accepted);
  }
  return begin_handoff(*outcome.user, outcome.read_only, outcome.policy);
}

void MonitorDispatcher::decide_policy(LoginOutcome& outcome) {
  const std::string name = outcome.read_only ? std::string("anonymous") : outcome.user->name;
  auto policy = effective_policy(config_, name, outcome.user->user_class, outcome.read_only);
  const auto refuse = [&](std::string reason) {
    outcome.log_reason = std::move(reason);
    outcome.user.reset();
  };
  if (!policy) return refuse("no policy: " + policy.error().message);
  const std::string rule_of = "class '" + policy->class_name + "' ";
  if (!policy->allow_networks.empty()) {
    // SECURITY: the session's client is the one a trusted proxy named, as for every other
    // address rule; an address that does not parse is outside every network.
    auto networks = parse_prefix_list(policy->allow_networks);
    const bool ipv6 = client_host_.find(':') != std::string::npos;
    auto address = SocketAddress::parse(ipv6 ? "[" + client_host_ + "]:0" : client_host_ + ":0");
    if (!networks || !address || !any_contains(*networks, *address)) {
      return refuse(rule_of + "allow_networks does not include " + client_host_);
    }
  }
  if (policy->max_sessions_per_user != 0 &&
      !ports_.claim_user_session(name, policy->max_sessions_per_user)) {
    outcome.counts_as_failure = false;
    return refuse(rule_of + "max_sessions_per_user (" +
                  std::to_string(policy->max_sessions_per_user) + ") reached");
  }
  outcome.policy = std::move(*policy);
}

Step MonitorDispatcher::refuse_login(const LoginRequest& request, const LoginOutcome& outcome,
                                     std::chrono::steady_clock::time_point started) {
  // Each failure of this address waits longer, across sessions (the listener keeps count).
  // SECURITY: every refusal, whichever backend or list decided it, gets the same answer at the
  // same moment (attempt start + delay): reply and timing do not tell the reasons apart.
  const auto delay = policy_.failure_delay(prior_failures_ + failed_logins_);
  ports_.sleep_until(started + delay);
  SessionReport failed;
  failed.type = ReportType::kLoginFailed;
  failed.backend = outcome.backend;
  failed.throttled = delay > policy_.failure_delay(0);
  // A right password that a limit refused is no guess: it counts toward no ban.
  if (outcome.counts_as_failure) ports_.report(failed);
  ++failed_logins_;
  const std::string user = escape_for_log(request.user);
  log_line(LogLevel::kWarning,
           "login refused for user '" + user + "': " + outcome.log_reason + " (attempt " +
               std::to_string(failed_logins_) + " of " + std::to_string(config_.max_login_attempts) +
               "; answered after " + std::to_string(delay.count()) + " ms, " +
               std::to_string(prior_failures_) + " earlier failures from this address)",
           {{"event", "login-failed"}, {"user", user}});
  const bool final_attempt = policy_.is_final_failure(failed_logins_);
  if (send(Child::kPreauth, LoginResult{final_attempt ? LoginStatus::kRejectedFinal
                                                      : LoginStatus::kRejected}) != Step::kContinue) {
    return Step::kEndSession;
  }
  if (!final_attempt) return Step::kContinue;
  // Give the child a moment to answer 530 and close; then the session ends either way.
  ports_.linger(Child::kPreauth);
  return Step::kEndSession;
}

// Order: anonymous names; the user lists (by name, before any password is checked); virtual
// users (a name in users_file never reaches PAM); PAM; then the group lists on the account found.
MonitorDispatcher::LoginOutcome MonitorDispatcher::decide_login(const LoginRequest& request) {
  LoginOutcome outcome;
  const LoginRoute route = policy_.route(request.user, ports_.knows_virtual_user(request.user));
  outcome.backend = route.backend;
  if (!route.backend) {
    outcome.log_reason = route.refusal;
    return outcome;
  }
  switch (*route.backend) {
    case LoginBackend::kAnonymous:
      if (auto refused = policy_.refuse_anonymous()) {
        outcome.log_reason = *refused;
        return outcome;
      }
      outcome.user = policy_.anonymous_account();
      outcome.read_only = true;
      return outcome;
    case LoginBackend::kVirtual: {
      const LoginDecision decision = ports_.check_virtual_user(request.user, request.password);
      if (!decision.accepted || decision.user == nullptr) {
        outcome.log_reason = decision.log_reason;
        return outcome;
      }
      if (auto refused = policy_.refuse_virtual(*decision.user)) {
        outcome.log_reason = *refused;
        return outcome;
      }
      // The account without its hash, which stays in the verifier (wiped when it goes).
      const VirtualUser& user = *decision.user;
      outcome.user = VirtualUser{user.name, "", user.uid, user.gid, user.root, user.user_class};
      return outcome;
    }
    case LoginBackend::kPam:
      return decide_pam_login(request);
  }
  return outcome;
}

MonitorDispatcher::LoginOutcome MonitorDispatcher::decide_pam_login(const LoginRequest& request) {
  LoginOutcome outcome;
  outcome.backend = LoginBackend::kPam;
  PamCheck check{config_.pam_service, request.user, request.password, client_host_};
  auto verdict = ports_.check_pam(check);
  ::explicit_bzero(check.password.data(), check.password.size());
  if (!verdict) {
    log_error(verdict.error().message);
    outcome.log_reason = "PAM helper failed: " + verdict.error().message;
    return outcome;
  }
  if (auto refused = policy_.refuse_pam(request.user, *verdict)) {
    outcome.log_reason = *refused;
    return outcome;
  }
  outcome.user = VirtualUser{verdict->account, "", verdict->uid, verdict->gid, verdict->home, ""};
  return outcome;
}

// An accepted login: the standby child becomes the user; its StandbyReady is the next step.
Step MonitorDispatcher::begin_handoff(const VirtualUser& user, bool read_only,
                                      const SessionPolicy& policy) {
  auth_decided_ = true;
  user_root_ = user.root;
  session_policy_ = policy;
  rate_limits_[0] = {policy.upload_rate, policy.user_upload_rate};
  rate_limits_[1] = {policy.download_rate, policy.user_download_rate};
  phase_ = Phase::kHandoff;
  phase_deadline_ = ports_.now() + kChildAnswerTimeout;
  auto sent = ports_.send(Child::kPostauth,
                          encode_message(BecomeUser{user.name, user.uid, user.gid, user.root, read_only, policy}), -1);
  if (!sent) {
    log_error(sent.error().message);
    return abandon_login();
  }
  grant(Permit::kStandbyReady);
  return Step::kContinue;
}

// The session could not be set up after an accepted login: the pre-auth child answers 421.
Step MonitorDispatcher::abandon_login() {
  (void)ports_.send(Child::kPreauth, encode_message(LoginResult{LoginStatus::kUnavailable}), -1);
  ports_.linger(Child::kPreauth);
  return Step::kEndSession;
}

Step MonitorDispatcher::on_standby_ready(StandbyReady& ready) {
  if (!ready.ok) {
    log_error("cannot start session for '" + escape_for_log(user_) + "': " +
              escape_for_log(ready.reason, 512));
    return abandon_login();
  }
  if (send(Child::kPreauth, LoginResult{LoginStatus::kAccepted}) != Step::kContinue) {
    return Step::kEndSession;
  }
  grant(Permit::kHandoff);
  return Step::kContinue;
}

Step MonitorDispatcher::on_handoff(Handoff& handoff) {
  if (handoff.tls.control_tls) {
    // TLS: the pre-auth child stays as the control connection's TLS endpoint (it has nothing
    // more to ask the monitor) and relays plaintext to the post-auth child.
    if (!config_.tls_enable) {
      log_error("pre-auth child claims TLS on a server without TLS; ending session");
      return Step::kEndSession;
    }
    log_info("control connection is TLS-protected; data protection " +
             std::string(handoff.tls.prot_private ? "private" : "clear"));
  } else {
    // The pre-auth child has nothing left to do; it is stopped whatever it would do next.
    ports_.stop_preauth();
  }
  phase_ = Phase::kPostauth;
  phase_deadline_.reset();
  return send(Child::kPostauth, StartSession{std::move(handoff.pending_input), handoff.tls});
}

}  // namespace wftpd
