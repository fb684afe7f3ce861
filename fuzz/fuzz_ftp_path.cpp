// resolve_path(cwd, argument): the lexical jail of every file command.
//
// Input: cwd and argument, split at the first NUL (or in the middle when there is none). A
// leading '/' is added to cwd half of the time so most inputs get past the "absolute cwd" check.
// Checks on a resolved path: starts with '/', no "//", "/./" or "/../", no trailing "/." or
// "/..", no trailing '/' except for "/", no NUL, within max_length, and idempotent (resolving it
// again against "/" or against any cwd, since it is absolute, gives the same string). base_name
// and parent_path of a resolved path are consistent with it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "unpriv/ftp_path.hpp"

namespace {

void check_normalised(const std::string& path, std::size_t max_length) {
  FUZZ_CHECK(!path.empty() && path.front() == '/');
  FUZZ_CHECK(path.size() <= max_length || path == "/");
  FUZZ_CHECK(path.find('\0') == std::string::npos);
  FUZZ_CHECK(path.find("//") == std::string::npos);
  FUZZ_CHECK(path.find("/./") == std::string::npos);
  FUZZ_CHECK(path.find("/../") == std::string::npos);
  FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
  FUZZ_CHECK(path == "/" || !path.ends_with("/"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool add_slash = (data[0] & 1) != 0;
  // Byte 1 picks a small max_length sometimes, to reach the length check cheaply.
  const std::size_t max_length = (size > 1 && (data[0] & 2) != 0) ? data[1] : 4096;
  const auto [cwd_part, argument] = wftpd::fuzz::split_two(wftpd::fuzz::as_view(data + 1, size - 1));
  const std::string cwd = add_slash ? "/" + std::string(cwd_part) : std::string(cwd_part);

  auto resolved = wftpd::resolve_path(cwd, argument, max_length);
  if (!resolved) return 0;
  const std::string& path = *resolved;
  check_normalised(path, max_length);

  auto again = wftpd::resolve_path("/", path, max_length);
  FUZZ_CHECK(again.ok() && *again == path);
  auto from_cwd = wftpd::resolve_path(cwd, path, max_length);
  FUZZ_CHECK(from_cwd.ok() && *from_cwd == path);
  // A relative argument is the same as cwd + "/" + argument.
  if (!argument.empty() && argument.front() != '/') {
    auto joined = wftpd::resolve_path("/", cwd + "/" + std::string(argument), max_length);
    FUZZ_CHECK(joined.ok() && *joined == path);
  }

  const std::string_view base = wftpd::base_name(path);
  const std::string parent = wftpd::parent_path(path);
  check_normalised(parent, max_length);
  if (path == "/") {
    FUZZ_CHECK(base == "/" && parent == "/");
  } else {
    FUZZ_CHECK(!base.empty() && base.find('/') == std::string_view::npos);
    FUZZ_CHECK(base != "." && base != "..");
    FUZZ_CHECK(path == (parent == "/" ? "/" : parent + "/") + std::string(base));
  }
  return 0;
}
