#include "priv/ban_list.hpp"

#include <algorithm>

namespace wftpd {

void BanList::configure(const Settings& settings) {
  settings_ = settings;
  // A lower threshold keeps fewer times per key.
  for (auto& [key, times] : failures_) {
    if (times.size() > settings_.after_failures) {
      times.erase(times.begin(), times.end() - settings_.after_failures);
    }
  }
  if (settings_.after_failures == 0) failures_.clear();
}

bool BanList::record_failure(const std::string& key, Clock::time_point now) {
  if (settings_.after_failures == 0) return false;
  prune(now);
  if (remaining(key, now) > Clock::duration::zero()) return false;  // already banned
  // SECURITY: bounded: when every slot is taken by keys with recent failures, a new key is not
  // tracked (its failures are still slowed by the login throttle), rather than evicting keys
  // an attacker would like forgotten.
  auto it = failures_.find(key);
  if (it == failures_.end()) {
    if (tracked() >= max_tracked_) return false;
    it = failures_.emplace(key, std::vector<Clock::time_point>{}).first;
  }
  auto& times = it->second;
  // Only failures within the window count.
  times.erase(times.begin(), std::find_if(times.begin(), times.end(), [&](Clock::time_point t) {
                return now - t < settings_.window;
              }));
  times.push_back(now);
  if (times.size() > settings_.after_failures) times.erase(times.begin());
  if (times.size() < settings_.after_failures) return false;
  failures_.erase(it);
  bans_[key] = now + settings_.duration;
  return true;
}

BanList::Clock::duration BanList::remaining(const std::string& key, Clock::time_point now) const {
  const auto it = bans_.find(key);
  if (it == bans_.end() || it->second <= now) return Clock::duration::zero();
  return it->second - now;
}

std::size_t BanList::bans_in_force(Clock::time_point now) const {
  return static_cast<std::size_t>(std::count_if(
      bans_.begin(), bans_.end(), [&](const auto& ban) { return ban.second > now; }));
}

void BanList::prune(Clock::time_point now) {
  // At most once a second, and whenever the table is full.
  if (now - last_prune_ < std::chrono::seconds(1) && tracked() < max_tracked_) return;
  last_prune_ = now;
  std::erase_if(bans_, [&](const auto& ban) { return ban.second <= now; });
  std::erase_if(failures_, [&](const auto& entry) {
    return entry.second.empty() || now - entry.second.back() >= settings_.window;
  });
}

}  // namespace wftpd
