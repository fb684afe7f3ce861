// What the monitor's request handlers do to the world, behind one interface: the live session
// monitor (priv/session_monitor.cpp) sends on real socketpairs, forks nothing here but talks
// to the PAM helper, listens and connects; the fuzz target (fuzz/fuzz_monitor_dispatch.cpp)
// fakes all of it. The handlers and the request table (priv/monitor_dispatch.hpp) see only this.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/pam_protocol.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "priv/login_verifier.hpp"
#include "priv/session_report.hpp"
#include "priv/upload_event.hpp"

namespace wftpd {

// The monitor's two sandboxed children (the post-auth child is the standby child until login).
enum class Child : std::uint8_t { kPreauth, kPostauth };

class MonitorPorts {
 public:
  virtual ~MonitorPorts() = default;

  // One encoded message (encode_message) to a child, optionally with a descriptor.
  virtual Result<void> send(Child to, const std::string& datagram, int attached_fd) = 0;
  // After a last answer that ends the session: gives the child a moment (at most 5 s) to answer
  // its client and close; whatever it sends meanwhile is discarded, never handled.
  virtual void linger(Child child) = 0;
  // A plain (non-TLS) session after the hand-off: closes the pre-auth child's channel, kills
  // and reaps it.
  virtual void stop_preauth() = 0;

  // Login backends and pacing.
  virtual bool knows_virtual_user(std::string_view name) = 0;
  virtual LoginDecision check_virtual_user(std::string_view name, std::string_view password) = 0;
  virtual Result<PamVerdict> check_pam(const PamCheck& check) = 0;
  // The pre-auth phase is over, no password is checked any more: the PAM helper goes and the
  // virtual users' hashes are wiped.
  virtual void end_login_phase() = 0;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep_until(std::chrono::steady_clock::time_point deadline) = 0;
  // One report to the listener (priv/session_report.hpp); best effort, never blocks.
  virtual void report(const SessionReport& report) = 0;
  // Asks the listener for a place among `user`'s logged-in sessions (at most `limit`); false
  // when they are all taken, or when nobody answers (inetd mode has no listener).
  virtual bool claim_user_session(std::string_view user, std::uint32_t limit) = 0;
  // Asks the listener before an upload (priv/quota_usage.hpp) about the logged-in user: their
  // usage (`wants_usage`), and whether the client may start one more upload this hour under
  // `uploads_per_hour` (0: no limit), which counts it. None when nobody answers (inetd mode has
  // no listener).
  virtual std::optional<ListenerNotice> ask_quota(std::uint32_t uploads_per_hour, bool wants_usage) = 0;
  // A kRateDemand report of a transfer that starts: the listener's answer, the transfer's share
  // in bytes/s (0: none, or no answer: inetd mode has no listener). Bounded wait.
  virtual std::uint64_t start_rate_demand(const SessionReport& demand) = 0;
  // The latest share the listener sent unasked (it recomputes when transfers start and end).
  virtual std::uint64_t rate_share(TransferDirection direction) = 0;

  // Data connections: M's passive listener and active connector.
  virtual PassiveReady passive_listen() = 0;
  virtual void close_passive() = 0;
  virtual ActiveStatus set_active_target(const ActiveTarget& target) = 0;
  virtual void clear_active_target() = 0;
  // Accepts on the passive listener, or connects to the active target if there is one.
  virtual DataStatus open_data_connection(UniqueFd& connection) = 0;

  // The server's signature of a TLS handshake digest, with the key only the monitor holds
  // (tls_enable). An error: the request does not fit the key (a lying child) or signing failed.
  virtual Result<std::string> sign_handshake(const SignRequest& request) = 0;

  // The transfer log (xferlog_enable): whether there is one, and one line for it.
  virtual bool keeps_transfer_log() const = 0;
  virtual void append_transfer_log(const std::string& line) = 0;

  // Upload events (upload_event_socket): one completed upload, for the consumer. The port stamps
  // it (session id, wall-clock time), formats it (format_upload_event) and sends it without
  // waiting; a drop (no consumer, a busy or gone one) is the port's to count and log, never an
  // error for the session.
  virtual void publish_upload(const UploadEvent& event) = 0;
};

}  // namespace wftpd
