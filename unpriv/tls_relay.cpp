#include "unpriv/tls_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace wftpd {
namespace {

constexpr std::size_t kRelayBuffer = 64u << 10;  // per direction
constexpr std::size_t kTailBytes = 512;

using Clock = std::chrono::steady_clock;

// True when the last complete reply line in `tail` closes the session (221 or 421), i.e. the
// post-auth child ended the session itself rather than dying.
bool ended_with_closing_reply(const std::string& tail) {
  if (tail.size() < 2 || tail.compare(tail.size() - 2, 2, "\r\n") != 0) return false;
  const auto start = tail.rfind("\r\n", tail.size() - 3);
  const std::string_view line = std::string_view(tail).substr(start == std::string::npos ? 0 : start + 2);
  return line.starts_with("221 ") || line.starts_with("421 ");
}

}  // namespace

int run_tls_relay(TlsStream& client, int relay_fd, std::chrono::milliseconds write_timeout) {
  const int flags = ::fcntl(relay_fd, F_GETFL);
  if (flags < 0 || ::fcntl(relay_fd, F_SETFL, flags | O_NONBLOCK) != 0) return 1;
  std::string to_user;    // from the client, for the post-auth child
  std::string to_client;  // from the post-auth child, for the client
  std::string tail;       // the last bytes the post-auth child sent, to see how it ended
  bool client_open = true;
  bool user_open = true;
  short client_read_wait = POLLIN;   // what the last TLS read waits for
  short client_write_wait = POLLOUT; // what the last TLS write waits for
  auto blocked_since = Clock::now();  // when replies started waiting for the client
  char buffer[16384];

  // Every turn either moves bytes or sleeps in poll; each buffer is bounded.
  for (;;) {
    bool progress = false;
    // Client -> post-auth child.
    if (client_open && to_user.size() < kRelayBuffer) {
      const std::size_t room = std::min(sizeof(buffer), kRelayBuffer - to_user.size());
      const TlsStream::Io io = client.read(std::span<char>(buffer, room));
      if (io.status == TlsStream::Status::kDone) {
        to_user.append(buffer, io.bytes);
        progress = true;
      } else if (io.status == TlsStream::Status::kWantRead || io.status == TlsStream::Status::kWantWrite) {
        client_read_wait = io.status == TlsStream::Status::kWantRead ? POLLIN : POLLOUT;
      } else {
        client_open = false;  // close_notify, a cut connection or a TLS error: the session ends
      }
    }
    if (!to_user.empty() && user_open) {
      const ssize_t n = ::write(relay_fd, to_user.data(), to_user.size());  // SIGPIPE is ignored
      if (n > 0) {
        to_user.erase(0, static_cast<std::size_t>(n));
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        user_open = false;
      }
    }
    // Post-auth child -> client.
    if (user_open && to_client.size() < kRelayBuffer) {
      const std::size_t room = std::min(sizeof(buffer), kRelayBuffer - to_client.size());
      const ssize_t n = ::read(relay_fd, buffer, room);
      if (n > 0) {
        to_client.append(buffer, static_cast<std::size_t>(n));
        tail.append(buffer, static_cast<std::size_t>(n));
        if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
        progress = true;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        user_open = false;
      }
    }
    if (!to_client.empty() && client_open) {
      const TlsStream::Io io = client.write(to_client);
      if (io.status == TlsStream::Status::kDone) {
        to_client.erase(0, io.bytes);
        progress = true;
        blocked_since = Clock::now();
      } else if (io.status == TlsStream::Status::kWantRead || io.status == TlsStream::Status::kWantWrite) {
        client_write_wait = io.status == TlsStream::Status::kWantRead ? POLLIN : POLLOUT;
      } else {
        client_open = false;
      }
    }
    if (to_client.empty()) blocked_since = Clock::now();

    if (!client_open) return 0;  // the post-auth child sees its control connection close
    if (!user_open && to_client.empty()) {
      // A post-auth child that died without a goodbye: the client still gets a proper reply,
      // inside TLS, not just a cut connection.
      if (!ended_with_closing_reply(tail)) {
        (void)client.write_all("421 Service not available, closing control connection.\r\n",
                               std::chrono::seconds(2));
        tail = "421 \r\n";
      }
      client.close_notify(std::chrono::seconds(2));
      return 0;
    }
    if (progress) continue;
    if (client.has_buffered_input() && to_user.size() < kRelayBuffer) continue;

    const auto waited = Clock::now() - blocked_since;
    if (!to_client.empty() && waited >= write_timeout) return 0;  // the client stopped reading
    short client_events = 0;
    if (to_user.size() < kRelayBuffer) client_events |= client_read_wait;
    if (!to_client.empty()) client_events |= client_write_wait;
    short relay_events = 0;
    if (user_open && to_client.size() < kRelayBuffer) relay_events |= POLLIN;
    if (user_open && !to_user.empty()) relay_events |= POLLOUT;
    pollfd fds[2] = {{client.fd(), client_events, 0}, {relay_fd, relay_events, 0}};
    int timeout_ms = -1;
    if (!to_client.empty()) {
      timeout_ms = static_cast<int>(std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(write_timeout - waited).count()));
    }
    if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) return 1;
    if ((fds[1].revents & (POLLHUP | POLLERR)) != 0 && (fds[1].revents & POLLIN) == 0) {
      user_open = false;
    }
  }
}

}  // namespace wftpd
