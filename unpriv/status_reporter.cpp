#include "unpriv/status_reporter.hpp"

#include "unpriv/monitor_client.hpp"

namespace wftpd {

void StatusReporter::transfer_started(TransferDirection direction, const std::string& path) {
  status_.state = SessionState::kTransfer;
  status_.direction = direction;
  status_.bytes = 0;
  status_.path = path.substr(0, kMaxStatusPathLength);
  send_if_due();
}

void StatusReporter::progress(std::uint64_t bytes) {
  status_.bytes = bytes;
  send_if_due();
}

void StatusReporter::transfer_ended() {
  status_.state = SessionState::kIdle;
  status_.bytes = 0;
  status_.path.clear();
}

void StatusReporter::flush() {
  if (unsent_) send(Clock::now());
}

void StatusReporter::send_if_due() {
  const auto now = Clock::now();
  if (now - last_sent_ >= kInterval) send(now);
}

void StatusReporter::send(Clock::time_point now) {
  monitor_.session_status(status_);
  last_sent_ = now;
  unsent_ = false;
}

}  // namespace wftpd
