// The listener's listening sockets.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

// A non-blocking, close-on-exec TCP socket listening on `host` (an IPv4 or IPv6 literal; IPv6
// sockets are IPV6_V6ONLY) and `port`.
Result<UniqueFd> bind_listen_socket(const std::string& host, std::uint16_t port);

}  // namespace wftpd
