// The control connection as the FTP engines see it: commands in, replies out, idle timeout.
#pragma once

#include <chrono>
#include <functional>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "unpriv/control_line_reader.hpp"
#include "common/tls_stream.hpp"

namespace wftpd {

// The control connection as the post-auth engine uses it: ControlConnection in the daemon, an
// in-memory fake in the fuzz harness (fuzz/fuzz_postauth_engine.cpp).
class ControlChannel {
 public:
  virtual ~ControlChannel() = default;

  enum class Status { kLine, kTooLong, kTimeout, kClosed };
  struct Input {
    Status status;
    std::string line;
  };

  // Next command line, or why there is none.
  virtual Result<Input> next_line() = 0;
  virtual Result<void> send(std::string_view reply_bytes) = 0;
  // During a transfer: reads what the client sent without waiting, and reports whether it
  // asked for ABOR (or closed the connection). Other commands are kept, in order, for
  // next_line() after the transfer (bounded; beyond the bound nothing more is read).
  virtual bool abort_requested() = 0;
  // True when commands received during a transfer fill the queue (nothing more is read).
  virtual bool input_backlogged() const = 0;
  // Polled together with the data connection during a transfer: readable when
  // abort_requested() has client input to look at.
  virtual int fd() const = 0;
  // While next_line() waits: if no complete line has arrived by `at`, call `hook` once and go on
  // waiting (the idle timer is not affected). Replaces an earlier hook; cleared once called.
  virtual void call_if_quiet(std::chrono::steady_clock::time_point at, std::function<void()> hook) = 0;
};

class ControlConnection : public ControlChannel {
 public:
  ControlConnection(int fd, std::chrono::seconds idle_timeout, std::size_t max_line = 4096);
  ~ControlConnection() override;

  // Next command line; waits at most the idle timeout for a complete line (partial bytes do
  // not restart the idle timer), and never past the deadline, if one is set.
  Result<Input> next_line() override;
  void set_deadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }
  void call_if_quiet(std::chrono::steady_clock::time_point at, std::function<void()> hook) override {
    quiet_at_ = at;
    quiet_hook_ = std::move(hook);
  }
  Result<void> send(std::string_view reply_bytes) override;

  // At most kMaxQueuedLines commands are kept during a transfer.
  bool abort_requested() override;
  bool input_backlogged() const override { return queued_.size() >= kMaxQueuedLines; }

  // Raw input read from the socket but not yet consumed (pipelined commands), bounded.
  std::string take_pending() { return reader_.take_pending(); }
  void feed(std::string_view bytes) { reader_.feed(bytes); }
  int fd() const override { return fd_; }

  // From now on commands and replies travel inside `tls` (after AUTH TLS, or from the start on
  // the implicit port). Input read before the handshake must have been discarded.
  void start_tls(std::unique_ptr<TlsStream> tls) { tls_ = std::move(tls); }
  TlsStream* tls() const { return tls_.get(); }
  // Drops input read but not yet used (the bytes a client pipelined behind AUTH TLS).
  void discard_pending() { (void)reader_.take_pending(); queued_.clear(); }

 private:
  Result<std::size_t> read_input(std::span<char> buffer, std::chrono::milliseconds timeout,
                                 bool& timed_out);

  int fd_;
  std::chrono::seconds idle_timeout_;
  std::unique_ptr<TlsStream> tls_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::chrono::steady_clock::time_point quiet_at_{};
  std::function<void()> quiet_hook_;
  static constexpr std::size_t kMaxQueuedLines = 64;
  ControlLineReader reader_;
  std::deque<Input> queued_;
  bool closed_ = false;
};

}  // namespace wftpd
