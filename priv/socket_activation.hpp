// Socket activation, systemd's LISTEN_FDS protocol read without libsystemd: when LISTEN_PID is
// this process and LISTEN_FDS=N, descriptors 3..3+N-1 are listening sockets made by the service
// manager, used instead of binding listen_address/listen_port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

struct InheritedSocket {
  UniqueFd fd;               // moved to kFirstHighFd or above, non-blocking, close-on-exec
  std::string name;          // from LISTEN_FDNAMES (FileDescriptorName=), empty without it
  std::string local_address; // "127.0.0.1:21", for the log
  std::uint16_t local_port = 0;
};

// Takes the inherited sockets: none (an empty vector) when LISTEN_PID is not this process or
// LISTEN_FDS is unset; an error when one of them is not a listening TCP socket or the variables
// are malformed. LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed from the environment in
// every case, so no process started later sees them.
Result<std::vector<InheritedSocket>> take_inherited_sockets();

// Whether connections to an inherited socket speak TLS from the first byte: the name "ftps"
// says yes and "ftp" says no; any other name (or none) leaves it to the local port, which
// must then equal tls_implicit_port (when that is not 0).
bool serves_implicit_tls(const InheritedSocket& socket, std::uint16_t tls_implicit_port);
// The same rule for any socket (validate_config: inherited, kept across a reload, inetd's).
bool serves_implicit_tls(std::string_view name, std::uint16_t local_port,
                         std::uint16_t tls_implicit_port);

}  // namespace wftpd
