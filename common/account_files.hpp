// User and group names from /etc/passwd and /etc/group, read directly.
//
// The daemon is a static binary: glibc's getpwnam_r/getgrnam_r would load NSS modules (files,
// systemd, ldap, sss) with dlopen at run time, and those must come from exactly the glibc the
// binary was linked with; after a glibc upgrade under an installed binary a lookup can fail or
// misbehave. So the static daemon does not use NSS at all: it reads the two files itself with a
// strict parser. Names that exist only in another NSS source (LDAP, sssd) are not found; a
// configuration can always give numeric ids instead (UID:GID, gids in group lists). PAM
// accounts are looked up by the dynamically linked PAM helper, which does use NSS.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

struct AccountFiles {
  std::string passwd = "/etc/passwd";
  std::string group = "/etc/group";
};

struct PasswdEntry {
  uid_t uid;
  gid_t gid;
  std::string home;  // the sixth field, as written
};

// The first entry named `name` in passwd(5) text (nullopt: no such user). Strict: a line that is
// not blank or a '#' comment must have 7 fields with decimal ids, and any malformed line (or a
// NIS compat "+"/"-" entry, which glibc would expand from another source) is an error naming
// FILE:LINE, even if it is not the one looked for.
Result<std::optional<PasswdEntry>> find_passwd_entry(std::string_view text, std::string_view name,
                                                     std::string_view file_name);

// The same for group(5) text (4 fields); returns the group's gid.
Result<std::optional<gid_t>> find_group_entry(std::string_view text, std::string_view name,
                                              std::string_view file_name);

// Reads a whole account file (at most 16 MiB).
Result<std::string> read_account_file(const std::string& path);

}  // namespace wftpd
