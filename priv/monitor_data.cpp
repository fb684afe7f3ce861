// The monitor's data-connection requests (PASV/EPSV, PORT/EPRT, the connection itself) and the
// transfer report each handed-out connection permits (a log line, a transfer-log line, and for a
// completed upload an upload event).
#include <time.h>

#include <algorithm>

#include "common/io.hpp"
#include "common/log.hpp"
#include "priv/monitor_dispatch.hpp"
#include "priv/quota_usage.hpp"

namespace wftpd {

Step MonitorDispatcher::on_passive_listen(PassiveListen&) {
  ports_.clear_active_target();  // the latest of PASV/EPSV and PORT/EPRT wins
  return send(Child::kPostauth, ports_.passive_listen());
}

Step MonitorDispatcher::on_active_target(ActiveTarget& request) {
  ports_.close_passive();
  return send(Child::kPostauth, ActiveReady{ports_.set_active_target(request)});
}

Step MonitorDispatcher::on_data_connect(DataConnect& request) {
  // SECURITY: a transfer-log line is permitted for the latest data connection only: a permit
  // left unused (a transfer that failed before it was reported) does not pile up for a
  // compromised child to spend later on transfers that never happened.
  revoke(Permit::kTransferDone);
  end_rate_demand();
  UniqueFd connection;
  const DataStatus status = ports_.open_data_connection(connection);
  const Step step = send(Child::kPostauth, DataReady{status}, connection.get());
  if (status == DataStatus::kConnected) ++data_connections_;
  // SECURITY: one report per data connection the monitor handed out for a file transfer; a
  // listing's connection permits none.
  if (status == DataStatus::kConnected && request.purpose == DataPurpose::kFileTransfer) {
    grant(Permit::kTransferDone);
  }
  // SECURITY: a full TLS handshake on this connection (a file or a listing) may sign once;
  // permits do not pile up over connections that resumed instead.
  if (status == DataStatus::kConnected && config_.tls_enable && !config_.require_tls_session_reuse) {
    allow_one(Permit::kDataSignature);
  }
  return step;
}

Step MonitorDispatcher::on_transfer_done(TransferDone& transfer) {
  const bool incoming = transfer.direction == TransferDirection::kIncoming;
  end_rate_demand();
  SessionReport done;
  done.type = ReportType::kTransferDone;
  done.direction = transfer.direction;
  done.complete = transfer.complete;
  done.bytes = transfer.bytes;
  ports_.report(done);
  const std::string bytes = std::to_string(transfer.bytes);
  const std::string milliseconds = std::to_string(transfer.milliseconds);
  // SECURITY: the path is client bytes; escaped for the log (JSON fields are escaped again).
  const std::string path = escape_for_log(transfer.path, 1024);
  const std::string user = escape_for_log(user_);
  log_line(LogLevel::kInfo,
           std::string(incoming ? "upload" : "download") + " of '" + path + "' " +
               (transfer.complete ? "complete" : "incomplete") + ": " + bytes + " bytes in " +
               milliseconds + " ms",
           {{"event", "transfer"},
            {"direction", incoming ? "in" : "out"},
            {"user", user},
            {"path", path},
            {"bytes", bytes},
            {"ms", milliseconds},
            {"type", transfer.ascii ? "ascii" : "binary"},
            {"status", transfer.complete ? "complete" : "incomplete"}});
  // An upload event for a completed upload only: an aborted one left no file (STOR) or a part
  // (APPE, STOR after REST) that the client may still resume.
  if (incoming && transfer.complete && !config_.upload_event_socket.empty()) {
    ports_.publish_upload(UploadEvent{user_, client_host_, user_root_, transfer.path,
                                      transfer.bytes, transfer.ascii});
  }
  if (!ports_.keeps_transfer_log()) return Step::kContinue;
  TransferLogEntry entry;
  entry.now = ::time(nullptr);
  entry.milliseconds = transfer.milliseconds;
  entry.remote_host = client_host_;
  entry.transfer = std::move(transfer);
  entry.access = access_;
  entry.user = user_;
  ports_.append_transfer_log(format_transfer_log_line(entry));
  return Step::kContinue;
}

Step MonitorDispatcher::on_session_status(SessionStatus& status) {
  // SECURITY: what the operator sees of this session only, and decided on nowhere. The budget
  // bounds what a lying child can make the monitor and the listener do; beyond it, statuses are
  // dropped (the next one that fits carries the latest state).
  const auto now = ports_.now();
  const double elapsed = std::chrono::duration<double>(now - status_refilled_).count();
  status_refilled_ = now;
  status_tokens_ = std::min(kStatusBurst, status_tokens_ + std::max(0.0, elapsed) * kStatusPerSecond);
  if (status_tokens_ < 1) return Step::kContinue;
  status_tokens_ -= 1;
  // SECURITY: a child can claim no more TLS handshakes or refusals than data connections it was
  // handed; the listener gets the increments.
  const std::uint32_t handshakes = std::min(status.data_tls_handshakes, data_connections_);
  const std::uint32_t refusals = std::min(status.data_tls_refusals, data_connections_);
  SessionReport report;
  report.type = ReportType::kStatus;
  report.status = std::move(status);
  report.status.data_tls_handshakes = handshakes > reported_tls_handshakes_ ? handshakes - reported_tls_handshakes_ : 0;
  report.status.data_tls_refusals = refusals > reported_tls_refusals_ ? refusals - reported_tls_refusals_ : 0;
  reported_tls_handshakes_ = std::max(reported_tls_handshakes_, handshakes);
  reported_tls_refusals_ = std::max(reported_tls_refusals_, refusals);
  ports_.report(report);
  return Step::kContinue;
}

Step MonitorDispatcher::on_quota_query(QuotaQuery&) {
  // SECURITY: the limits are the session's policy as the monitor decided it at login, never
  // what the child says; a session without any gets an unlimited allowance without asking.
  const SessionPolicy& policy = session_policy_;
  if (!policy.limits_uploads()) {
    return send(Child::kPostauth, QuotaAllowance{QuotaStatus::kGranted, kUnlimitedAllowance, kUnlimitedAllowance});
  }
  const auto answer = ports_.ask_quota(policy.upload_files_per_hour, policy.has_quota());
  const QuotaAllowance allowance = quota_allowance(policy, answer);
  if (allowance.status == QuotaStatus::kUnavailable) {
    log_warning("upload refused: the listener did not tell the usage of user '" + escape_for_log(user_) + "'");
  }
  return send(Child::kPostauth, allowance);
}

Step MonitorDispatcher::on_quota_used(QuotaUsed& used) {
  if (used.refused) {
    SessionReport refused;
    refused.type = ReportType::kEvent;
    refused.event = ReportEvent::kQuotaRefused;
    ports_.report(refused);
  }
  // SECURITY: each change is already bounded (one file, at most kMaxByteSize bytes each way);
  // the listener keeps usage between zero and its bounds. Only a session under a quota changes
  // the user's usage.
  if (!session_policy_.has_quota()) return Step::kContinue;
  if (used.bytes_added == 0 && used.bytes_removed == 0 && used.files_added == 0 && used.files_removed == 0) {
    return Step::kContinue;
  }
  SessionReport report;
  report.type = ReportType::kQuotaUsed;
  report.bytes_added = used.bytes_added;
  report.bytes_removed = used.bytes_removed;
  report.files_added = used.files_added;
  report.files_removed = used.files_removed;
  ports_.report(report);
  return Step::kContinue;
}

Step MonitorDispatcher::on_rate_query(RateQuery& query) {
  const RateLimits& limits = rate_limits_[query.direction == TransferDirection::kIncoming ? 0 : 1];
  const std::uint64_t global = query.direction == TransferDirection::kIncoming
                                   ? config_.max_upload_rate
                                   : config_.max_download_rate;
  std::uint64_t share = 0;
  // SECURITY: the listener counts a transfer as running only while this session has a file
  // transfer's data connection out whose report has not come (the kTransferDone permit), and
  // one at a time: a lying child can claim a share of the shared rates for transfers it really
  // has, never for more.
  const bool shared = limits.user != 0 || global != 0;
  if (shared && permits(Permit::kTransferDone) > 0) {
    if (rate_demand_ == query.direction) {
      share = ports_.rate_share(query.direction);
    } else {
      end_rate_demand();
      SessionReport demand;
      demand.type = ReportType::kRateDemand;
      demand.active = true;
      demand.direction = query.direction;
      demand.session_rate = limits.session;
      demand.user_rate = limits.user;
      rate_demand_ = query.direction;
      share = ports_.start_rate_demand(demand);
    }
  }
  return send(Child::kPostauth, RateAnswer{share});
}

void MonitorDispatcher::end_rate_demand() {
  if (!rate_demand_) return;
  SessionReport ended;
  ended.type = ReportType::kRateDemand;
  ended.active = false;
  ended.direction = *rate_demand_;
  rate_demand_.reset();
  ports_.report(ended);
}

}  // namespace wftpd
