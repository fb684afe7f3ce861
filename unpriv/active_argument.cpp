#include "unpriv/active_argument.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace wftpd {
namespace {

// A decimal number without sign or leading '+', at most `max`.
bool parse_decimal(std::string_view text, unsigned max, unsigned& out) {
  if (text.empty() || text.size() > 5) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

}  // namespace

Result<ActiveTarget, PortArgumentError> parse_port_argument(std::string_view argument) {
  unsigned values[6];
  for (int i = 0; i < 6; ++i) {
    const auto comma = argument.find(',');
    const bool last = i == 5;
    if (last != (comma == std::string_view::npos)) return PortArgumentError::kMalformed;
    if (!parse_decimal(argument.substr(0, comma), 255, values[i])) {
      return PortArgumentError::kMalformed;
    }
    if (!last) argument.remove_prefix(comma + 1);
  }
  ActiveTarget target;
  target.family = AddressFamily::kIpv4;
  for (int i = 0; i < 4; ++i) target.address[i] = static_cast<std::uint8_t>(values[i]);
  target.port = static_cast<std::uint16_t>(values[4] * 256 + values[5]);
  return target;
}

Result<ActiveTarget, PortArgumentError> parse_eprt_argument(std::string_view argument) {
  if (argument.size() < 7 || argument.size() > 128) return PortArgumentError::kMalformed;
  const char delimiter = argument.front();
  if (delimiter < 33 || delimiter > 126) return PortArgumentError::kMalformed;
  if (argument.back() != delimiter) return PortArgumentError::kMalformed;
  std::string_view fields[3];
  std::string_view rest = argument.substr(1, argument.size() - 2);
  for (int i = 0; i < 3; ++i) {
    const auto next = rest.find(delimiter);
    if ((i == 2) != (next == std::string_view::npos)) return PortArgumentError::kMalformed;
    fields[i] = rest.substr(0, next);
    if (i < 2) rest.remove_prefix(next + 1);
  }
  unsigned protocol = 0, port = 0;
  if (!parse_decimal(fields[0], 65535, protocol)) return PortArgumentError::kMalformed;
  if (protocol != 1 && protocol != 2) return PortArgumentError::kUnsupportedProtocol;
  if (!parse_decimal(fields[2], 65535, port) || port == 0) return PortArgumentError::kMalformed;
  const std::string address(fields[1]);
  ActiveTarget target;
  target.port = static_cast<std::uint16_t>(port);
  if (protocol == 1) {
    in_addr v4{};
    if (::inet_pton(AF_INET, address.c_str(), &v4) != 1) return PortArgumentError::kMalformed;
    target.family = AddressFamily::kIpv4;
    std::memcpy(target.address.data(), &v4, 4);
  } else {
    in6_addr v6{};
    if (::inet_pton(AF_INET6, address.c_str(), &v6) != 1) return PortArgumentError::kMalformed;
    target.family = AddressFamily::kIpv6;
    std::memcpy(target.address.data(), &v6, 16);
  }
  return target;
}

}  // namespace wftpd
