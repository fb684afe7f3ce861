#include "unpriv/control_line_reader.hpp"

#include <algorithm>
#include <utility>

namespace wftpd {

namespace {

// Telnet command bytes (RFC 854).
constexpr unsigned char kIac = 255;
constexpr unsigned char kWill = 251;
constexpr unsigned char kDont = 254;  // WILL, WONT, DO, DONT are 251..254 and take an option byte

// An FTP command line never needs more; clamping keeps the size arithmetic below overflow-free.
constexpr std::size_t kMaxConfigurableLine = std::size_t{1} << 20;

}  // namespace

ControlLineReader::ControlLineReader(std::size_t max_line)
    : max_line_(std::min(max_line, kMaxConfigurableLine)),
      // Worst legitimate raw form: every byte sent as IAC IAC, plus the CR of CRLF (and one spare).
      max_raw_line_(2 * max_line_ + 2),
      max_buffered_(max_raw_line_ + kFeedAllowance) {}

void ControlLineReader::feed(std::string_view bytes) {
  // SECURITY: after an overflow nothing more is stored until next() has caught up, so the cut
  // point is always the end of raw_ and buffered bytes never exceed max_buffered_.
  if (overflowed_) return;
  if (head_ > 0) {
    raw_.erase(0, head_);
    scan_ -= head_;
    head_ = 0;
  }
  const std::size_t room = max_buffered_ - std::min(max_buffered_, raw_.size());
  const std::size_t take = std::min(room, bytes.size());
  raw_.append(bytes.substr(0, take));
  if (take < bytes.size()) overflowed_ = true;  // SECURITY: excess input is dropped, not buffered
}

void ControlLineReader::reset_line() {
  line_.clear();
  head_ = scan_;
}

bool ControlLineReader::line_too_long() const {
  // One byte beyond max_line is tolerated only if it is a CR, which may turn out to be the CR of
  // CRLF; any further byte proves the line too long.
  if (line_.size() > max_line_ + 1) return true;
  if (line_.size() == max_line_ + 1 && line_.back() != '\r') return true;
  return scan_ - head_ > max_raw_line_;
}

ControlLineReader::Event ControlLineReader::start_discarding() {
  discarding_ = true;
  reset_line();
  // Release the memory of the bad line; it may have been large.
  line_.shrink_to_fit();
  return Event{Status::kTooLong, {}};
}

ControlLineReader::Event ControlLineReader::next() {
  while (scan_ < raw_.size()) {
    const auto c = static_cast<unsigned char>(raw_[scan_++]);
    switch (telnet_) {
      case Telnet::kOption:  // the option byte of WILL/WONT/DO/DONT: dropped
        telnet_ = Telnet::kData;
        break;
      case Telnet::kIac:
        if (c == kIac) {
          telnet_ = Telnet::kData;
          if (!discarding_) line_.push_back('\xff');  // IAC IAC is an escaped 0xFF data byte
          break;
        }
        // WILL/WONT/DO/DONT take one more byte; every other command is two bytes long.
        telnet_ = (c >= kWill && c <= kDont) ? Telnet::kOption : Telnet::kData;
        break;
      case Telnet::kData:
        if (c == kIac) {
          telnet_ = Telnet::kIac;
          break;
        }
        if (c == '\n') {
          if (discarding_) {
            discarding_ = false;  // the bad line is over; resume with the next one
            reset_line();
            continue;
          }
          if (!line_.empty() && line_.back() == '\r') line_.pop_back();
          Event event{Status::kLine, std::move(line_)};
          reset_line();
          return event;
        }
        if (!discarding_) line_.push_back(static_cast<char>(c));
        break;
    }
    // Every examined byte, including dropped Telnet bytes, counts towards the raw limit.
    if (discarding_) {
      head_ = scan_;  // SECURITY: bytes of a too-long line are released as soon as they are seen
    } else if (line_too_long()) {
      return start_discarding();
    }
  }

  if (discarding_) head_ = scan_;
  if (overflowed_) {
    // Everything that fit has been examined; the line cut by the overflow ends here.
    overflowed_ = false;
    telnet_ = Telnet::kData;  // state from before the lost bytes is meaningless now
    if (!discarding_) return start_discarding();
    // Already discarding: that line has been reported once; keep discarding up to the next LF.
  }
  return Event{Status::kNeedMore, {}};
}

std::string ControlLineReader::take_pending() {
  std::string pending = raw_.substr(head_);
  raw_.clear();
  raw_.shrink_to_fit();
  head_ = 0;
  scan_ = 0;
  line_.clear();
  telnet_ = Telnet::kData;
  discarding_ = false;
  overflowed_ = false;
  return pending;
}

std::size_t ControlLineReader::buffered() const { return raw_.size() - head_; }

}  // namespace wftpd
