// Connections from trusted proxies whose PROXY header the listener is still waiting for. The
// listener polls them in its own loop (never blocking on one), reads exactly the header's
// bytes (MSG_PEEK first, so nothing the client sent after it is taken), and drops a proxy that
// sends a malformed header, closes, or does not finish within the deadline.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/proxy_header.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

// A connection whose header has been read: who the client is, as the proxy says.
struct ProxiedConnection {
  UniqueFd fd;
  std::uint64_t session_id = 0;  // given at accept, so every log line about it names one
  bool implicit_tls = false;
  SocketAddress proxy;                       // the connection's own peer
  std::optional<SocketAddress> client;       // unset: LOCAL/UNKNOWN, the proxy's own connection
  std::optional<SocketAddress> destination;  // where the client connected (on the proxy)
};

class PendingProxyHeaders {
 public:
  using Clock = std::chrono::steady_clock;

  void add(UniqueFd fd, std::uint64_t session_id, const SocketAddress& proxy, bool implicit_tls,
           Clock::time_point deadline);
  std::size_t size() const { return pending_.size(); }

  // One pollfd per pending connection, in order, to append to the listener's poll set.
  void append_poll_fds(std::vector<pollfd>& fds) const;
  // Milliseconds until the earliest deadline (at least 0), or -1 with nothing pending.
  int poll_timeout_ms(Clock::time_point now) const;

  // Takes the poll results for the fds append_poll_fds() gave (same order), reads from the
  // ready ones, drops (and logs) failed and expired ones, and returns those now complete.
  std::vector<ProxiedConnection> process(std::span<const pollfd> polled, Clock::time_point now);

  void clear() { pending_.clear(); }

 private:
  struct Pending {
    UniqueFd fd;
    std::uint64_t session_id = 0;
    bool implicit_tls = false;
    SocketAddress proxy;
    Clock::time_point deadline;
    std::uint8_t buffer[kMaxProxyHeaderBytes];  // header bytes consumed so far
    std::size_t buffered = 0;
  };
  enum class Step { kWaiting, kDone, kDropped };
  Step read_some(Pending& pending, std::optional<ProxiedConnection>& done);

  std::vector<std::unique_ptr<Pending>> pending_;
};

}  // namespace wftpd
