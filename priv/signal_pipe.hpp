// The listener's signals (SIGCHLD, SIGTERM, SIGINT, SIGHUP) as bytes on a self-pipe, read by
// its poll loop; SIGPIPE ignored.
#pragma once

#include "common/result.hpp"

namespace wftpd {

// Installs the handlers; each writes the signal number as one byte to `pipe_write`.
Result<void> install_signal_handlers(int pipe_write);

}  // namespace wftpd
