// The empty, root-owned directory that sandboxed roles are chrooted into.
#pragma once

#include <string>

#include "common/result.hpp"

namespace wftpd {

// Whether `path` can be the empty jail: a real directory owned by root, not writable by group
// or others, and empty. With `missing_ok`, a path that does not exist yet passes (it will be
// created). The one decision; prepare_empty_directory() applies it after creating the path.
Result<void> check_empty_directory(const std::string& path, bool missing_ok);

// Creates `path` (and missing parents, mode 0755) if needed, then checks it as above.
Result<void> prepare_empty_directory(const std::string& path);

}  // namespace wftpd
