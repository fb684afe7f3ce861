// Which names a session may see, open and create: deny_names and hide_names (globs matched
// against every component of a path), and the rules for the name of a new file or directory
// (upload_name_max_bytes, upload_names_plain, utf8_names_only). Pure; the post-auth child holds
// one, made from its session's policy (BecomeUser), and applies it in one place per question:
// PostauthSession::resolve*() for paths a command names, SessionFilesystem's directory reading
// for listings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/session_policy.hpp"

namespace wftpd {

class NameRules {
 public:
  NameRules() = default;
  explicit NameRules(const SessionPolicy& policy)
      : deny_(policy.deny_names),
        hide_(policy.hide_names),
        max_bytes_(policy.upload_name_max_bytes),
        plain_(policy.upload_names_plain),
        utf8_(policy.utf8_names_only) {}

  // Why `path` (absolute, normalised, as resolve_path() makes it) may not be opened or
  // created: "deny_names '*.php'", "hide_names '.*'"; nothing when it may.
  std::optional<std::string> access_refusal(std::string_view path) const;
  // Whether a directory entry is left out of listings.
  bool hidden(std::string_view name) const;
  // Why `name` (one component) may not be the name of a new file or directory.
  std::optional<std::string> new_name_refusal(std::string_view name) const;

 private:
  static const std::string* matching(const std::vector<std::string>& patterns, std::string_view name);

  std::vector<std::string> deny_;
  std::vector<std::string> hide_;
  std::uint32_t max_bytes_ = 255;
  bool plain_ = false;
  bool utf8_ = false;
};

}  // namespace wftpd
