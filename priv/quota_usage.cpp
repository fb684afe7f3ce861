#include "priv/quota_usage.hpp"

#include <algorithm>
#include <charconv>

namespace wftpd {
namespace {

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b, std::uint64_t max) {
  return a >= max || b >= max - a ? max : a + b;
}

std::uint64_t floor_subtract(std::uint64_t a, std::uint64_t b) { return b >= a ? 0 : a - b; }

bool plain_name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '@' || c == '+';
}

std::uint64_t left(std::uint64_t limit, std::uint64_t used) {
  return limit == 0 ? kUnlimitedAllowance : floor_subtract(limit, used);
}

}  // namespace

QuotaUsage apply_quota_delta(QuotaUsage usage, const QuotaDelta& delta) {
  // Removals first: a STOR over a file removes the old size and adds the new.
  usage.bytes = saturating_add(floor_subtract(usage.bytes, delta.bytes_removed),
                               std::min(delta.bytes_added, kMaxByteSize), kMaxByteSize);
  usage.files = saturating_add(floor_subtract(usage.files, delta.files_removed),
                               std::min(delta.files_added, kMaxQuotaFiles), kMaxQuotaFiles);
  return usage;
}

std::string format_quota_usage(std::string_view user, const QuotaUsage& usage) {
  std::string text = "# wardenftpd quota usage of ";
  for (const char c : user) text += plain_name_byte(c) ? c : '?';
  text += " (rewritten by the daemon; recount with wardenftpd-ctl quota --rescan)\n";
  text += "bytes " + std::to_string(usage.bytes) + "\n";
  text += "files " + std::to_string(usage.files) + "\n";
  return text;
}

Result<QuotaUsage> parse_quota_usage(std::string_view text) {
  QuotaUsage usage;
  bool have_bytes = false, have_files = false;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto bad = [&](const std::string& why) {
      return make_error("line " + std::to_string(number) + ": " + why);
    };
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad("expected 'bytes N' or 'files N'");
    const std::string_view key = line.substr(0, space);
    const std::string_view value = line.substr(space + 1);
    std::uint64_t parsed = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
      return bad("expected a number after '" + std::string(key) + "'");
    }
    if (key == "bytes") {
      if (have_bytes) return bad("'bytes' repeated");
      if (parsed > kMaxByteSize) return bad("bytes out of range");
      usage.bytes = parsed;
      have_bytes = true;
    } else if (key == "files") {
      if (have_files) return bad("'files' repeated");
      if (parsed > kMaxQuotaFiles) return bad("files out of range");
      usage.files = parsed;
      have_files = true;
    } else {
      return bad("unknown key '" + std::string(key.substr(0, 32)) + "'");
    }
  }
  if (!have_bytes || !have_files) return make_error("a usage file holds 'bytes N' and 'files N'");
  return usage;
}

std::string quota_file_name(std::string_view user) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (std::size_t i = 0; i < user.size(); ++i) {
    const char c = user[i];
    if (plain_name_byte(c) && !(i == 0 && c == '.')) {
      name += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      name += '%';
      name += kHex[byte >> 4];
      name += kHex[byte & 15];
    }
  }
  return name.empty() ? std::string("%") : name;
}

QuotaAllowance quota_allowance(const SessionPolicy& policy, const std::optional<ListenerNotice>& answer) {
  QuotaAllowance allowance;
  // SECURITY: fail closed: without the listener's answer there is no upload under a limit.
  if (!answer || answer->type != NoticeType::kQuotaAnswer) return allowance;
  if (!answer->granted) {
    allowance.status = QuotaStatus::kHourlyLimit;
    return allowance;
  }
  if (policy.has_quota() && !answer->usage_known) return allowance;
  allowance.status = QuotaStatus::kGranted;
  allowance.bytes_left = left(policy.quota_bytes, answer->used_bytes);
  allowance.files_left = left(policy.quota_files, answer->used_files);
  return allowance;
}

const QuotaUsage* QuotaLedger::find(const std::string& user) const {
  const auto it = usage_.find(user);
  return it == usage_.end() ? nullptr : &it->second;
}

bool QuotaLedger::set(const std::string& user, const QuotaUsage& usage, bool dirty) {
  if (usage_.size() >= kMaxUsers && usage_.find(user) == usage_.end()) return false;
  usage_[user] = QuotaUsage{std::min(usage.bytes, kMaxByteSize), std::min(usage.files, kMaxQuotaFiles)};
  if (dirty) dirty_.insert(user);
  return true;
}

bool QuotaLedger::apply(const std::string& user, const QuotaDelta& delta) {
  const auto it = usage_.find(user);
  if (it == usage_.end()) return false;
  it->second = apply_quota_delta(it->second, delta);
  dirty_.insert(user);
  return true;
}

std::vector<std::string> QuotaLedger::take_dirty() {
  std::vector<std::string> users(dirty_.begin(), dirty_.end());
  dirty_.clear();
  return users;
}

void UploadRateBook::forget_old(Clock::time_point now) {
  for (auto it = starts_.begin(); it != starts_.end();) {
    auto& starts = it->second;
    while (!starts.empty() && now - starts.front() >= kWindow) starts.pop_front();
    it = starts.empty() ? starts_.erase(it) : std::next(it);
  }
}

bool UploadRateBook::try_start(const std::string& client, std::uint32_t per_hour, Clock::time_point now) {
  if (per_hour == 0) return true;
  auto it = starts_.find(client);
  if (it == starts_.end()) {
    if (starts_.size() >= kMaxClients) forget_old(now);
    if (starts_.size() >= kMaxClients) return false;
    it = starts_.emplace(client, std::deque<Clock::time_point>{}).first;
  }
  auto& starts = it->second;
  while (!starts.empty() && now - starts.front() >= kWindow) starts.pop_front();
  // A session of a class with a lower limit sees the uploads the others counted.
  if (starts.size() >= per_hour) return false;
  starts.push_back(now);
  // SECURITY: never more than the largest limit is remembered per client.
  while (starts.size() > kMaxUploadsPerHour) starts.pop_front();
  return true;
}

}  // namespace wftpd
