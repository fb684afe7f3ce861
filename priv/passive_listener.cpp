#include "priv/passive_listener.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>

#include "common/io.hpp"
#include "common/log.hpp"

namespace wftpd {
namespace {

constexpr int kMaxBindAttempts = 64;

std::uint32_t random_u32() {
  std::uint32_t value = 0;
  if (::getrandom(&value, sizeof(value), 0) != static_cast<ssize_t>(sizeof(value))) {
    // getrandom on a few bytes does not fail after boot; a fixed value only loses randomness.
    value = 0;
  }
  return value;
}

}  // namespace

PassiveListener::PassiveListener(SocketAddress control_local, SocketAddress control_peer,
                                 PassivePortRange range, PassiveAnnouncement announcement,
                                 std::optional<SocketAddress> relay)
    : control_local_(control_local),
      control_peer_(control_peer),
      range_(range),
      announcement_(announcement),
      relay_(relay) {}

PassiveReady PassiveListener::listen() {
  listener_.reset();
  PassiveReady reply;
  reply.status = PassiveStatus::kFailed;
  reply.family = control_local_.is_ipv4() ? AddressFamily::kIpv4 : AddressFamily::kIpv6;
  reply.address = control_local_.address_bytes();
  if (announcement_.use_configured && reply.family == AddressFamily::kIpv4) {
    std::copy(announcement_.ipv4.begin(), announcement_.ipv4.end(), reply.address.begin());
  }

  const std::uint32_t span =
      range_.min == 0 ? 1u : static_cast<std::uint32_t>(range_.max - range_.min) + 1u;
  const std::uint32_t start = random_u32() % span;
  const int attempts = static_cast<int>(std::min<std::uint32_t>(span, kMaxBindAttempts));
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const std::uint32_t offset = (start + static_cast<std::uint32_t>(attempt)) % span;
    const auto port = static_cast<std::uint16_t>(range_.min == 0 ? 0u : range_.min + offset);
    UniqueFd socket_fd(::socket(control_local_.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!socket_fd) {
      log_error(system_error("socket", errno).message);
      return reply;
    }
    const int on = 1;
    ::setsockopt(socket_fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    SocketAddress bind_address = control_local_;
    bind_address.set_port(port);
    if (::bind(socket_fd.get(), bind_address.raw(), bind_address.length()) != 0) {
      if (errno == EADDRINUSE) continue;
      log_error(system_error("bind(" + bind_address.to_string() + ")", errno).message);
      return reply;
    }
    if (::listen(socket_fd.get(), 1) != 0) {
      if (errno == EADDRINUSE) continue;
      log_error(system_error("listen", errno).message);
      return reply;
    }
    auto bound = SocketAddress::local_of(socket_fd.get());
    if (!bound) {
      log_error(bound.error().message);
      return reply;
    }
    listener_ = std::move(socket_fd);
    reply.status = PassiveStatus::kListening;
    reply.port = bound->port();
    return reply;
  }
  log_warning("no free passive port in the configured range");
  return reply;
}

DataStatus PassiveListener::accept(std::chrono::seconds timeout, UniqueFd& connection) {
  if (!listener_) return DataStatus::kNoPassive;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Bounded: each turn either waits until the deadline or consumes one pending connection.
  for (int turn = 0; turn < 1024; ++turn) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto ready = wait_readable(listener_.get(), left);
    if (!ready) {
      log_error(ready.error().message);
      return DataStatus::kFailed;
    }
    if (*ready == Readiness::kTimeout) break;
    SocketAddress peer;
    // Non-blocking: the post-auth child waits on it with poll, together with the control
    // connection (ABOR) and a stall timeout.
    UniqueFd accepted(::accept4(listener_.get(), peer.raw(), peer.length_ptr(),
                                SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!accepted) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      log_error(system_error("accept4", errno).message);
      return DataStatus::kFailed;
    }
    // SECURITY: only the control peer may use this data port (no port theft), or the trusted
    // proxy its control connection came through, which relays the data port too.
    if (!peer.same_host(control_peer_) && !(relay_ && peer.same_host(*relay_))) {
      log_warning("data connection from foreign address " + peer.to_string() +
                  " refused (control peer is " + control_peer_.host_string() +
                  (relay_ ? ", via proxy " + relay_->host_string() : "") + ")");
      continue;
    }
    listener_.reset();
    connection = std::move(accepted);
    return DataStatus::kConnected;
  }
  listener_.reset();
  log_warning("no data connection from the client within " + std::to_string(timeout.count()) +
              " s (data_connection_timeout); 425 sent");
  return DataStatus::kTimedOut;
}

}  // namespace wftpd
