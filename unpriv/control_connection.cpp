#include "unpriv/control_connection.hpp"

#include "common/ascii.hpp"
#include "common/io.hpp"

namespace wftpd {

ControlConnection::ControlConnection(int fd, std::chrono::seconds idle_timeout,
                                     std::size_t max_line)
    : fd_(fd), idle_timeout_(idle_timeout), reader_(max_line) {}

ControlConnection::~ControlConnection() {
  if (tls_) tls_->close_notify(std::chrono::seconds(1));
}

// Reads what the client sent, waiting at most `timeout`; 0 at the end of the stream.
Result<std::size_t> ControlConnection::read_input(std::span<char> buffer,
                                                  std::chrono::milliseconds timeout,
                                                  bool& timed_out) {
  timed_out = false;
  if (!tls_) {
    auto ready = wait_readable(fd_, timeout);
    if (!ready) return ready.error();
    if (*ready == Readiness::kTimeout) {
      timed_out = true;
      return std::size_t{0};
    }
    return read_some(fd_, buffer);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Bounded by the deadline: a partial record makes us wait again, never spin.
  for (;;) {
    const TlsStream::Io io = tls_->read(buffer);
    switch (io.status) {
      case TlsStream::Status::kDone:
        return io.bytes;
      case TlsStream::Status::kClosed:
      case TlsStream::Status::kTruncated:
        return std::size_t{0};
      case TlsStream::Status::kError:
        return make_error("TLS read: " + tls_->error());
      case TlsStream::Status::kWantRead:
      case TlsStream::Status::kWantWrite: {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !tls_->wait(io.status, left)) {
          timed_out = true;
          return std::size_t{0};
        }
        continue;
      }
    }
  }
}

Result<ControlConnection::Input> ControlConnection::next_line() {
  if (!queued_.empty()) {
    Input input = std::move(queued_.front());
    queued_.pop_front();
    return input;
  }
  // SECURITY: the idle timer runs from here until a complete line: bytes that never finish a
  // line do not restart it, so a client trickling one byte at a time is still idle.
  const auto idle_deadline = std::chrono::steady_clock::now() + idle_timeout_;
  // Bounded: every turn either returns or reads at least one byte; a closed peer returns.
  for (;;) {
    auto event = reader_.next();
    if (event.status == ControlLineReader::Status::kLine) {
      return Input{Status::kLine, std::move(event.line)};
    }
    if (event.status == ControlLineReader::Status::kTooLong) return Input{Status::kTooLong, {}};
    if (closed_) return Input{Status::kClosed, {}};
    const auto now = std::chrono::steady_clock::now();
    std::chrono::milliseconds wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(idle_deadline - now);
    if (wait.count() <= 0) return Input{Status::kTimeout, {}};
    if (deadline_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - now);
      if (left.count() <= 0) return Input{Status::kTimeout, {}};
      wait = std::min(wait, left);
    }
    bool quiet_wait = false;
    if (quiet_hook_) {
      const auto left = std::max(std::chrono::milliseconds(0),
                                 std::chrono::ceil<std::chrono::milliseconds>(quiet_at_ - now));
      if (left < wait) {
        wait = left;
        quiet_wait = true;
      }
    }
    char buffer[4096];
    bool timed_out = false;
    auto n = read_input(buffer, wait, timed_out);
    if (!n) return Input{Status::kClosed, {}};
    if (timed_out && quiet_wait) {
      // Quiet until the hook's time, not idle: the hook runs once, and the wait goes on.
      std::exchange(quiet_hook_, nullptr)();
      continue;
    }
    if (timed_out) return Input{Status::kTimeout, {}};
    if (*n == 0) {
      closed_ = true;
      continue;  // hand out lines that arrived before the close, then report it
    }
    reader_.feed(std::string_view(buffer, *n));
  }
}

bool ControlConnection::abort_requested() {
  if (closed_) return true;
  // A few reads at most: a read stops at the urgent mark (ftplib sends ABOR's last byte as
  // urgent data), so one command can take two reads.
  bool abort = false;
  for (int reads = 0; reads < 4 && queued_.size() < kMaxQueuedLines; ++reads) {
    char buffer[4096];
    bool timed_out = false;
    auto n = read_input(buffer, std::chrono::milliseconds(0), timed_out);
    if (n && timed_out) break;
    if (!n || *n == 0) {
      closed_ = true;
      return true;
    }
    reader_.feed(std::string_view(buffer, *n));
    // Bounded by the bytes just read: each event consumes buffered input.
    for (;;) {
      auto event = reader_.next();
      if (event.status == ControlLineReader::Status::kNeedMore) break;
      if (event.status == ControlLineReader::Status::kTooLong) {
        queued_.push_back(Input{Status::kTooLong, {}});
        continue;
      }
      // RFC 959 4.1.3: ABOR may arrive during a transfer (after Telnet IP and Synch, which the
      // reader strips); it is the one command acted on at once.
      const std::string_view verb = std::string_view(event.line).substr(0, event.line.find(' '));
      if (equals_ignoring_ascii_case(verb, "ABOR")) {
        abort = true;
        continue;
      }
      queued_.push_back(Input{Status::kLine, std::move(event.line)});
    }
  }
  return abort;
}

Result<void> ControlConnection::send(std::string_view reply_bytes) {
  if (tls_) return tls_->write_all(reply_bytes, idle_timeout_);
  return write_all(fd_, reply_bytes);
}

}  // namespace wftpd
