// The pace of one rate-limited transfer in the post-auth child: a token bucket at the
// transfer's rate, which follows the share the listener computed for it (asked of the monitor
// when the transfer starts and every kShareInterval while it runs). A transfer without any limit
// has no TransferPace at all, so its loops read no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "unpriv/token_bucket.hpp"

namespace wftpd {

class TransferPace {
 public:
  using Clock = TokenBucket::Clock;
  // How soon a running transfer adopts a share the listener changed (another transfer of its
  // user started or ended). At 1 s, two parallel 2 s downloads under one user rate moved 1.27
  // times the rate together (the first ran at the whole rate until it asked again); a query is
  // one request/answer pair with the monitor.
  static constexpr std::chrono::milliseconds kShareInterval{250};

  // `bound`: the most this transfer may ever move, bytes/s (its own limits, common/rate_share.hpp;
  // more than 0). `ask_share`: the latest share of the limits it shares with other sessions
  // (0: none known yet); empty when it shares none. `clock`: for tests.
  TransferPace(std::uint64_t bound, std::function<std::uint64_t()> ask_share,
               std::function<Clock::time_point()> clock = &Clock::now);

  std::uint64_t rate() const { return bucket_.rate(); }
  // Bytes to move in one step, at most `largest`.
  std::size_t step(std::size_t largest) const { return bucket_.step(largest); }
  // `bytes` moved: how long to pause before the next step.
  std::chrono::nanoseconds moved(std::uint64_t bytes);

 private:
  void adopt_share(Clock::time_point now);

  const std::uint64_t bound_;
  std::function<std::uint64_t()> ask_share_;
  std::function<Clock::time_point()> clock_;
  TokenBucket bucket_;
  Clock::time_point next_ask_;
};

}  // namespace wftpd
