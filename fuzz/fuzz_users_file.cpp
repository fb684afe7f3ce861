// parse_users_file on arbitrary text (read by the privileged process).
//
// Checks: every accepted user passes the field validators (name, hash, uid/gid 1..4294967294,
// normalised root), names are unique and find_user finds each; format_users_file of the result
// parses back to equal users and is a fixed point; a valid root (of at most kMaxPathComponents
// components) is already what resolve_path would make of it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/password_hash.hpp"
#include "common/users_file.hpp"
#include "fuzz/fuzz_check.hpp"
#include "unpriv/ftp_path.hpp"

namespace {

bool same(const std::vector<wftpd::VirtualUser>& a, const std::vector<wftpd::VirtualUser>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].hash != b[i].hash || a[i].uid != b[i].uid ||
        a[i].gid != b[i].gid || a[i].root != b[i].root) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = wftpd::fuzz::as_view(data, size);
  auto users = wftpd::parse_users_file(text, "fuzz.users");
  if (!users) {
    FUZZ_CHECK(users.error().message.starts_with("fuzz.users:"));
    return 0;
  }
  for (const wftpd::VirtualUser& user : *users) {
    FUZZ_CHECK(wftpd::is_valid_user_name(user.name));
    FUZZ_CHECK(wftpd::is_valid_stored_hash(user.hash));
    FUZZ_CHECK(user.uid != 0 && user.gid != 0);
    FUZZ_CHECK(user.uid != static_cast<uid_t>(-1) && user.gid != static_cast<gid_t>(-1));
    FUZZ_CHECK(wftpd::is_valid_user_root(user.root));
    FUZZ_CHECK(user.root.find_first_of(std::string_view(":\r\n\0", 4)) == std::string::npos);
    FUZZ_CHECK(wftpd::find_user(*users, user.name) == &user);  // names are unique
    // resolve_path caps paths at kMaxPathComponents; a users-file root may have more (the root
    // itself is never passed through resolve_path, so that is not a bug).
    if (static_cast<std::size_t>(std::count(user.root.begin(), user.root.end(), '/')) <=
        wftpd::kMaxPathComponents) {
      auto resolved = wftpd::resolve_path("/", user.root);
      FUZZ_CHECK(resolved.ok() && *resolved == user.root);
    }
  }

  const std::string formatted = wftpd::format_users_file(*users);
  auto again = wftpd::parse_users_file(formatted, "fuzz.users");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(same(*users, *again));
  FUZZ_CHECK(wftpd::format_users_file(*again) == formatted);
  return 0;
}
