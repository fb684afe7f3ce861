#include "unpriv/control_connection.hpp"

#include "common/io.hpp"

namespace wftpd {

ControlConnection::ControlConnection(int fd, std::chrono::seconds idle_timeout,
                                     std::size_t max_line)
    : fd_(fd), idle_timeout_(idle_timeout), reader_(max_line) {}

Result<ControlConnection::Input> ControlConnection::next_line() {
  if (!queued_.empty()) {
    Input input = std::move(queued_.front());
    queued_.pop_front();
    return input;
  }
  // Bounded: every turn either returns or reads at least one byte; a closed peer returns.
  for (;;) {
    auto event = reader_.next();
    if (event.status == ControlLineReader::Status::kLine) {
      return Input{Status::kLine, std::move(event.line)};
    }
    if (event.status == ControlLineReader::Status::kTooLong) return Input{Status::kTooLong, {}};
    if (closed_) return Input{Status::kClosed, {}};
    auto ready = wait_readable(fd_, idle_timeout_);
    if (!ready) return ready.error();
    if (*ready == Readiness::kTimeout) return Input{Status::kTimeout, {}};
    char buffer[4096];
    auto n = read_some(fd_, buffer);
    if (!n) return Input{Status::kClosed, {}};
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
    auto ready = wait_readable(fd_, std::chrono::milliseconds(0));
    if (!ready || *ready == Readiness::kTimeout) break;
    char buffer[4096];
    auto n = read_some(fd_, buffer);
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
      std::string verb = event.line.substr(0, event.line.find(' '));
      for (char& c : verb) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      if (verb == "ABOR") {
        abort = true;
        continue;
      }
      queued_.push_back(Input{Status::kLine, std::move(event.line)});
    }
  }
  return abort;
}

Result<void> ControlConnection::send(std::string_view reply_bytes) {
  return write_all(fd_, reply_bytes);
}

}  // namespace wftpd
