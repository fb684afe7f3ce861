// The post-auth FTP session: runs as the user, chrooted to the user's root, no capabilities,
// "postauth" filter. Data connections come from the monitor.
#pragma once

#include <string>

#include "common/child_setup.hpp"
#include "common/config.hpp"
#include "common/monitor_protocol.hpp"

namespace wftpd {

// Runs the post-auth child until QUIT, timeout or a broken connection; returns the exit code.
// `user.read_only`: an anonymous session: every command that would write answers 550. With
// TLS, builds the data connections' context (without the key unless session reuse is off)
// before entering the sandbox.
int run_postauth(const Config& config, const BecomeUser& user, ChildSetup& setup);

}  // namespace wftpd
