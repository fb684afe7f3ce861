#include "unpriv/ftp_path.hpp"

#include <vector>

namespace wftpd {

namespace {

// Applies the components of `path` to `stack`. Returns false when the depth limit is exceeded.
bool push_components(std::vector<std::string_view>& stack, std::string_view path) {
  std::size_t pos = 0;
  while (pos < path.size()) {
    const std::size_t slash = path.find('/', pos);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;  // "a//b" and "a/./b" are "a/b"
    if (part == "..") {
      // SECURITY: ".." at the root stays at the root, so no argument can name anything above it.
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    // SECURITY: bounds the work and the size of paths handed to the privileged side.
    if (stack.size() >= kMaxPathComponents) return false;
    stack.push_back(part);
  }
  return true;
}

std::string_view strip_trailing_slashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

Result<std::string> resolve_path(std::string_view cwd, std::string_view argument, std::size_t max_length) {
  // SECURITY: a NUL would cut the path short when it is passed to a system call.
  if (argument.find('\0') != std::string_view::npos) return make_error("NUL byte in path");
  if (cwd.find('\0') != std::string_view::npos) return make_error("NUL byte in working directory");
  if (cwd.empty() || cwd.front() != '/') return make_error("working directory is not absolute");

  std::vector<std::string_view> stack;
  // An absolute argument replaces the working directory; a relative one is applied on top of it.
  if (argument.empty() || argument.front() != '/') {
    if (!push_components(stack, cwd)) return make_error("path has too many components");
  }
  if (!push_components(stack, argument)) return make_error("path has too many components");

  std::size_t length = stack.empty() ? 1 : 0;
  for (std::string_view part : stack) length += 1 + part.size();
  if (length > max_length) return make_error("path too long");

  // Early return instead of assigning "/" afterwards: GCC 12 -O2 reports a bogus -Wrestrict there.
  if (stack.empty()) return std::string("/");
  std::string result;
  result.reserve(length);
  for (std::string_view part : stack) {
    result.push_back('/');
    result.append(part);
  }
  return result;
}

std::string_view base_name(std::string_view path) {
  path = strip_trailing_slashes(path);
  if (path == "/") return path;
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string parent_path(std::string_view path) {
  path = strip_trailing_slashes(path);
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  // Collapse "//" runs before the last component as well ("/a//b" -> "/a").
  return std::string(strip_trailing_slashes(path.substr(0, slash)));
}

}  // namespace wftpd
