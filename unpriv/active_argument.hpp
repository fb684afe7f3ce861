// Arguments of PORT (RFC 959) and EPRT (RFC 2428).
#pragma once

#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"

namespace wftpd {

// "h1,h2,h3,h4,p1,p2", each a decimal 0..255.
Result<ActiveTarget> parse_port_argument(std::string_view argument);

// "<d><proto><d><address><d><port><d>" with any delimiter in 33..126; proto 1 (IPv4) or
// 2 (IPv6). An unknown protocol number gives an error whose message starts with "522".
Result<ActiveTarget> parse_eprt_argument(std::string_view argument);

}  // namespace wftpd
