// An IPv4 or IPv6 address prefix ("192.0.2.0/24", "2001:db8::/32", or one address), as
// trusted_proxies lists them, and the question whether a peer lies inside one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/socket_address.hpp"

namespace wftpd {

class AddressPrefix {
 public:
  // Strict: an address literal, optionally "/BITS" (0..32 or 0..128). Host bits set below the
  // prefix are refused ("192.0.2.1/24" is probably a mistake).
  static Result<AddressPrefix> parse(std::string_view text);

  // SECURITY: decides whether a peer may speak the PROXY protocol. IPv4-mapped IPv6 peers
  // (from a dual-stack socket) match IPv4 prefixes; other families never match.
  bool contains(const SocketAddress& address) const;

  // The canonical text: "192.0.2.7", "198.51.100.0/24", "2001:db8::/32" (no "/32" or "/128"
  // for one address).
  std::string text() const;

 private:
  bool ipv4_ = true;
  std::array<std::uint8_t, 16> bytes_{};
  unsigned bits_ = 32;
};

// One prefix per item (Config::trusted_proxies, which the config parser split and bounded).
Result<std::vector<AddressPrefix>> parse_prefix_list(const std::vector<std::string>& items);

bool any_contains(const std::vector<AddressPrefix>& prefixes, const SocketAddress& address);

}  // namespace wftpd
