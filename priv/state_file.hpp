// The listener's state files (ban_state_file, the usage files in quota_dir): read only when
// root's and writable by nobody else, rewritten whole and atomically.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

// The file's text; empty when there is none. SECURITY: an error unless it is a regular file
// (not followed through a symbolic link) owned by root and writable by root only: whoever can
// write it decides what the listener believes.
Result<std::string> read_root_state_file(const std::string& path, std::size_t max_bytes);

// Replaces `path` with `text`: a new file beside it (O_EXCL, O_NOFOLLOW, mode 0600), fsync,
// rename over `path`, fsync of the directory. The directory is made (mode 0700) if missing.
Result<void> write_state_file(const std::string& path, std::string_view text);

// A directory only root may enter (quota_dir): made mode 0700 if missing (and its parent, mode
// 0700, if that is missing); an error when it is
// not a directory, not root's, or open to the group or others.
Result<void> prepare_private_directory(const std::string& path);

}  // namespace wftpd
