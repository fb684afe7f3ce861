#include "priv/proxy_pending.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "common/log.hpp"

namespace wftpd {

void PendingProxyHeaders::add(UniqueFd fd, std::uint64_t session_id, const SocketAddress& proxy,
                              bool implicit_tls, Clock::time_point deadline) {
  auto pending = std::make_unique<Pending>();
  pending->fd = std::move(fd);
  pending->session_id = session_id;
  pending->implicit_tls = implicit_tls;
  pending->proxy = proxy;
  pending->deadline = deadline;
  pending_.push_back(std::move(pending));
}

void PendingProxyHeaders::append_poll_fds(std::vector<pollfd>& fds) const {
  for (const auto& pending : pending_) fds.push_back({pending->fd.get(), POLLIN, 0});
}

int PendingProxyHeaders::poll_timeout_ms(Clock::time_point now) const {
  if (pending_.empty()) return -1;
  auto earliest = pending_.front()->deadline;
  for (const auto& pending : pending_) earliest = std::min(earliest, pending->deadline);
  if (earliest <= now) return 0;
  // Rounded up, so the wake-up is never before the deadline (which would spin).
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now) +
                    std::chrono::milliseconds(1);
  return static_cast<int>(std::min<std::int64_t>(left.count(), 60'000));
}

PendingProxyHeaders::Step PendingProxyHeaders::read_some(Pending& pending,
                                                         std::optional<ProxiedConnection>& done) {
  const std::string who = "trusted proxy " + pending.proxy.to_string();
  // What was consumed so far followed by what is waiting in the socket, not yet consumed.
  std::uint8_t view[kMaxProxyHeaderBytes];
  std::memcpy(view, pending.buffer, pending.buffered);
  const ssize_t peeked = ::recv(pending.fd.get(), view + pending.buffered,
                                sizeof(view) - pending.buffered, MSG_PEEK | MSG_DONTWAIT);
  if (peeked < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Step::kWaiting;
    log_connection(LogLevel::kWarning, pending.session_id, pending.proxy.host_string(), who + ": " + system_error("recv(MSG_PEEK)", errno).message + "; connection closed");
    return Step::kDropped;
  }
  if (peeked == 0) {
    log_connection(LogLevel::kWarning, pending.session_id, pending.proxy.host_string(), who + " closed the connection before a complete PROXY header");
    return Step::kDropped;
  }
  const std::size_t available = pending.buffered + static_cast<std::size_t>(peeked);
  const auto parsed = parse_proxy_header(std::span<const std::uint8_t>(view, available));
  std::size_t to_consume = 0;
  switch (parsed.status) {
    case ProxyParseStatus::kInvalid:
      log_connection(LogLevel::kWarning, pending.session_id, pending.proxy.host_string(), who + " sent an invalid PROXY header (" + std::string(parsed.error) +
                  "); connection closed");
      return Step::kDropped;
    case ProxyParseStatus::kNeedMore:
      // All of it belongs to the header (the parser's contract): take it, so poll waits for
      // new bytes instead of reporting the same ones again.
      to_consume = static_cast<std::size_t>(peeked);
      break;
    case ProxyParseStatus::kParsed:
      // SECURITY: exactly the header; the client's first bytes stay in the socket for the
      // session (a TLS ClientHello on the implicit TLS port, or FTP commands).
      to_consume = parsed.header.length - pending.buffered;
      break;
  }
  if (to_consume > 0) {
    const ssize_t got =
        ::recv(pending.fd.get(), pending.buffer + pending.buffered, to_consume, MSG_DONTWAIT);
    if (got != static_cast<ssize_t>(to_consume)) {
      log_connection(LogLevel::kWarning, pending.session_id, pending.proxy.host_string(), who + ": " +
                  (got < 0 ? system_error("recv", errno).message : std::string("short read")) +
                  " while consuming the PROXY header; connection closed");
      return Step::kDropped;
    }
    pending.buffered += to_consume;
  }
  if (parsed.status == ProxyParseStatus::kNeedMore) return Step::kWaiting;

  ProxiedConnection connection;
  connection.fd = std::move(pending.fd);
  connection.session_id = pending.session_id;
  connection.implicit_tls = pending.implicit_tls;
  connection.proxy = pending.proxy;
  const ProxyHeader& header = parsed.header;
  if (header.has_addresses) {
    connection.client = SocketAddress::from_bytes(header.source.ipv4, header.source.address,
                                                  header.source.port);
    connection.destination = SocketAddress::from_bytes(
        header.destination.ipv4, header.destination.address, header.destination.port);
  }
  done = std::move(connection);
  return Step::kDone;
}

std::vector<ProxiedConnection> PendingProxyHeaders::process(std::span<const pollfd> polled,
                                                            Clock::time_point now) {
  std::vector<ProxiedConnection> complete;
  std::vector<std::unique_ptr<Pending>> still;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    auto& pending = pending_[i];
    if (i < polled.size() && polled[i].fd == pending->fd.get() && polled[i].revents != 0) {
      std::optional<ProxiedConnection> done;
      const Step step = read_some(*pending, done);
      if (step == Step::kDone) {
        complete.push_back(std::move(*done));
        continue;
      }
      if (step == Step::kDropped) continue;
    }
    if (now >= pending->deadline) {
      log_connection(LogLevel::kWarning, pending->session_id, pending->proxy.host_string(),
                     "trusted proxy " + pending->proxy.to_string() +
                  " sent no complete PROXY header within proxy_header_timeout; connection closed");
      continue;
    }
    still.push_back(std::move(pending));
  }
  // Connections added after the poll set was built are kept (they were not polled yet).
  pending_ = std::move(still);
  return complete;
}

}  // namespace wftpd
