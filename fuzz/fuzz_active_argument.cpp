// PORT/EPRT arguments (parse_port_argument, parse_eprt_argument) and the EPSV argument
// (parse_epsv_argument): the whole input is the argument for each parser.
//
// Checks: a PORT argument is never refused as an unsupported protocol, an EPSV argument is
// exactly when it is a number other than 1 and 2 (the 522 answer, not 501); an accepted PORT/EPRT target
// re-formatted canonically parses back to the same target, has a non-zero EPRT port and zero
// padding after an IPv4 address, and survives the monitor protocol encoding unchanged (it is
// what the post-auth child sends to the monitor). The PASV/EPSV reply formatters are fed
// fuzzed addresses and ports as well.
#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"
#include "fuzz/fuzz_check.hpp"
#include "unpriv/active_argument.hpp"
#include "unpriv/passive_reply.hpp"

namespace {

using wftpd::ActiveTarget;
using wftpd::AddressFamily;

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

bool same(const ActiveTarget& a, const ActiveTarget& b) {
  return a.family == b.family && a.address == b.address && a.port == b.port;
}

void check_target(const ActiveTarget& target) {
  if (target.family == AddressFamily::kIpv4) {
    for (std::size_t i = 4; i < target.address.size(); ++i) FUZZ_CHECK(target.address[i] == 0);
  } else {
    FUZZ_CHECK(target.family == AddressFamily::kIpv6);
  }
  // Across the monitor boundary and back.
  const std::string datagram = wftpd::encode_message(target);
  auto header = wftpd::decode_header(datagram);
  FUZZ_CHECK(header.ok());
  FUZZ_CHECK(header->type == static_cast<std::uint16_t>(ActiveTarget::kType));
  auto decoded = wftpd::decode_payload<ActiveTarget>(header->payload);
  FUZZ_CHECK(decoded.ok());
  FUZZ_CHECK(same(*decoded, target));
}

std::string eprt_text(const ActiveTarget& target, char delimiter) {
  char buffer[INET6_ADDRSTRLEN] = {};
  const bool v4 = target.family == AddressFamily::kIpv4;
  FUZZ_CHECK(::inet_ntop(v4 ? AF_INET : AF_INET6, target.address.data(), buffer, sizeof buffer) !=
             nullptr);
  std::string out(1, delimiter);
  out += v4 ? "1" : "2";
  out += delimiter;
  out += buffer;
  out += delimiter;
  out += std::to_string(target.port);
  out += delimiter;
  return out;
}

void check_reply_line(const std::string& reply, std::string_view code) {
  FUZZ_CHECK(reply.starts_with(code));
  FUZZ_CHECK(reply.ends_with("\r\n"));
  FUZZ_CHECK(reply.find_first_of("\r\n") == reply.size() - 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view argument = wftpd::fuzz::as_view(data, size);

  auto port = wftpd::parse_port_argument(argument);
  if (port) {
    const ActiveTarget& target = *port;
    FUZZ_CHECK(target.family == AddressFamily::kIpv4);
    check_target(target);
    std::string canonical;
    for (std::size_t i = 0; i < 4; ++i) canonical += std::to_string(target.address[i]) + ",";
    canonical += std::to_string(target.port >> 8) + "," + std::to_string(target.port & 0xff);
    auto again = wftpd::parse_port_argument(canonical);
    FUZZ_CHECK(again.ok() && same(*again, target));
  } else {
    FUZZ_CHECK(port.error() == wftpd::PortArgumentError::kMalformed);
  }

  auto eprt = wftpd::parse_eprt_argument(argument);
  if (eprt) {
    const ActiveTarget& target = *eprt;
    FUZZ_CHECK(target.port != 0);
    check_target(target);
    const char delimiter = argument.front();
    if (target.family == AddressFamily::kIpv4) {
      // The same target as PORT would give.
      auto as_port = wftpd::parse_eprt_argument(eprt_text(target, '|'));
      FUZZ_CHECK(as_port.ok() && same(*as_port, target));
    }
    // Re-formatted with the client's delimiter (which may be a hex digit or ':' only if it did
    // not collide with the address text): only try delimiters that cannot occur in the text.
    const bool safe_delimiter = !(delimiter >= '0' && delimiter <= '9') &&
                                !(delimiter >= 'a' && delimiter <= 'f') && delimiter != ':' &&
                                delimiter != '.';
    auto again = wftpd::parse_eprt_argument(eprt_text(target, safe_delimiter ? delimiter : '|'));
    FUZZ_CHECK(again.ok() && same(*again, target));
  }

  auto epsv = wftpd::parse_epsv_argument(argument);
  if (epsv) {
    switch (*epsv) {
      case wftpd::EpsvRequest::kAny: FUZZ_CHECK(argument.empty()); break;
      case wftpd::EpsvRequest::kIpv4: FUZZ_CHECK(argument == "1"); break;
      case wftpd::EpsvRequest::kIpv6: FUZZ_CHECK(argument == "2"); break;
      case wftpd::EpsvRequest::kAll: FUZZ_CHECK(argument.size() == 3); break;
    }
  } else {
    FUZZ_CHECK(!argument.empty());
    FUZZ_CHECK((epsv.error() == wftpd::PortArgumentError::kUnsupportedProtocol) ==
               all_digits(argument));
  }

  // Reply formatters: any address and port give one well-formed line.
  wftpd::fuzz::Input input(data, size);
  std::array<std::uint8_t, 4> address{};
  for (auto& byte : address) byte = input.byte();
  const auto pasv_port = input.integer<std::uint16_t>();
  check_reply_line(wftpd::format_pasv_reply(address, pasv_port), "227 ");
  check_reply_line(wftpd::format_epsv_reply(pasv_port), "229 ");
  return 0;
}
