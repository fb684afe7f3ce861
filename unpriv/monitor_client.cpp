#include "unpriv/monitor_client.hpp"

namespace wftpd {

Result<LoginStatus> MonitorClient::login(const std::string& user, const std::string& password) {
  auto sent = channel_.send(LoginRequest{user, password});
  if (!sent) return sent.error();
  auto result = channel_.expect<LoginResult>();
  if (!result) return result.error();
  return result->status;
}

Result<ClearLogin> MonitorClient::clear_login(const std::string& user) {
  auto sent = channel_.send(UserQuery{user});
  if (!sent) return sent.error();
  auto answer = channel_.expect<UserAnswer>();
  if (!answer) return answer.error();
  return answer->clear_login;
}

Result<void> MonitorClient::hand_off(std::string pending_input, const ControlTlsState& tls) {
  return channel_.send(Handoff{std::move(pending_input), tls});
}

Result<std::string> MonitorClient::sign(SignatureScheme scheme, std::string_view digest) {
  auto sent = channel_.send(SignRequest{scheme, std::string(digest)});
  if (!sent) return sent.error();
  auto result = channel_.expect<SignResult>();
  if (!result) return result.error();
  if (result->signature.empty()) return make_error("the monitor did not sign");
  return std::move(result->signature);
}

void MonitorClient::log(EventLevel level, std::string_view text) {
  // The monitor takes kMaxLogEventsPerChild lines from a child and ends the session at the next
  // one (a compromised child must not flood the log or keep a session busy with them). This
  // process stops short: its last line says that it stops, and one line is left for the
  // seccomp violation report, which the SIGSYS handler sends without this count
  // (policy/violation_report.cpp).
  if (log_events_ >= kMaxLogEventsPerChild - 1) return;
  ++log_events_;
  // Best effort: a line the monitor cannot take is not worth ending the session for.
  if (log_events_ == kMaxLogEventsPerChild - 1) {
    (void)channel_.send(LogEvent{EventLevel::kWarning,
                                 "log line limit reached: this process's further log lines are dropped"});
    return;
  }
  (void)channel_.send(LogEvent{level, std::string(text.substr(0, kMaxReasonLength))});
}

void MonitorClient::transfer_done(const TransferDone& transfer) { (void)channel_.send(transfer); }

void MonitorClient::session_status(const SessionStatus& status) { (void)channel_.send(status); }

Result<QuotaAllowance> MonitorClient::quota_allowance() {
  auto sent = channel_.send(QuotaQuery{});
  if (!sent) return sent.error();
  return channel_.expect<QuotaAllowance>();
}

void MonitorClient::quota_used(const QuotaUsed& used) { (void)channel_.send(used); }

std::uint64_t MonitorClient::rate_share(TransferDirection direction) {
  // A monitor that does not answer leaves the transfer at its own bound (the session ends at
  // the next request that needs an answer, as it would anyway).
  if (!channel_.send(RateQuery{direction})) return 0;
  auto answer = channel_.expect<RateAnswer>();
  return answer ? answer->bytes_per_second : 0;
}

Result<StartSession> MonitorClient::await_start() { return channel_.expect<StartSession>(); }

Result<PassiveReady> MonitorClient::passive_listen(bool extended) {
  auto sent = channel_.send(PassiveListen{extended});
  if (!sent) return sent.error();
  return channel_.expect<PassiveReady>();
}

Result<ActiveStatus> MonitorClient::active_target(const ActiveTarget& target) {
  auto sent = channel_.send(target);
  if (!sent) return sent.error();
  auto ready = channel_.expect<ActiveReady>();
  if (!ready) return ready.error();
  return ready->status;
}

Result<std::pair<DataStatus, UniqueFd>> MonitorClient::data_connect(DataPurpose purpose) {
  auto sent = channel_.send(DataConnect{purpose});
  if (!sent) return sent.error();
  UniqueFd connection;
  auto ready = channel_.expect<DataReady>(&connection);
  if (!ready) return ready.error();
  // SECURITY: a descriptor is only believed together with the status that announces it.
  if ((ready->status == DataStatus::kConnected) != connection.valid()) {
    return make_error("data status and descriptor disagree");
  }
  return std::make_pair(ready->status, std::move(connection));
}

}  // namespace wftpd
