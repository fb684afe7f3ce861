// Bounded reader for the FTP control connection.
//
// The control connection carries attacker-controlled bytes before (and after) login, so this
// reader's job is to turn an arbitrary byte stream into command lines while keeping memory use
// bounded no matter what the peer sends. It also strips Telnet (RFC 854) command sequences,
// because RFC 959 defines the control connection as a Telnet NVT stream and some clients send
// IAC IP / IAC DM before ABOR.
//
// Line rules:
//   * a line ends at LF; a CR immediately before the LF (after Telnet processing) is dropped, so
//     both CRLF and a bare LF are accepted;
//   * IAC IAC -> one 0xFF data byte; IAC WILL/WONT/DO/DONT <opt> -> dropped (3 bytes);
//     IAC <any other byte> -> both dropped. Sequences may be split across feed() calls;
//   * NUL and other control bytes are passed through; the command parser rejects what it must.
//
// Limits (all in bytes):
//   * a line whose processed text exceeds max_line (not counting the CR of its CRLF) is too long;
//   * a line whose raw form exceeds max_raw_line() = 2 * max_line + 2 is also too long (this stops
//     an endless stream of Telnet no-ops, which decodes to nothing, from growing the buffer);
//   * a too-long line is reported as kTooLong exactly once; the reader then discards input up to
//     and including the next LF and carries on with the following line;
//   * the raw buffer never holds more than max_buffered() = max_raw_line() + 64 KiB bytes. A caller
//     that drains next() until kNeedMore before each feed() of at most 64 KiB never hits this.
//     If feed() would exceed it, the excess is dropped, and so is all further input until next()
//     has consumed everything that was kept; next() then reports the line that was cut as kTooLong
//     (once) and discards up to the next LF that arrives afterwards. Complete lines that were in
//     the dropped bytes are lost; the caller should treat kTooLong as a protocol violation anyway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wftpd {

class ControlLineReader {
 public:
  // Input chunks up to this size are never dropped if the caller drains next() between feeds.
  static constexpr std::size_t kFeedAllowance = 64 * 1024;

  explicit ControlLineReader(std::size_t max_line = 4096);

  // Appends raw bytes received from the socket (see the buffer limit above).
  void feed(std::string_view bytes);

  enum class Status { kLine, kTooLong, kNeedMore };
  struct Event {
    Status status;
    std::string line;  // only for kLine: one line, Telnet-processed, without its line ending
  };

  // Returns the next event; kNeedMore when the buffered input holds no further complete line.
  Event next();

  // Returns the raw input not yet consumed by next() and resets the reader to its initial state.
  // Outside of discard mode the bytes start at the beginning of the current (incomplete) line, so
  // a fresh reader fed with them behaves identically. In discard mode (after kTooLong, before the
  // LF that ends the bad line) the bytes are those not yet examined; the discard state itself is
  // not carried over.
  std::string take_pending();

  // Raw bytes held (consumed-but-compactable bytes are not counted).
  std::size_t buffered() const;

  std::size_t max_line() const { return max_line_; }
  std::size_t max_raw_line() const { return max_raw_line_; }
  std::size_t max_buffered() const { return max_buffered_; }

 private:
  enum class Telnet : std::uint8_t { kData, kIac, kOption };

  void reset_line();
  bool line_too_long() const;
  Event start_discarding();

  std::size_t max_line_;
  std::size_t max_raw_line_;
  std::size_t max_buffered_;

  std::string raw_;        // raw input; bytes before head_ are consumed and dropped on next feed()
  std::size_t head_ = 0;   // first raw byte of the current line (or first unexamined byte when discarding)
  std::size_t scan_ = 0;   // next raw byte to examine; head_ <= scan_ <= raw_.size()
  std::string line_;       // processed bytes of the current line so far
  Telnet telnet_ = Telnet::kData;
  bool discarding_ = false;  // after kTooLong: dropping bytes up to the next LF
  bool overflowed_ = false;  // feed() dropped bytes after the end of raw_
};

}  // namespace wftpd
