// The monitor's side of PASV/EPSV: it owns every network socket, listens on a port of the
// configured range and hands the post-auth child only a connection from the control peer.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

struct PassivePortRange {
  std::uint16_t min = 0;  // 0/0: the kernel chooses
  std::uint16_t max = 0;
};

// What PASV announces: the local address, or a configured one (a NAT's public address).
struct PassiveAnnouncement {
  bool use_configured = false;
  std::array<std::uint8_t, 4> ipv4{};
};

class PassiveListener {
 public:
  // `relay`: the trusted proxy the control connection came through, which relays passive
  // data connections too (they then come from its address, not the client's).
  PassiveListener(SocketAddress control_local, SocketAddress control_peer, PassivePortRange range,
                  PassiveAnnouncement announcement = {},
                  std::optional<SocketAddress> relay = std::nullopt);

  // Opens a new listening socket (closing any previous one) on the control connection's local
  // address and a random port of the range.
  PassiveReady listen();

  // Waits up to `timeout` for the control peer (or the relaying proxy) to connect. SECURITY:
  // connections from any other address are closed and logged (port theft); the listener is
  // closed after one connection.
  DataStatus accept(std::chrono::seconds timeout, UniqueFd& connection);
  void close() { listener_.reset(); }

 private:
  SocketAddress control_local_;
  SocketAddress control_peer_;
  PassivePortRange range_;
  PassiveAnnouncement announcement_;
  std::optional<SocketAddress> relay_;
  UniqueFd listener_;
};

}  // namespace wftpd
