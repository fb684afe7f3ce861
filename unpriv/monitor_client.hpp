// The unprivileged side of the monitor protocol. FTP code calls these like ordinary functions
// (login(), passive_listen(), ...); only this file knows they are requests to the monitor.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/monitor_channel.hpp"
#include "common/result.hpp"

namespace wftpd {

class MonitorClient {
 public:
  explicit MonitorClient(int fd) : channel_(UniqueFd(fd)) {}

  // Pre-auth child.
  Result<LoginStatus> login(const std::string& user, const std::string& password);
  Result<void> hand_off(std::string pending_input, const ControlTlsState& tls);

  // Either child: a line for the server's log (the monitor escapes and rate-limits it).
  void log(EventLevel level, std::string_view text);

  // Post-auth child.
  Result<StartSession> await_start();
  Result<PassiveReady> passive_listen(bool extended);
  Result<ActiveStatus> active_target(const ActiveTarget& target);
  // Waits for the client's data connection on the last passive port.
  Result<std::pair<DataStatus, UniqueFd>> data_connect();
  // A file transfer ended (for the transfer log); best effort like log().
  void transfer_done(const TransferDone& transfer);

 private:
  MonitorChannel channel_;
};

}  // namespace wftpd
