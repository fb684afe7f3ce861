#include "unpriv/control_connection.hpp"

#include "common/io.hpp"

namespace wftpd {

ControlConnection::ControlConnection(int fd, std::chrono::seconds idle_timeout,
                                     std::size_t max_line)
    : fd_(fd), idle_timeout_(idle_timeout), reader_(max_line) {}

Result<ControlConnection::Input> ControlConnection::next_line() {
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

Result<void> ControlConnection::send(std::string_view reply_bytes) {
  return write_all(fd_, reply_bytes);
}

}  // namespace wftpd
