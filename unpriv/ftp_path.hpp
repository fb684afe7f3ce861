// Lexical path resolution for FTP arguments.
//
// The session sees a virtual tree whose root "/" is the user's root directory. resolve_path()
// turns a client argument into a normalised absolute path inside that tree without touching the
// file system: it is the first line of defence (a path can't name anything above "/"), while the
// privileged side still opens paths beneath the root with RESOLVE_BENEATH-style checks, since
// symlinks inside the tree are not visible to a lexical resolver.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

inline constexpr std::size_t kMaxPathComponents = 256;

// Lexically resolves `argument` against `cwd` (absolute, starting with '/') into an absolute path
// inside the session root "/". "." and ".." are resolved; ".." at the root stays at the root;
// repeated slashes collapse; no trailing slash except for "/" itself. Empty argument -> cwd
// (normalised). Errors: NUL byte in either input, cwd not absolute, result longer than
// max_length bytes, more than kMaxPathComponents components in the result.
Result<std::string> resolve_path(std::string_view cwd, std::string_view argument,
                                 std::size_t max_length = 4096);

// Last component of a normalised absolute path: "/a/b" -> "b", "/" -> "/". Trailing slashes are
// ignored; "" -> "".
std::string_view base_name(std::string_view path);

// Parent of a normalised absolute path: "/a/b" -> "/a", "/a" -> "/", "/" -> "/". Trailing slashes
// are ignored; a path without any slash (not expected) yields "/".
std::string parent_path(std::string_view path);

}  // namespace wftpd
