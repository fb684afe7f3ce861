// What the post-auth child tells the monitor about the session for the operator
// (`wardenftpd-ctl who`, metrics): SessionStatus messages, at most about one a second outside
// state changes, so a busy session costs the monitor nothing worth counting.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/monitor_protocol.hpp"

namespace wftpd {

class PostauthMonitor;

class StatusReporter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kInterval{1};

  explicit StatusReporter(PostauthMonitor& monitor) : monitor_(monitor) {}

  // Nothing is sent more often than every kInterval, so that many small transfers or commands
  // cost no extra message each; flush() sends what is left when the session ends.
  //
  // A file transfer's data connection is open.
  void transfer_started(TransferDirection direction, const std::string& path);
  // Bytes moved so far in the current transfer.
  void progress(std::uint64_t bytes);
  // The transfer ended (the monitor learns how from TransferDone, and the listener shows the
  // session idle from that report).
  void transfer_ended();
  // A command was answered: the idle time starts now.
  void command_done() { send_if_due(); }
  void data_tls_handshake() {
    ++status_.data_tls_handshakes;
    unsent_ = true;
  }
  void data_tls_refused() {
    ++status_.data_tls_refusals;
    unsent_ = true;
  }
  // The session ends, or has been quiet since: the counts not yet reported.
  void flush();
  // Counts not yet reported, and when they may be sent (kInterval after the last status).
  bool unsent() const { return unsent_; }
  Clock::time_point next_due() const { return last_sent_ + kInterval; }

 private:
  void send_if_due();
  void send(Clock::time_point now);

  PostauthMonitor& monitor_;
  SessionStatus status_;
  bool unsent_ = false;  // counts changed since the last status sent
  Clock::time_point last_sent_{};
};

}  // namespace wftpd
