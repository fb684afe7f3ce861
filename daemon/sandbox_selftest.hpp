// wardenftpd --sandbox-selftest: does each role work under its filter on this kernel and libc?
#pragma once

namespace wftpd {

// Prints one line per role ("ok", or the failure with the forbidden syscall's name); returns
// the process exit code (0: every role works).
int run_sandbox_selftest();

}  // namespace wftpd
