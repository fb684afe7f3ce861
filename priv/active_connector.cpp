#include "priv/active_connector.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/log.hpp"

namespace wftpd {

ActiveConnector::ActiveConnector(SocketAddress control_local, SocketAddress control_peer,
                                 bool from_port_20)
    : control_local_(control_local), control_peer_(control_peer), from_port_20_(from_port_20) {}

ActiveStatus ActiveConnector::set_target(const ActiveTarget& target) {
  port_.reset();
  const bool peer_is_ipv4 = control_peer_.is_ipv4();
  if ((target.family == AddressFamily::kIpv4) != peer_is_ipv4) {
    log_warning("PORT/EPRT refused: address family differs from the control connection");
    return ActiveStatus::kWrongFamily;
  }
  if (control_local_.is_ipv4() != peer_is_ipv4) {
    // Behind a proxy the client's family may differ from the server's own address.
    log_warning("PORT/EPRT refused: the client's address family differs from the server's "
                "(connection through a proxy)");
    return ActiveStatus::kWrongFamily;
  }
  // SECURITY: FTP bounce: the data connection may only go back to the client itself.
  if (target.address != control_peer_.address_bytes()) {
    log_warning("PORT/EPRT refused: target address is not the control peer " +
                control_peer_.host_string() + " (FTP bounce attempt?)");
    return ActiveStatus::kForeignAddress;
  }
  if (target.port < 1024) {
    log_warning("PORT/EPRT refused: privileged port " + std::to_string(target.port));
    return ActiveStatus::kPrivilegedPort;
  }
  port_ = target.port;
  return ActiveStatus::kAccepted;
}

DataStatus ActiveConnector::connect(std::chrono::seconds timeout, UniqueFd& connection) {
  if (!port_) return DataStatus::kNoPassive;
  SocketAddress target = control_peer_;
  target.set_port(*port_);
  port_.reset();
  UniqueFd fd(::socket(control_local_.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    log_error(system_error("socket", errno).message);
    return DataStatus::kFailed;
  }
  SocketAddress source = control_local_;
  source.set_port(from_port_20_ ? 20 : 0);
  if (from_port_20_) {
    // Several sessions share port 20 as their source; their peers differ.
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  }
  if (::bind(fd.get(), source.raw(), source.length()) != 0) {
    log_error(system_error("bind(" + source.to_string() + ")", errno).message);
    return DataStatus::kFailed;
  }
  if (::connect(fd.get(), target.raw(), target.length()) != 0 && errno != EINPROGRESS) {
    log_info(system_error("connect(" + target.to_string() + ")", errno).message);
    return DataStatus::kFailed;
  }
  pollfd pfd{fd.get(), POLLOUT, 0};
  const auto wait_ms = static_cast<int>(std::chrono::milliseconds(timeout).count());
  int ready;
  do {
    ready = ::poll(&pfd, 1, wait_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    log_warning("active data connection to " + target.to_string() + " not established within " +
                std::to_string(timeout.count()) + " s (data_connection_timeout); 425 sent");
    return DataStatus::kTimedOut;
  }
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
    log_info(system_error("connect(" + target.to_string() + ")", error != 0 ? error : errno).message);
    return DataStatus::kFailed;
  }
  // Handed over non-blocking: the post-auth child waits with poll (stall timeout, ABOR).
  connection = std::move(fd);
  return DataStatus::kConnected;
}

}  // namespace wftpd
