#include "priv/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

// A status line is one line of the manager's output: no newlines, bounded.
std::string status_line(std::string_view status) {
  std::string line(status.substr(0, 200));
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "STATUS=" + line;
}

}  // namespace

Result<ServiceNotifier> ServiceNotifier::from_environment() {
  const char* value = std::getenv("NOTIFY_SOCKET");
  const std::string path = value == nullptr ? std::string() : std::string(value);
  ::unsetenv("NOTIFY_SOCKET");
  if (path.empty()) return ServiceNotifier(UniqueFd());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || path.size() < 2 || path.size() >= sizeof(address.sun_path)) {
    return make_error("NOTIFY_SOCKET='" + path.substr(0, 120) + "' is not a socket path or @abstract name");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  // An abstract name's length is exact (no terminating NUL); a path's includes the NUL.
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '/' ? 1 : 0));
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return system_error("socket(AF_UNIX, SOCK_DGRAM)", errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    return system_error("connect(NOTIFY_SOCKET " + path + ")", errno);
  }
  return ServiceNotifier(std::move(fd));
}

void ServiceNotifier::send(const std::string& message) {
  if (!socket_) return;
  if (::send(socket_.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    log_warning(system_error("send(NOTIFY_SOCKET)", errno).message);
  }
}

void ServiceNotifier::ready(std::string_view status) { send("READY=1\n" + status_line(status)); }

void ServiceNotifier::reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::stopping() { send("STOPPING=1"); }

void ServiceNotifier::status(std::string_view status) { send(status_line(status)); }

}  // namespace wftpd
