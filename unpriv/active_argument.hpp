// Arguments of PORT (RFC 959) and EPRT (RFC 2428).
#pragma once

#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"

namespace wftpd {

// Why a PORT, EPRT or EPSV argument is refused; each answer has its own reply code.
enum class PortArgumentError {
  kMalformed,            // 501
  kUnsupportedProtocol,  // 522 (RFC 2428 2, 3): a network protocol other than 1 (IPv4), 2 (IPv6)
};

// "h1,h2,h3,h4,p1,p2", each a decimal 0..255.
Result<ActiveTarget, PortArgumentError> parse_port_argument(std::string_view argument);

// "<d><proto><d><address><d><port><d>" with any delimiter in 33..126; proto 1 (IPv4) or
// 2 (IPv6). A well-formed but unknown protocol number is kUnsupportedProtocol.
Result<ActiveTarget, PortArgumentError> parse_eprt_argument(std::string_view argument);

}  // namespace wftpd
