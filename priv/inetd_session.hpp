// inetd mode: one session on a connection accepted by someone else (inetd, xinetd, or systemd
// with Accept=yes), inherited as standard input. Does for that one connection what the listener
// does for each of its own, then becomes the session monitor (exec in place).
#pragma once

#include <string>

namespace wftpd {

struct InetdOptions {
  std::string config_path;
  bool implicit_tls = false;  // --implicit-tls; also implied by a local port equal to tls_implicit_port
  bool force_stderr = false;  // --stderr: log to stderr whatever log_output says
};

// Returns an exit code only if the session could not be started.
int run_inetd_session(const InetdOptions& options);

}  // namespace wftpd
