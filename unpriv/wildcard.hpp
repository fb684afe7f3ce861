// Wildcard patterns for LIST/NLST/STAT arguments ("*.txt"), matched by our own code rather than
// libc glob(): only in the last path component, with bounded work, never touching the disk.
#pragma once

#include <string_view>

namespace wftpd {

inline constexpr std::size_t kMaxWildcardPattern = 255;

// True if `text` holds a '*', '?' or '['.
bool has_wildcard(std::string_view text);

// Shell-style match of one file name: '*' any run, '?' one byte, "[abc]", "[a-z]", "[!x]" or
// "[^x]" one byte of (or not of) the set; a '[' without its ']' matches itself. Names starting
// with '.' are matched only by a pattern starting with '.'. The work is O(pattern * name): a
// failed '*' retries from one remembered point only, so "a*a*a*a*b" cannot explode.
// Patterns longer than kMaxWildcardPattern never match.
bool wildcard_match(std::string_view pattern, std::string_view name);

}  // namespace wftpd
