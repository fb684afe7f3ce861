#include "priv/monitor_dispatch.hpp"

#include <string.h>

#include "common/io.hpp"

namespace wftpd {
namespace {

constexpr std::uint8_t kAnyPhase = static_cast<std::uint8_t>(Phase::kPreauth) |
                                   static_cast<std::uint8_t>(Phase::kHandoff) |
                                   static_cast<std::uint8_t>(Phase::kPostauth);

constexpr std::uint8_t bit(Phase phase) { return static_cast<std::uint8_t>(phase); }

const char* child_name(Child child) { return child == Child::kPreauth ? "pre-auth" : "post-auth"; }

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kPreauth: return "pre-auth";
    case Phase::kHandoff: return "hand-off";
    case Phase::kPostauth: return "post-auth";
  }
  return "?";
}

const char* permit_source(Permit permit) {
  switch (permit) {
    case Permit::kStandbyReady: return "an accepted login";
    case Permit::kHandoff: return "a ready standby child";
    case Permit::kTransferDone: return "a data connection";
    case Permit::kControlSignature: return "a control-connection handshake to sign";
    case Permit::kDataSignature: return "a data connection to sign a handshake for";
  }
  return "?";
}

}  // namespace

// SECURITY: the monitor's boundary. A (type, sender) pair not listed here, or listed for other
// phases, ends the session; so does a request whose permit has not been granted.
const std::array<MonitorDispatcher::RequestRule, 16> MonitorDispatcher::kRequestTable = {{
    {MessageType::kLoginRequest, Child::kPreauth, bit(Phase::kPreauth), kDecidesAuth | kCarriesSecret,
     std::nullopt, &decode_then<LoginRequest, &MonitorDispatcher::on_login>},
    {MessageType::kUserQuery, Child::kPreauth, bit(Phase::kPreauth), 0, std::nullopt,
     &decode_then<UserQuery, &MonitorDispatcher::on_user_query>},
    // The pre-auth child reports in every phase: with TLS it lives on as the relay.
    {MessageType::kLogEvent, Child::kPreauth, kAnyPhase, 0, std::nullopt,
     &decode_then<LogEvent, &MonitorDispatcher::on_preauth_log>},
    {MessageType::kStandbyReady, Child::kPostauth, bit(Phase::kHandoff), kOnce, Permit::kStandbyReady,
     &decode_then<StandbyReady, &MonitorDispatcher::on_standby_ready>},
    {MessageType::kHandoff, Child::kPreauth, bit(Phase::kHandoff), kOnce, Permit::kHandoff,
     &decode_then<Handoff, &MonitorDispatcher::on_handoff>},
    // The standby child may report a sandbox violation while it sets up.
    {MessageType::kLogEvent, Child::kPostauth, kAnyPhase, 0, std::nullopt,
     &decode_then<LogEvent, &MonitorDispatcher::on_postauth_log>},
    {MessageType::kPassiveListen, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<PassiveListen, &MonitorDispatcher::on_passive_listen>},
    {MessageType::kActiveTarget, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<ActiveTarget, &MonitorDispatcher::on_active_target>},
    {MessageType::kDataConnect, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<DataConnect, &MonitorDispatcher::on_data_connect>},
    {MessageType::kTransferDone, Child::kPostauth, bit(Phase::kPostauth), 0, Permit::kTransferDone,
     &decode_then<TransferDone, &MonitorDispatcher::on_transfer_done>},
    {MessageType::kSessionStatus, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<SessionStatus, &MonitorDispatcher::on_session_status>},
    // Quotas: one question before an upload (the child waits for the answer, so at most one is
    // outstanding), and what an upload or DELE changed, bounded per message by the decoder and
    // forwarded only for a session under a quota (monitor_data.cpp).
    {MessageType::kQuotaQuery, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<QuotaQuery, &MonitorDispatcher::on_quota_query>},
    {MessageType::kQuotaUsed, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<QuotaUsed, &MonitorDispatcher::on_quota_used>},
    {MessageType::kRateQuery, Child::kPostauth, bit(Phase::kPostauth), 0, std::nullopt,
     &decode_then<RateQuery, &MonitorDispatcher::on_rate_query>},
    // SECURITY: the signing oracle. The pre-auth child may ask only before login, for the control
    // connection's one handshake; the post-auth child once per data connection it was given, and
    // only with require_tls_session_reuse=no (otherwise it is never granted the permit).
    {MessageType::kSignRequest, Child::kPreauth, bit(Phase::kPreauth), 0, Permit::kControlSignature,
     &decode_then<SignRequest, &MonitorDispatcher::on_control_sign_request>},
    {MessageType::kSignRequest, Child::kPostauth, bit(Phase::kPostauth), 0, Permit::kDataSignature,
     &decode_then<SignRequest, &MonitorDispatcher::on_data_sign_request>},
}};

MonitorDispatcher::MonitorDispatcher(const Config& config, MonitorPorts& ports,
                                     std::string client_host, std::uint32_t prior_failures)
    : config_(config),
      policy_(config),
      ports_(ports),
      client_host_(std::move(client_host)),
      prior_failures_(prior_failures),
      phase_deadline_(ports.now() + std::chrono::seconds(config.login_timeout) + kLoginTimeoutGrace) {
  if (config_.tls_enable) {
    permits_[static_cast<std::size_t>(Permit::kControlSignature)] = kMaxControlSignatures;
  }
}

template <class Message, Step (MonitorDispatcher::*Handler)(Message&)>
Step MonitorDispatcher::decode_then(MonitorDispatcher& self, std::string& payload) {
  auto message = decode_payload<Message>(payload);
  if (!message) {
    log_error("malformed " + std::string(message_type_name(static_cast<std::uint16_t>(Message::kType))) +
              ": " + message.error().message);
    return Step::kEndSession;
  }
  return (self.*Handler)(*message);
}

Step MonitorDispatcher::refuse(Child from, std::uint16_t type, const std::string& why) {
  log_error("protocol violation: " + std::string(message_type_name(type)) + " (type " +
            std::to_string(type) + ") from the " + child_name(from) + " child " + why +
            "; ending session");
  return Step::kEndSession;
}

Step MonitorDispatcher::dispatch(Child from, ReceivedMessage& message) {
  // SECURITY: a child that keeps the channel busy (so that poll() never times out) does not
  // outlive its phase's deadline either; the message is not handled.
  if (phase_expired()) return on_timeout();
  for (std::size_t i = 0; i < kRequestTable.size(); ++i) {
    const RequestRule& rule = kRequestTable[i];
    if (static_cast<std::uint16_t>(rule.type) != message.type || rule.from != from) continue;
    // SECURITY: a request outside its phase, repeated, or without its permit ends the session.
    if ((rule.phases & bit(phase_)) == 0) {
      return refuse(from, message.type, std::string("not allowed in the ") + phase_name(phase_) + " phase");
    }
    if ((rule.flags & kOnce) != 0 && used_.test(i)) return refuse(from, message.type, "repeated");
    if ((rule.flags & kDecidesAuth) != 0 && auth_decided_) {
      return refuse(from, message.type, "after authentication was decided");
    }
    if (rule.needs) {
      auto& count = permits_[static_cast<std::size_t>(*rule.needs)];
      if (count == 0) {
        return refuse(from, message.type, std::string("without ") + permit_source(*rule.needs));
      }
      --count;
    }
    // SECURITY: only DataReady carries a descriptor, and only from the monitor.
    if (message.attached_fd.valid()) {
      log_error("child sent a descriptor with " + std::string(message_type_name(message.type)));
      return Step::kEndSession;
    }
    used_.set(i);
    const Step step = rule.handle(*this, message.payload);
    if ((rule.flags & kCarriesSecret) != 0) {
      ::explicit_bzero(message.payload.data(), message.payload.size());
    }
    return step;
  }
  return refuse(from, message.type, std::string("not allowed in the ") + phase_name(phase_) + " phase");
}

bool MonitorDispatcher::listens_to(Child child) const {
  return child == Child::kPreauth || phase_ != Phase::kPreauth;
}

std::chrono::milliseconds MonitorDispatcher::wait_limit() const {
  if (!phase_deadline_) return std::chrono::milliseconds(-1);
  const auto left = *phase_deadline_ - ports_.now();
  if (left <= std::chrono::steady_clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(left);
}

bool MonitorDispatcher::phase_expired() const {
  return phase_deadline_ && ports_.now() >= *phase_deadline_;
}

Step MonitorDispatcher::on_closed(Child child, const std::string& error) {
  if (phase_ == Phase::kHandoff) {
    const std::string why = error.empty() ? "monitor channel closed" : error;
    if (child == Child::kPostauth) {
      log_error("standby child: " + why);
      // Still setting up: the pre-auth child is told, and tells its client (421).
      return permits(Permit::kStandbyReady) > 0 ? abandon_login() : Step::kEndSession;
    }
    log_error("pre-auth child during hand-off: " + why);
    return Step::kEndSession;
  }
  if (!error.empty()) log_error("monitor channel: " + error + "; ending session");
  // After login the pre-auth child is the TLS relay at most: when it ends, the post-auth child
  // sees its control connection close and ends the session itself.
  if (phase_ == Phase::kPostauth && child == Child::kPreauth) return Step::kContinue;
  return Step::kEndSession;
}

Step MonitorDispatcher::on_timeout() {
  if (phase_ == Phase::kHandoff) {
    if (permits(Permit::kStandbyReady) > 0) {
      log_error("standby child: monitor channel timed out");
      return abandon_login();
    }
    log_error("pre-auth child during hand-off: monitor channel timed out");
    return Step::kEndSession;
  }
  if (phase_ == Phase::kPreauth) {
    log_warning("no login within login_timeout (" + std::to_string(config_.login_timeout) +
                " s) and the pre-auth child did not end the session; ending it");
    // An honest child is just telling its client (421); give it that moment.
    ports_.linger(Child::kPreauth);
    return Step::kEndSession;
  }
  log_warning("child silent for too long; ending session");
  return Step::kEndSession;
}

Step MonitorDispatcher::log_child_event(Child from, const LogEvent& event, std::uint32_t& count) {
  // SECURITY: an honest child stops short of the cap (unpriv/monitor_client.cpp); one that goes
  // beyond it floods the log or keeps the session busy, and is not believed any further.
  if (count >= kMaxChildLogLines) {
    return refuse(from, static_cast<std::uint16_t>(MessageType::kLogEvent),
                  "beyond its " + std::to_string(kMaxChildLogLines) + " log lines");
  }
  ++count;
  // SECURITY: the text may carry client bytes; escape_for_log keeps it one printable line.
  const std::string line = std::string(child_name(from)) + ": " + escape_for_log(event.text, kMaxReasonLength);
  switch (event.level) {
    case EventLevel::kError: log_error(line); break;
    case EventLevel::kWarning: log_warning(line); break;
    case EventLevel::kInfo: log_info(line); break;
    case EventLevel::kDebug: log_debug(line); break;
  }
  return Step::kContinue;
}

Step MonitorDispatcher::on_control_sign_request(SignRequest& request) {
  SessionReport handshake;
  handshake.type = ReportType::kEvent;
  handshake.event = ReportEvent::kControlTlsHandshake;
  ports_.report(handshake);
  return sign_for(Child::kPreauth, request);
}

Step MonitorDispatcher::on_data_sign_request(SignRequest& request) {
  return sign_for(Child::kPostauth, request);
}

Step MonitorDispatcher::sign_for(Child child, const SignRequest& request) {
  auto signature = ports_.sign_handshake(request);
  if (!signature) {
    // The decoder took only known schemes and digests of the right length: what is left is a
    // scheme of the other key family (a child that lies) or a failure of the key itself.
    log_error("signature request refused: " + signature.error().message + "; ending session");
    return Step::kEndSession;
  }
  return send(child, SignResult{std::move(*signature)});
}

Step MonitorDispatcher::on_preauth_log(LogEvent& event) {
  return log_child_event(Child::kPreauth, event, preauth_log_lines_);
}

Step MonitorDispatcher::on_postauth_log(LogEvent& event) {
  return log_child_event(Child::kPostauth, event, postauth_log_lines_);
}

}  // namespace wftpd
