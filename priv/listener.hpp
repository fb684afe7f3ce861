// The listener: root, long-lived. Binds, accepts, enforces the session limit, spawns one
// session monitor per connection (fork+exec, fixed descriptor layout), reaps, reloads.
#pragma once

#include <string>

#include "common/config.hpp"
#include "common/result.hpp"

namespace wftpd {

// Serves until SIGTERM/SIGINT; returns the process exit code. `force_stderr` (--stderr): log
// to stderr whatever log_output says.
int run_listener(const std::string& config_path, bool force_stderr);

}  // namespace wftpd
