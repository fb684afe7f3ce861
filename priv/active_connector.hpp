// The monitor's side of PORT/EPRT: it connects to the control peer's own address, never to an
// address a child names, and only to unprivileged ports.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/monitor_protocol.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

class ActiveConnector {
 public:
  // `from_port_20`: bind the data connection's source port to 20 (needs CAP_NET_BIND_SERVICE).
  ActiveConnector(SocketAddress control_local, SocketAddress control_peer, bool from_port_20 = false);

  // Checks a PORT/EPRT target; remembers the port when it is acceptable.
  ActiveStatus set_target(const ActiveTarget& target);
  bool has_target() const { return port_.has_value(); }
  void clear() { port_.reset(); }

  // Connects (from the control connection's local address) within `timeout`; one use.
  DataStatus connect(std::chrono::seconds timeout, UniqueFd& connection);

 private:
  SocketAddress control_local_;
  SocketAddress control_peer_;
  std::optional<std::uint16_t> port_;
  bool from_port_20_ = false;
};

}  // namespace wftpd
