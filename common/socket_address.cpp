#include "common/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

namespace wftpd {

Result<SocketAddress> SocketAddress::peer_of(int fd) {
  SocketAddress address;
  if (::getpeername(fd, address.raw(), address.length_ptr()) != 0) {
    return system_error("getpeername", errno);
  }
  return address;
}

Result<SocketAddress> SocketAddress::local_of(int fd) {
  SocketAddress address;
  if (::getsockname(fd, address.raw(), address.length_ptr()) != 0) {
    return system_error("getsockname", errno);
  }
  return address;
}

std::uint16_t SocketAddress::port() const {
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

void SocketAddress::set_port(std::uint16_t port) {
  if (family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

bool SocketAddress::is_ipv4() const {
  if (family() == AF_INET) return true;
  if (family() != AF_INET6) return false;
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
  return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
}

std::array<std::uint8_t, 16> SocketAddress::address_bytes() const {
  std::array<std::uint8_t, 16> bytes{};
  if (family() == AF_INET) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, 4);
  } else if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::memcpy(bytes.data(), in6->sin6_addr.s6_addr + 12, 4);
    } else {
      std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, 16);
    }
  }
  return bytes;
}

bool SocketAddress::same_host(const SocketAddress& other) const {
  if (family() != AF_INET && family() != AF_INET6) return false;
  if (other.family() != AF_INET && other.family() != AF_INET6) return false;
  if (is_ipv4() != other.is_ipv4()) return false;
  return address_bytes() == other.address_bytes();
}

std::string SocketAddress::host_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
                sizeof(text));
  } else if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
                sizeof(text));
  } else {
    return "unknown";
  }
  return text;
}

std::string SocketAddress::to_string() const {
  if (family() == AF_INET6) return "[" + host_string() + "]:" + std::to_string(port());
  return host_string() + ":" + std::to_string(port());
}

}  // namespace wftpd
