#include "unpriv/wildcard.hpp"

namespace wftpd {
namespace {

// Matches the bracket expression starting at pattern[p] ('[') against `c`. Sets `next` to the
// index after the closing ']'. Returns false with next == p when there is no closing ']'.
bool match_class(std::string_view pattern, std::size_t p, char c, std::size_t& next, bool& matched) {
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    const auto low = static_cast<unsigned char>(pattern[i]);
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      const auto high = static_cast<unsigned char>(pattern[i + 2]);
      const auto value = static_cast<unsigned char>(c);
      if (low <= value && value <= high) found = true;
      i += 3;
    } else {
      if (pattern[i] == c) found = true;
      ++i;
    }
  }
  if (i >= pattern.size()) {
    next = p;  // no closing bracket: '[' is an ordinary character
    return false;
  }
  next = i + 1;
  matched = found != negate;
  return true;
}

}  // namespace

bool has_wildcard(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool wildcard_match(std::string_view pattern, std::string_view name) {
  if (pattern.size() > kMaxWildcardPattern) return false;
  if (!name.empty() && name.front() == '.' && (pattern.empty() || pattern.front() != '.')) {
    return false;
  }
  std::size_t p = 0, n = 0;
  std::size_t star_p = std::string_view::npos, star_n = 0;
  // Each turn advances n, or p, or falls back to the last '*' with a larger star_n: bounded by
  // pattern.size() * (name.size() + 1) turns.
  while (n < name.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_n = n;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++n;
        continue;
      }
      if (pc == '[') {
        std::size_t next = p;
        bool matched = false;
        if (match_class(pattern, p, name[n], next, matched)) {
          if (matched) {
            p = next;
            ++n;
            continue;
          }
        } else if (name[n] == '[') {
          ++p;
          ++n;
          continue;
        }
      } else if (pc == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace wftpd
