// The control connection as the FTP engines see it: commands in, replies out, idle timeout.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "unpriv/control_line_reader.hpp"

namespace wftpd {

class ControlConnection {
 public:
  ControlConnection(int fd, std::chrono::seconds idle_timeout, std::size_t max_line = 4096);

  enum class Status { kLine, kTooLong, kTimeout, kClosed };
  struct Input {
    Status status;
    std::string line;
  };

  // Next command line; waits at most the idle timeout for the client.
  Result<Input> next_line();
  Result<void> send(std::string_view reply_bytes);

  // Raw input read from the socket but not yet consumed (pipelined commands), bounded.
  std::string take_pending() { return reader_.take_pending(); }
  void feed(std::string_view bytes) { reader_.feed(bytes); }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::chrono::seconds idle_timeout_;
  ControlLineReader reader_;
  bool closed_ = false;
};

}  // namespace wftpd
