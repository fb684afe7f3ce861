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

  // A file transfer's data connection is open: sent at once.
  void transfer_started(TransferDirection direction, const std::string& path);
  // Bytes moved so far in the current transfer: sent when kInterval has passed.
  void progress(std::uint64_t bytes);
  // The transfer ended (the monitor learns how from TransferDone); the next command_done()
  // reports the session idle.
  void transfer_ended();
  // A command was answered: the session is idle, reported when kInterval has passed since the
  // last status (or the state changed).
  void command_done();
  void data_tls_handshake() { ++status_.data_tls_handshakes; }
  void data_tls_refused() { ++status_.data_tls_refusals; }

 private:
  void send(Clock::time_point now);

  PostauthMonitor& monitor_;
  SessionStatus status_;
  bool changed_ = false;  // since the last status sent
  Clock::time_point last_sent_{};
};

}  // namespace wftpd
