#include "common/address_prefix.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace wftpd {

Result<AddressPrefix> AddressPrefix::parse(std::string_view text) {
  const std::string original(text);
  if (text.empty() || text.size() > 64) return make_error("'" + original + "' is not an address prefix");
  AddressPrefix prefix;
  const std::size_t slash = text.find('/');
  const std::string host(text.substr(0, slash));
  if (::inet_pton(AF_INET, host.c_str(), prefix.bytes_.data()) == 1) {
    prefix.ipv4_ = true;
    prefix.bits_ = 32;
  } else if (::inet_pton(AF_INET6, host.c_str(), prefix.bytes_.data()) == 1) {
    prefix.ipv4_ = false;
    prefix.bits_ = 128;
    if (prefix.bytes_[10] == 0xff && prefix.bytes_[11] == 0xff &&
        std::all_of(prefix.bytes_.begin(), prefix.bytes_.begin() + 10, [](auto b) { return b == 0; })) {
      // Peers in that form are compared as IPv4, so the prefix would never match.
      return make_error("'" + original + "': write IPv4-mapped addresses as IPv4");
    }
  } else {
    return make_error("'" + original + "' is not an IPv4 or IPv6 address or prefix");
  }
  if (slash != std::string_view::npos) {
    const std::string_view bits_text = text.substr(slash + 1);
    unsigned bits = 0;
    const auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
    if (bits_text.empty() || bits_text.size() > 3 || ec != std::errc() ||
        end != bits_text.data() + bits_text.size() || bits > prefix.bits_) {
      return make_error("'" + original + "': bad prefix length");
    }
    prefix.bits_ = bits;
  }
  for (unsigned bit = prefix.bits_; bit < (prefix.ipv4_ ? 32u : 128u); ++bit) {
    if (prefix.bytes_[bit / 8] & (0x80u >> (bit % 8))) {
      return make_error("'" + original + "': address has bits set beyond the prefix length");
    }
  }
  return prefix;
}

bool AddressPrefix::contains(const SocketAddress& address) const {
  if (address.family() != AF_INET && address.family() != AF_INET6) return false;
  if (address.is_ipv4() != ipv4_) return false;
  const auto bytes = address.address_bytes();  // IPv4-mapped: the 4 IPv4 bytes
  for (unsigned bit = 0; bit < bits_; ++bit) {
    const unsigned mask = 0x80u >> (bit % 8);
    if ((bytes[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

std::string AddressPrefix::text() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(ipv4_ ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof(buffer));
  const unsigned all = ipv4_ ? 32u : 128u;
  return std::string(buffer) + (bits_ == all ? "" : "/" + std::to_string(bits_));
}

Result<std::vector<AddressPrefix>> parse_prefix_list(const std::vector<std::string>& items) {
  std::vector<AddressPrefix> prefixes;
  for (const auto& item : items) {
    auto prefix = AddressPrefix::parse(item);
    if (!prefix) return prefix.error();
    prefixes.push_back(*prefix);
  }
  return prefixes;
}

bool any_contains(const std::vector<AddressPrefix>& prefixes, const SocketAddress& address) {
  for (const auto& prefix : prefixes) {
    if (prefix.contains(address)) return true;
  }
  return false;
}

}  // namespace wftpd
