#include "unpriv/transfer_pace.hpp"

#include <algorithm>
#include <utility>

namespace wftpd {

TransferPace::TransferPace(std::uint64_t bound, std::function<std::uint64_t()> ask_share,
                           std::function<Clock::time_point()> clock)
    : bound_(bound), ask_share_(std::move(ask_share)), clock_(std::move(clock)),
      bucket_(bound, clock_()) {
  // The first answer also tells the monitor that this transfer runs; until a share is known
  // the transfer moves at its own bound.
  if (ask_share_) adopt_share(clock_());
}

void TransferPace::adopt_share(Clock::time_point now) {
  if (!ask_share_) return;
  next_ask_ = now + kShareInterval;
  const std::uint64_t share = ask_share_();
  // A share never lifts the transfer above its own bound, whatever the monitor answers.
  const std::uint64_t rate = share == 0 ? bound_ : std::min(share, bound_);
  if (rate != bucket_.rate()) bucket_.set_rate(rate, now);
}

std::chrono::nanoseconds TransferPace::moved(std::uint64_t bytes) {
  const auto now = clock_();
  if (ask_share_ && now >= next_ask_) adopt_share(now);
  return bucket_.spend(bytes, now);
}

}  // namespace wftpd
