// Readiness notification to the service manager (systemd's sd_notify protocol, without
// libsystemd): one datagram per state change on the AF_UNIX socket named by NOTIFY_SOCKET.
// Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

class ServiceNotifier {
 public:
  // Reads NOTIFY_SOCKET (a path, or "@name" for an abstract socket), removes it from the
  // environment and connects to it now, so later notifications need only send(2).
  static Result<ServiceNotifier> from_environment();

  bool active() const { return socket_.valid(); }

  // The sockets are accepting and the configuration is applied.
  void ready(std::string_view status);
  // Around a SIGHUP reload (RELOADING=1 carries MONOTONIC_USEC, as Type=notify-reload wants).
  void reloading();
  void stopping();
  void status(std::string_view status);

 private:
  explicit ServiceNotifier(UniqueFd socket) : socket_(std::move(socket)) {}
  // Best effort and never blocking: a service manager that does not read must not stall the
  // listener.
  void send(const std::string& message);

  UniqueFd socket_;
};

}  // namespace wftpd
