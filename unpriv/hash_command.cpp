#include "unpriv/hash_command.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace wftpd {
namespace {

// A file offset: decimal digits only, at most what off_t holds.
std::optional<std::uint64_t> parse_offset(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() ||
      value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Result<RangeRequest, RangeError> parse_rang_argument(std::string_view argument) {
  const auto space = argument.find(' ');
  if (space == std::string_view::npos) return RangeError::kMalformed;
  const auto first = parse_offset(argument.substr(0, space));
  const auto last = parse_offset(argument.substr(space + 1));
  if (!first || !last) return RangeError::kMalformed;
  if (*first > *last) {
    if (*first == 1 && *last == 0) return RangeRequest{};
    return RangeError::kStartAfterEnd;
  }
  return RangeRequest{OctetRange{*first, *last}};
}

Result<HashOption, HashOptionError> parse_hash_option(std::string_view argument) {
  if (argument.empty()) return HashOption{};
  if (argument.find(' ') != std::string_view::npos) return HashOptionError::kMalformed;
  const auto algorithm = parse_digest_name(argument);
  if (!algorithm) return HashOptionError::kUnknownAlgorithm;
  return HashOption{*algorithm};
}

Result<HashSpan, HashSpanError> hash_span(const std::optional<OctetRange>& range,
                                          std::uint64_t file_size) {
  if (!range) {
    return HashSpan{0, file_size, OctetRange{0, file_size == 0 ? 0 : file_size - 1}};
  }
  if (range->first >= file_size) return HashSpanError::kStartPastEnd;
  const std::uint64_t last = std::min(range->last, file_size - 1);
  return HashSpan{range->first, last - range->first + 1, OctetRange{range->first, last}};
}

std::string hash_reply_text(DigestAlgorithm algorithm, const OctetRange& reported,
                            std::string_view hex, std::string_view pathname) {
  std::string text(digest_name(algorithm));
  text += ' ';
  text += std::to_string(reported.first);
  text += '-';
  text += std::to_string(reported.last);
  text += ' ';
  text += hex;
  text += ' ';
  text += pathname;
  return text;
}

std::string hash_feature_list(DigestAlgorithm selected) {
  std::string list;
  for (const DigestAlgorithm algorithm : kAllDigests) {
    if (!list.empty()) list += ';';
    list += digest_name(algorithm);
    if (algorithm == selected) list += '*';
  }
  return list;
}

HashBudget::HashBudget(std::uint64_t capacity, std::uint64_t bytes_per_second,
                       Clock::time_point now)
    : capacity_(capacity), rate_(std::max<std::uint64_t>(bytes_per_second, 1)),
      available_(capacity), last_(now) {}

void HashBudget::refill(Clock::time_point now) {
  if (now <= last_) return;
  const auto elapsed_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count());
  // 128 bits: nanoseconds times bytes a second passes 2^64 after a few minutes at 64 MiB/s.
  const unsigned __int128 earned =
      static_cast<unsigned __int128>(elapsed_ns) * rate_ / 1'000'000'000u;
  if (earned >= capacity_ - available_) {
    available_ = capacity_;
    last_ = now;
    return;
  }
  available_ += static_cast<std::uint64_t>(earned);
  // Only the time the earned bytes took is used up: at a slow rate, frequent calls still add up.
  last_ += std::chrono::nanoseconds(
      static_cast<std::int64_t>(earned * 1'000'000'000u / rate_));
}

std::uint64_t HashBudget::seconds_until(std::uint64_t bytes, Clock::time_point now) {
  refill(now);
  if (bytes <= available_) return 0;
  const std::uint64_t missing = bytes - available_;
  return (missing + rate_ - 1) / rate_;
}

void HashBudget::spend(std::uint64_t bytes, Clock::time_point now) {
  refill(now);
  available_ -= std::min(bytes, available_);
}

}  // namespace wftpd
