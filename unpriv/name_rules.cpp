#include "unpriv/name_rules.hpp"

#include <algorithm>

#include "common/log_format.hpp"
#include "unpriv/wildcard.hpp"

namespace wftpd {

const std::string* NameRules::matching(const std::vector<std::string>& patterns, std::string_view name) {
  for (const auto& pattern : patterns) {
    if (wildcard_match(pattern, name)) return &pattern;
  }
  return nullptr;
}

std::optional<std::string> NameRules::access_refusal(std::string_view path) const {
  if (deny_.empty() && hide_.empty()) return std::nullopt;
  // Every component: a denied or hidden directory covers what is below it.
  while (!path.empty()) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    const std::size_t end = path.find('/');
    const std::string_view component = path.substr(0, end);
    path.remove_prefix(end == std::string_view::npos ? path.size() : end);
    if (component.empty()) continue;
    if (const auto* pattern = matching(deny_, component)) return "deny_names '" + *pattern + "'";
    if (const auto* pattern = matching(hide_, component)) return "hide_names '" + *pattern + "'";
  }
  return std::nullopt;
}

bool NameRules::hidden(std::string_view name) const { return matching(hide_, name) != nullptr; }

std::optional<std::string> NameRules::new_name_refusal(std::string_view name) const {
  if (name.size() > max_bytes_) {
    return "upload_name_max_bytes (" + std::to_string(max_bytes_) + ")";
  }
  if (plain_) {
    const bool control = std::any_of(name.begin(), name.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (control) return "upload_names_plain (a control character)";
    if (!name.empty() && name.front() == '-') return "upload_names_plain (a leading '-')";
  }
  if (utf8_ && !is_valid_utf8(name)) return "utf8_names_only";
  return std::nullopt;
}

}  // namespace wftpd
