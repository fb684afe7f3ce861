#include "priv/session_record.hpp"

#include <time.h>

#include <charconv>

namespace wftpd {

void SessionRecord::apply(const SessionReport& report, Clock::time_point now) {
  switch (report.type) {
    case ReportType::kLoginAccepted:
      user = report.user;
      backend = report.backend ? std::string(backend_name(*report.backend)) : std::string();
      user_class = report.user_class;
      last_activity = now;
      break;
    case ReportType::kLoginFailed:
      last_activity = now;
      break;
    case ReportType::kStatus: {
      const bool same_transfer = report.status.state == SessionState::kTransfer &&
                                 status.state == SessionState::kTransfer &&
                                 report.status.direction == status.direction &&
                                 report.status.path == status.path && report.status.bytes >= status.bytes;
      const double seconds = std::chrono::duration<double>(now - status_time).count();
      rate = same_transfer && seconds >= 0.2
                 ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(
                       static_cast<double>(report.status.bytes - status.bytes) / seconds))
                 : std::nullopt;
      status = report.status;
      status_time = now;
      last_activity = now;
      break;
    }
    case ReportType::kTransferDone:
      status = SessionStatus{};
      rate.reset();
      status_time = now;
      last_activity = now;
      break;
    case ReportType::kEvent:
    case ReportType::kClaimSession:
    case ReportType::kQuotaQuery:
    case ReportType::kQuotaUsed:
    case ReportType::kRateDemand:
      break;
  }
}

std::string utc_time_text(std::int64_t unix_seconds) {
  const time_t when = static_cast<time_t>(unix_seconds);
  struct tm parts{};
  ::gmtime_r(&when, &parts);
  char text[32];
  ::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

ControlResponse who_table(const std::vector<const SessionRecord*>& sessions,
                          SessionRecord::Clock::time_point now) {
  ControlResponse response;
  response.columns = {{"session", true}, {"pid", true},     {"user", false},  {"class", false},
                      {"client", false}, {"proxy", false},   {"started", false}, {"idle", true},
                      {"state", false},  {"path", false},    {"bytes", true},    {"rate", true}};
  for (const SessionRecord* session : sessions) {
    const bool transferring = session->status.state == SessionState::kTransfer;
    const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - session->last_activity).count();
    std::string state = "login";
    if (session->logged_in()) {
      state = !transferring ? "idle"
              : session->status.direction == TransferDirection::kIncoming ? "upload"
                                                                         : "download";
    }
    const std::string rate = transferring && session->rate ? std::to_string(*session->rate) : "-";
    response.rows.push_back({std::to_string(session->id),
                             std::to_string(session->pid),
                             session->logged_in() ? session->user : "-",
                             session->logged_in() ? session->user_class : "-",
                             session->client.host_string(),
                             session->proxy.empty() ? "-" : session->proxy,
                             utc_time_text(session->started_unix),
                             std::to_string(transferring ? 0 : std::max<long long>(0, idle)),
                             state,
                             transferring ? session->status.path : "-",
                             transferring ? std::to_string(session->status.bytes) : "-",
                             rate});
  }
  return response;
}

Result<KickSelection> KickSelection::from(const ControlRequest& request) {
  KickSelection selection;
  selection.selector_ = request.selector;
  switch (request.selector) {
    case KickSelector::kSession: {
      const auto& text = request.argument;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), selection.id_);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return make_error("'" + text + "' is not a session id");
      }
      break;
    }
    case KickSelector::kUser:
      selection.user_ = request.argument;
      break;
    case KickSelector::kClient: {
      auto prefix = AddressPrefix::parse(request.argument);
      if (!prefix) return prefix.error();
      selection.prefix_ = *prefix;
      break;
    }
  }
  return selection;
}

bool KickSelection::matches(const SessionRecord& session) const {
  switch (selector_) {
    case KickSelector::kSession: return session.id == id_;
    case KickSelector::kUser: return session.logged_in() && session.user == user_;
    case KickSelector::kClient: return prefix_ && prefix_->contains(session.client);
  }
  return false;
}

}  // namespace wftpd
