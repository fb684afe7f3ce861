// Who may connect at all: deny_clients and allow_clients, decided before anything is forked
// (by the listener for every connection, behind a trusted proxy for the client it names; by
// inetd mode before it execs the monitor). The per-address limits (client_limits.hpp) come after.
#pragma once

#include <string_view>
#include <vector>

#include "common/address_prefix.hpp"
#include "common/config.hpp"
#include "common/result.hpp"
#include "common/socket_address.hpp"

namespace wftpd {

class ClientAccess {
 public:
  enum class Decision {
    kAllowed,
    kDenied,      // inside deny_clients (whatever allow_clients says)
    kNotAllowed,  // allow_clients is set and the address is outside it
  };

  ClientAccess() = default;  // everyone: both lists empty
  static Result<ClientAccess> from_config(const Config& config);

  Decision decide(const SocketAddress& client) const;

  // For the log line: "in deny_clients", "not in allow_clients".
  static std::string_view reason(Decision decision);

 private:
  std::vector<AddressPrefix> allow_;
  std::vector<AddressPrefix> deny_;
};

// The reply a refused client gets (a clear-text port only: an implicit-TLS client is closed).
inline constexpr std::string_view kAccessRefusedReply =
    "421 Service not available from your address, closing control connection.\r\n";

}  // namespace wftpd
