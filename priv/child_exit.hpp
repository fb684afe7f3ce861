// What a child's wait status means, in words for the log. The one describer for every process
// the privileged side reaps: the session's children (monitor), session monitors (listener) and
// the PAM helper, so that the same status always reads the same.
#pragma once

#include <string>

namespace wftpd {

// A phrase that follows the child's name: "pre-auth child " + describe_exit(status). Knows the
// project's exit codes (common/exit_codes.hpp), exec failure (127) and a seccomp kill (SIGSYS).
std::string describe_exit(int status);

// Whether the process was ended by its seccomp filter (SIGSYS, or the reporter's exit status).
bool ended_by_sandbox_violation(int status);

}  // namespace wftpd
