// The post-auth FTP session: runs as the user, chrooted to the user's root, no capabilities,
// "postauth" filter. Data connections come from the monitor.
#pragma once

#include <string>

#include "common/config.hpp"

namespace wftpd {

// Runs the post-auth child until QUIT, timeout or a broken connection; returns the exit code.
// `read_only`: an anonymous session: every command that would write answers 550.
int run_postauth(const Config& config, const std::string& user_name, bool read_only,
                 int control_fd, int monitor_fd);

}  // namespace wftpd
