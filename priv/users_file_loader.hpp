// Reads users_file for a session monitor: after it has forked its children (none of them may
// hold a hash) and before its sandbox (which has no open()).
#pragma once

#include <vector>

#include "common/config.hpp"
#include "common/users_file.hpp"

namespace wftpd {

// The virtual users. A missing or unsafe file means no virtual login can succeed; the reason is
// logged and the list is empty. The hashes are the caller's to wipe (LoginVerifier does).
std::vector<VirtualUser> load_users_file(const Config& config);

}  // namespace wftpd
