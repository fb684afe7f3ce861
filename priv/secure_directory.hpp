// The empty, root-owned directory that sandboxed roles are chrooted into.
#pragma once

#include <string>

#include "common/result.hpp"

namespace wftpd {

// Creates `path` (and missing parents, mode 0755) if needed, then checks that it is a real
// directory owned by root, not writable by group or others, and empty.
Result<void> prepare_empty_directory(const std::string& path);

}  // namespace wftpd
