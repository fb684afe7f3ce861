#include "priv/socket_activation.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "common/socket_address.hpp"
#include "priv/session_spawn.hpp"

namespace wftpd {
namespace {

constexpr int kFirstInheritedFd = 3;  // SD_LISTEN_FDS_START
constexpr unsigned kMaxInheritedSockets = 64;

// A decimal number that is the whole string, or false.
bool parse_decimal(std::string_view text, unsigned long& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

int socket_option(int fd, int option, int& value) {
  socklen_t length = sizeof(value);
  return ::getsockopt(fd, SOL_SOCKET, option, &value, &length);
}

Result<InheritedSocket> take_one(int fd, std::string name) {
  const std::string which = "LISTEN_FDS descriptor " + std::to_string(fd);
  if (::fcntl(fd, F_GETFD) < 0) return system_error(which + ": fcntl(F_GETFD)", errno);
  int type = 0, listening = 0, domain = 0;
  if (socket_option(fd, SO_TYPE, type) != 0) return system_error(which + ": getsockopt(SO_TYPE)", errno);
  if (socket_option(fd, SO_ACCEPTCONN, listening) != 0) {
    return system_error(which + ": getsockopt(SO_ACCEPTCONN)", errno);
  }
  if (socket_option(fd, SO_DOMAIN, domain) != 0) return system_error(which + ": getsockopt(SO_DOMAIN)", errno);
  // The sessions need TCP over IPv4 or IPv6: addresses for PASV/EPRT checks and the log.
  if (type != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6) || listening != 1) {
    return make_error(which + " is not a listening TCP socket (ListenStream= makes one)");
  }
  auto local = SocketAddress::local_of(fd);
  if (!local) return make_error(which + ": " + local.error().message);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return system_error(which + ": fcntl(F_SETFL, O_NONBLOCK)", errno);
  }
  // Away from 3..7, where the listener's sessions get their fixed descriptors (and
  // close-on-exec, so no session inherits a listening socket).
  auto high = move_high(UniqueFd(fd));
  if (!high) return make_error(which + ": " + high.error().message);
  return InheritedSocket{std::move(*high), std::move(name), local->to_string(), local->port()};
}

}  // namespace

Result<std::vector<InheritedSocket>> take_inherited_sockets() {
  const std::string pid_text = environment("LISTEN_PID");
  const std::string count_text = environment("LISTEN_FDS");
  const std::string names_text = environment("LISTEN_FDNAMES");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  std::vector<InheritedSocket> sockets;
  unsigned long pid = 0;
  // Set for another process (a shell or wrapper that did not unset it): not ours to take.
  if (count_text.empty() || !parse_decimal(pid_text, pid) || pid != static_cast<unsigned long>(::getpid())) {
    return sockets;
  }
  unsigned long count = 0;
  if (!parse_decimal(count_text, count) || count > kMaxInheritedSockets) {
    return make_error("LISTEN_FDS='" + count_text.substr(0, 16) + "' is not a number of sockets (at most " +
                      std::to_string(kMaxInheritedSockets) + ")");
  }
  std::vector<std::string> names;
  if (!names_text.empty()) {
    for (std::size_t start = 0;;) {
      const std::size_t colon = names_text.find(':', start);
      names.push_back(names_text.substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (names.size() != count) {
      return make_error("LISTEN_FDNAMES names " + std::to_string(names.size()) + " sockets, LISTEN_FDS " +
                        std::to_string(count));
    }
  }
  for (unsigned i = 0; i < count; ++i) {
    auto taken = take_one(kFirstInheritedFd + static_cast<int>(i), names.empty() ? "" : names[i]);
    if (!taken) return taken.error();
    sockets.push_back(std::move(*taken));
  }
  return sockets;
}

bool serves_implicit_tls(std::string_view name, std::uint16_t local_port,
                         std::uint16_t tls_implicit_port) {
  if (name == "ftps") return true;
  if (name == "ftp") return false;
  return tls_implicit_port != 0 && local_port == tls_implicit_port;
}

bool serves_implicit_tls(const InheritedSocket& socket, std::uint16_t tls_implicit_port) {
  return serves_implicit_tls(socket.name, socket.local_port, tls_implicit_port);
}

}  // namespace wftpd
