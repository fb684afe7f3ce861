// Exit codes of the sandboxed children, read by the monitor to log why a session ended (the
// children have no log of their own). Anything else non-zero is logged as a failure.
#pragma once

namespace wftpd {

inline constexpr int kExitNormal = 0;
inline constexpr int kExitIdleTimeout = 3;   // the control connection was idle too long
inline constexpr int kExitDataTimeout = 4;   // a data transfer stalled past data_timeout
inline constexpr int kExitSandboxFailed = 70;
inline constexpr int kExitSandboxViolation = 71;  // a forbidden syscall (SIGSYS handler)
inline constexpr int kExitExecFailed = 127;       // a forked helper could not exec (PAM helper)

}  // namespace wftpd
