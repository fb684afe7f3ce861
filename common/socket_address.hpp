// A socket address (IPv4 or IPv6) and the few questions the daemon asks of one.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

class SocketAddress {
 public:
  SocketAddress() = default;

  static Result<SocketAddress> peer_of(int fd);   // getpeername
  static Result<SocketAddress> local_of(int fd);  // getsockname
  // An IPv4 (4 bytes used) or IPv6 address and a port.
  static SocketAddress from_bytes(bool ipv4, const std::array<std::uint8_t, 16>& address,
                                  std::uint16_t port);
  // Strict inverse of to_string(): "192.0.2.1:21" or "[2001:db8::1]:21", nothing else.
  static Result<SocketAddress> parse(std::string_view text);

  sockaddr* raw() { return reinterpret_cast<sockaddr*>(&storage_); }
  const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  socklen_t* length_ptr() { return &length_; }
  int family() const { return storage_.ss_family; }

  std::uint16_t port() const;
  void set_port(std::uint16_t port);

  // SECURITY: the comparison that decides whether a data connection belongs to the control
  // peer: same family and same IP address bytes (IPv4-mapped IPv6 compares as IPv4).
  bool same_host(const SocketAddress& other) const;

  // 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6.
  std::array<std::uint8_t, 16> address_bytes() const;
  bool is_ipv4() const;  // AF_INET, or an IPv4-mapped IPv6 address

  std::string host_string() const;  // "192.0.2.1" / "2001:db8::1"
  std::string to_string() const;    // "192.0.2.1:21" / "[2001:db8::1]:21"

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = sizeof(sockaddr_storage);
};

}  // namespace wftpd
