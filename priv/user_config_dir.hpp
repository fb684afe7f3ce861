// user_config_dir: one override file per user (policy keys and class=NAME, as in a [user NAME]
// section), read by the listener at start and on reload, and carried to every session monitor
// in the canonical configuration. Sessions never read the directory: the monitor has no open()
// after its sandbox, and nothing a user controls is read at login.
#pragma once

#include "common/config.hpp"
#include "common/result.hpp"

namespace wftpd {

inline constexpr std::size_t kMaxUserOverrideFileBytes = 64 * 1024;

// Adds the files of config.user_config_dir (nothing when it is empty) to config.user_overrides.
// SECURITY: the directory (not followed if a symlink) must be root's and writable by nobody
// else; each file, opened without following a symlink, a regular file owned by root and not
// writable by group or others. Names starting with '.' are skipped (editors' temporary files);
// any other name must be a user name. Errors name the file (and line): a bad file refuses the
// whole configuration, as a bad line in the main file does. A user with both a file and a
// [user NAME] section, or a file that names an undefined class, is an error.
Result<void> load_user_overrides(Config& config);

}  // namespace wftpd
