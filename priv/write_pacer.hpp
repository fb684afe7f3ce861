// When to rewrite a file that changes in bursts (the ban state file): at once after a quiet
// spell, otherwise at most once per interval, and never losing the last change. Pure: the
// caller owns the clock and does the writing.
#pragma once

#include <chrono>
#include <optional>

namespace wftpd {

class WritePacer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WritePacer(Clock::duration interval) : interval_(interval) {}

  // Something changed: true when it is to be written now.
  bool changed(Clock::time_point now) {
    dirty_ = true;
    return now >= next_;
  }
  // Whether a held-back change is due now.
  bool due(Clock::time_point now) const { return dirty_ && now >= next_; }
  // When a held-back change will be due (for poll's timeout); none when nothing is held back.
  std::optional<Clock::time_point> next_due() const {
    return dirty_ ? std::optional<Clock::time_point>(next_) : std::nullopt;
  }
  bool dirty() const { return dirty_; }
  // The caller wrote the file.
  void written(Clock::time_point now) {
    dirty_ = false;
    next_ = now + interval_;
  }

 private:
  Clock::duration interval_;
  bool dirty_ = false;
  Clock::time_point next_{};
};

}  // namespace wftpd
