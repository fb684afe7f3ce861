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

bool BanList::record_failure(const std::string& key, Clock::time_point now, std::string_view prefix) {
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
  bans_[key] = AutomaticBan{now + settings_.duration, std::string(prefix)};
  return true;
}

BanList::Clock::duration BanList::remaining(const std::string& key, Clock::time_point now) const {
  const auto it = bans_.find(key);
  if (it == bans_.end() || it->second.end <= now) return Clock::duration::zero();
  return it->second.end - now;
}

std::optional<BanList::Hit> BanList::check(const SocketAddress& client, const std::string& key,
                                           Clock::time_point now) const {
  for (const auto& ban : manual_) {
    if (ban.end && *ban.end <= now) continue;
    if (!ban.prefix.contains(client)) continue;
    return Hit{Origin::kManual, ban.text,
               ban.end ? std::optional<Clock::duration>(*ban.end - now) : std::nullopt};
  }
  const auto it = bans_.find(key);
  if (it == bans_.end() || it->second.end <= now) return std::nullopt;
  return Hit{Origin::kAutomatic, it->second.prefix, it->second.end - now};
}

Result<void> BanList::ban(std::string_view text, std::optional<Clock::duration> duration,
                          Clock::time_point now) {
  auto prefix = AddressPrefix::parse(text);
  if (!prefix) return prefix.error();
  if (duration && *duration <= Clock::duration::zero()) return make_error("a ban lasts a positive time");
  const std::string normal = prefix->text();
  const std::optional<Clock::time_point> end =
      duration ? std::optional<Clock::time_point>(now + *duration) : std::nullopt;
  for (auto& ban : manual_) {
    if (ban.text == normal) {
      ban.end = end;
      return ok_result();
    }
  }
  std::erase_if(manual_, [&](const ManualBan& ban) { return ban.end && *ban.end <= now; });
  if (manual_.size() >= kMaxManualBans) {
    return make_error("too many manual bans (" + std::to_string(kMaxManualBans) +
                      "); use a shorter prefix or unban some");
  }
  manual_.push_back(ManualBan{*prefix, normal, end});
  return ok_result();
}

std::size_t BanList::unban(std::string_view text, Clock::time_point now) {
  auto prefix = AddressPrefix::parse(text);
  const std::string normal = prefix ? prefix->text() : std::string(text);
  std::size_t lifted = std::erase_if(manual_, [&](const ManualBan& ban) { return ban.text == normal; });
  lifted += std::erase_if(bans_, [&](const auto& ban) {
    return ban.second.end > now && !ban.second.prefix.empty() &&
           (ban.second.prefix == normal || ban.second.prefix == std::string(text));
  });
  return lifted;
}

void BanList::restore_automatic(const std::string& key, std::string_view prefix,
                                Clock::duration remaining, Clock::time_point now) {
  if (remaining <= Clock::duration::zero() || tracked() >= max_tracked_) return;
  bans_[key] = AutomaticBan{now + remaining, std::string(prefix)};
}

std::vector<BanList::Entry> BanList::entries(Clock::time_point now) const {
  std::vector<Entry> list;
  for (const auto& ban : manual_) {
    if (ban.end && *ban.end <= now) continue;
    list.push_back(Entry{ban.text, Origin::kManual,
                         ban.end ? std::optional<Clock::duration>(*ban.end - now) : std::nullopt});
  }
  for (const auto& [key, ban] : bans_) {
    if (ban.end <= now) continue;
    list.push_back(Entry{ban.prefix, Origin::kAutomatic, ban.end - now});
  }
  return list;
}

std::size_t BanList::bans_in_force(Clock::time_point now) const {
  return static_cast<std::size_t>(
      std::count_if(bans_.begin(), bans_.end(), [&](const auto& ban) { return ban.second.end > now; }) +
      std::count_if(manual_.begin(), manual_.end(),
                    [&](const ManualBan& ban) { return !ban.end || *ban.end > now; }));
}

void BanList::prune(Clock::time_point now) {
  // At most once a second, and whenever the table is full.
  if (now - last_prune_ < std::chrono::seconds(1) && tracked() < max_tracked_) return;
  last_prune_ = now;
  std::erase_if(bans_, [&](const auto& ban) { return ban.second.end <= now; });
  std::erase_if(manual_, [&](const ManualBan& ban) { return ban.end && *ban.end <= now; });
  std::erase_if(failures_, [&](const auto& entry) {
    return entry.second.empty() || now - entry.second.back() >= settings_.window;
  });
}

}  // namespace wftpd
