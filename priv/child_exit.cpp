#include "priv/child_exit.hpp"

#include <signal.h>
#include <sys/wait.h>

#include "common/exit_codes.hpp"

namespace wftpd {

std::string describe_exit(int status) {
  if (WIFEXITED(status)) {
    switch (WEXITSTATUS(status)) {
      case kExitIdleTimeout:
        return "ended the session: control connection idle past idle_timeout, or no login "
               "within login_timeout (421 sent)";
      case kExitDataTimeout:
        return "ended the session: data transfer stalled past data_timeout (421 sent)";
      case kExitSandboxFailed:
        return "could not enter its sandbox (exit status 70)";
      case kExitSandboxViolation:
        return "was stopped by its seccomp filter (exit status 71; the forbidden system call is "
               "named in the line before)";
      case kExitExecFailed:
        return "could not be executed (exit status 127)";
      default:
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
  }
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    if (signal_number == SIGSYS) return "was killed by its seccomp filter (SIGSYS)";
    return "was killed by signal " + std::to_string(signal_number);
  }
  return "ended with status " + std::to_string(status);
}

bool ended_by_sandbox_violation(int status) {
  return (WIFEXITED(status) && WEXITSTATUS(status) == kExitSandboxViolation) ||
         (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

}  // namespace wftpd
