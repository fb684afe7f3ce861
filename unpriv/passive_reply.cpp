#include "unpriv/passive_reply.hpp"

#include <charconv>

#include "common/ascii.hpp"

namespace wftpd {

namespace {

void append_number(std::string& out, unsigned value) {
  char buf[8];
  // to_chars is locale-independent; 8 bytes hold any 16-bit value.
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec == std::errc()) out.append(buf, end);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string format_pasv_reply(std::array<std::uint8_t, 4> address, std::uint16_t port) {
  std::string out = "227 Entering Passive Mode (";
  for (std::uint8_t octet : address) {
    append_number(out, octet);
    out.push_back(',');
  }
  append_number(out, static_cast<unsigned>(port >> 8));
  out.push_back(',');
  append_number(out, static_cast<unsigned>(port & 0xffU));
  out += ").\r\n";
  return out;
}

std::string format_epsv_reply(std::uint16_t port) {
  std::string out = "229 Entering Extended Passive Mode (|||";
  append_number(out, port);
  out += "|)\r\n";
  return out;
}

Result<EpsvRequest, PortArgumentError> parse_epsv_argument(std::string_view argument) {
  if (argument.empty()) return EpsvRequest::kAny;
  if (argument == "1") return EpsvRequest::kIpv4;
  if (argument == "2") return EpsvRequest::kIpv6;
  if (equals_ignoring_ascii_case(argument, "ALL")) return EpsvRequest::kAll;
  // RFC 2428: an unknown network protocol gets 522 listing the supported ones. Digit strings are
  // not converted, so arbitrarily long numbers need no overflow handling.
  if (all_digits(argument)) return PortArgumentError::kUnsupportedProtocol;
  return PortArgumentError::kMalformed;
}

}  // namespace wftpd
