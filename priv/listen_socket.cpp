#include "priv/listen_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "common/socket_address.hpp"

namespace wftpd {
namespace {

constexpr int kListenBacklog = 256;

}  // namespace

// `host` is an IP literal (parse_config accepts nothing else), converted with inet_pton: no
// getaddrinfo, which in a static binary would need the NSS modules of the glibc it was built with.
Result<UniqueFd> bind_listen_socket(const std::string& host, std::uint16_t port) {
  std::array<std::uint8_t, 16> bytes{};
  const bool ipv4 = ::inet_pton(AF_INET, host.c_str(), bytes.data()) == 1;
  if (!ipv4 && ::inet_pton(AF_INET6, host.c_str(), bytes.data()) != 1) {
    return make_error("listen_address '" + host + "' is not an IPv4 or IPv6 address");
  }
  const SocketAddress address = SocketAddress::from_bytes(ipv4, bytes, port);
  const std::string service = std::to_string(port);
  UniqueFd fd(::socket(ipv4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return system_error("socket", errno);
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    return system_error("setsockopt(SO_REUSEADDR)", errno);
  }
  if (!ipv4 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) {
    return system_error("setsockopt(IPV6_V6ONLY)", errno);
  }
  if (::bind(fd.get(), address.raw(), address.length()) != 0) {
    return system_error("bind(" + host + " port " + service + ")", errno);
  }
  if (::listen(fd.get(), kListenBacklog) != 0) return system_error("listen", errno);
  return fd;
}

}  // namespace wftpd
