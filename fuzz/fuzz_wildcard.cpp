// The LIST/NLST/STAT wildcard matcher (wildcard_match) against a small recursive reference
// matcher with the same documented rules, on fuzzed (pattern, name) pairs.
//
// Input: "pattern\0name" (no NUL: the name is empty). The reference is exponential in the worst
// case, so it only runs for short inputs; the production matcher runs on everything and must
// finish (libFuzzer's -timeout catches a blow-up), agree with the reference, and never match a
// pattern longer than kMaxWildcardPattern.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "unpriv/wildcard.hpp"

namespace {

// One byte against "[...]" starting at pattern[0] == '['. Returns the length of the bracket
// expression, or 0 when it has no closing ']' (then '[' is literal).
std::size_t match_set(std::string_view pattern, unsigned char c, bool& matched) {
  std::size_t i = 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  const std::size_t first = i;
  bool found = false;
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == ']' && i > first) {
      matched = found != negate;
      return i + 1;
    }
    const auto low = static_cast<unsigned char>(pattern[i]);
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      const auto high = static_cast<unsigned char>(pattern[i + 2]);
      if (c >= low && c <= high) found = true;
      i += 2;
    } else if (c == low) {
      found = true;
    }
  }
  return 0;
}

bool reference(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return name.empty();
  if (pattern[0] == '*') {
    for (std::size_t skip = 0; skip <= name.size(); ++skip) {
      if (reference(pattern.substr(1), name.substr(skip))) return true;
    }
    return false;
  }
  if (name.empty()) return false;
  if (pattern[0] == '?') return reference(pattern.substr(1), name.substr(1));
  if (pattern[0] == '[') {
    bool matched = false;
    const std::size_t length = match_set(pattern, static_cast<unsigned char>(name[0]), matched);
    if (length != 0) return matched && reference(pattern.substr(length), name.substr(1));
  }
  return pattern[0] == name[0] && reference(pattern.substr(1), name.substr(1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = wftpd::fuzz::as_view(data, size);
  const std::size_t nul = input.find('\0');
  const std::string_view pattern = input.substr(0, nul);
  const std::string_view name = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  const bool matched = wftpd::wildcard_match(pattern, name);
  if (pattern.size() > wftpd::kMaxWildcardPattern) FUZZ_CHECK(!matched);
  // Hidden names only for patterns that start with '.'.
  if (!name.empty() && name[0] == '.' && (pattern.empty() || pattern[0] != '.')) FUZZ_CHECK(!matched);
  if (pattern.size() <= 12 && name.size() <= 16 && pattern.size() <= wftpd::kMaxWildcardPattern) {
    const bool hidden_rule = !name.empty() && name[0] == '.' && (pattern.empty() || pattern[0] != '.');
    FUZZ_CHECK(matched == (!hidden_rule && reference(pattern, name)));
  }
  return 0;
}
