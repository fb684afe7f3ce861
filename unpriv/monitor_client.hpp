// The unprivileged side of the monitor protocol. FTP code calls these like ordinary functions
// (login(), passive_listen(), ...); only this file knows they are requests to the monitor.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/monitor_channel.hpp"
#include "common/remote_key.hpp"
#include "common/result.hpp"

namespace wftpd {

// What the post-auth engine asks of the monitor: MonitorClient in the daemon, a fake in the fuzz
// harness (fuzz/fuzz_postauth_engine.cpp).
class PostauthMonitor {
 public:
  virtual ~PostauthMonitor() = default;
  virtual void log(EventLevel level, std::string_view text) = 0;
  virtual Result<PassiveReady> passive_listen(bool extended) = 0;
  virtual Result<ActiveStatus> active_target(const ActiveTarget& target) = 0;
  // Waits for the client's data connection on the last passive port (or connects to the last
  // accepted active target), for a file transfer or a listing.
  virtual Result<std::pair<DataStatus, UniqueFd>> data_connect(DataPurpose purpose) = 0;
  // A file transfer ended (for the transfer log); best effort like log(). At most one per data
  // connection asked for kFileTransfer, before the next data_connect(): the monitor ends the
  // session on any other.
  virtual void transfer_done(const TransferDone& transfer) = 0;
  // What the session is doing, for the operator (unpriv/status_reporter.hpp); best effort.
  virtual void session_status(const SessionStatus& status) = 0;
  // Before an upload under a quota or upload limit: what it may use (the monitor asks the
  // listener, which keeps the user's usage).
  virtual Result<QuotaAllowance> quota_allowance() = 0;
  // What an upload (complete or not) or DELE changed in the user's files; best effort.
  virtual void quota_used(const QuotaUsed& used) = 0;
  // A rate-limited file transfer's share of the rates it shares with other sessions, bytes/s
  // (0: none known); the first call of a transfer tells the monitor it runs.
  virtual std::uint64_t rate_share(TransferDirection direction) = 0;
};

// Also the signer of the TLS endpoint's remote key (common/remote_key.hpp): a handshake's
// signature is a SignRequest to the monitor, which holds the private key.
class MonitorClient : public PostauthMonitor, public RemoteSigner {
 public:
  explicit MonitorClient(int fd) : channel_(UniqueFd(fd)) {}

  // Pre-auth child.
  Result<LoginStatus> login(const std::string& user, const std::string& password);
  Result<ClearLogin> clear_login(const std::string& user);
  Result<void> hand_off(std::string pending_input, const ControlTlsState& tls);

  // Either child: the server's signature of a handshake digest (a TLS handshake the child is
  // running). The monitor decides whether it may ask now.
  Result<std::string> sign(SignatureScheme scheme, std::string_view digest) override;

  // Either child: a line for the server's log (the monitor escapes it). The monitor ends the
  // session when a child sends more than kMaxLogEventsPerChild lines; this process stops short
  // of that (see monitor_client.cpp).
  void log(EventLevel level, std::string_view text) override;

  // Post-auth child.
  Result<StartSession> await_start();
  Result<PassiveReady> passive_listen(bool extended) override;
  Result<ActiveStatus> active_target(const ActiveTarget& target) override;
  Result<std::pair<DataStatus, UniqueFd>> data_connect(DataPurpose purpose) override;
  void transfer_done(const TransferDone& transfer) override;
  void session_status(const SessionStatus& status) override;
  Result<QuotaAllowance> quota_allowance() override;
  void quota_used(const QuotaUsed& used) override;
  std::uint64_t rate_share(TransferDirection direction) override;

 private:
  MonitorChannel channel_;
  std::uint32_t log_events_ = 0;  // LogEvents sent
};

}  // namespace wftpd
