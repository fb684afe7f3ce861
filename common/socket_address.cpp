#include "common/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <charconv>
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

SocketAddress SocketAddress::from_bytes(bool ipv4, const std::array<std::uint8_t, 16>& address,
                                        std::uint16_t port) {
  SocketAddress out;
  if (ipv4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    std::memcpy(&in.sin_addr, address.data(), 4);
    std::memcpy(&out.storage_, &in, sizeof(in));
    out.length_ = sizeof(in);
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&in6.sin6_addr, address.data(), 16);
    std::memcpy(&out.storage_, &in6, sizeof(in6));
    out.length_ = sizeof(in6);
  }
  return out;
}

Result<SocketAddress> SocketAddress::parse(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || text.size() > 64) return make_error("bad address:port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535 || (port_text.size() > 1 && port_text.front() == '0')) {
    return make_error("bad port in '" + std::string(text) + "'");
  }
  std::array<std::uint8_t, 16> bytes{};
  const std::string host_text(host);
  const bool ipv4 = !bracketed && ::inet_pton(AF_INET, host_text.c_str(), bytes.data()) == 1;
  if (!ipv4 && !(bracketed && ::inet_pton(AF_INET6, host_text.c_str(), bytes.data()) == 1)) {
    return make_error("bad address in '" + std::string(text) + "'");
  }
  SocketAddress out = from_bytes(ipv4, bytes, static_cast<std::uint16_t>(port));
  // Canonical text only: what to_string() gives back must be what was given.
  if (out.to_string() != text) return make_error("non-canonical address '" + std::string(text) + "'");
  return out;
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
