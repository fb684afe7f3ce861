// `--session ID [options]`: how the listener starts a session monitor in either image (the
// full wardenftpd, or wardenftpd-session without TLS). Never meant to be typed by hand.
#pragma once

namespace wftpd {

// Parses argv[2...] (argv[1] is "--session") and runs the session; returns the exit code.
int run_session_command(int argc, char** argv);

}  // namespace wftpd
