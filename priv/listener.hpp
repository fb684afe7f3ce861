// The listener: root, long-lived. Binds, accepts, enforces the session limit, spawns one
// session monitor per connection (fork+exec, fixed descriptor layout), reaps, reloads.
#pragma once

#include <string>

#include "common/config.hpp"
#include "common/result.hpp"

namespace wftpd {

// Reads, parses and resolves a configuration file (what --check-config runs).
Result<Config> load_config_file(const std::string& path);

// Serves until SIGTERM/SIGINT; returns the process exit code.
int run_listener(const std::string& config_path);

}  // namespace wftpd
