// Replies and argument parsing for passive-mode data connections (PASV, RFC 959; EPSV, RFC 2428).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "unpriv/active_argument.hpp"

namespace wftpd {

// "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).\r\n"
std::string format_pasv_reply(std::array<std::uint8_t, 4> address, std::uint16_t port);

// "229 Entering Extended Passive Mode (|||port|)\r\n"
std::string format_epsv_reply(std::uint16_t port);

enum class EpsvRequest { kAny, kIpv4, kIpv6, kAll };

// "" -> kAny, "1" -> kIpv4, "2" -> kIpv6, "ALL" (any case) -> kAll. Any other string of digits is
// a protocol number we don't support (kUnsupportedProtocol); anything else is kMalformed.
Result<EpsvRequest, PortArgumentError> parse_epsv_argument(std::string_view argument);

}  // namespace wftpd
