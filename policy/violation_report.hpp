// What a sandboxed process says when its seccomp filter stops it. Filters trap forbidden
// syscalls (SECCOMP_RET_TRAP): the syscall is not run and the kernel sends SIGSYS with its
// number. This handler names the syscall and the role, reports it to whoever keeps the log,
// and ends the process with kExitSandboxViolation, so a libc upgrade that needs a new
// syscall is diagnosed in one log line instead of "child died".
#pragma once

#include <string_view>

namespace wftpd::policy {

enum class ReportFormat {
  kLogEvent,  // a LogEvent datagram on a monitor channel (sandboxed children)
  kLine,      // a text line (the monitor, whose stderr is the log)
};

// Installs the SIGSYS handler (before the filter: rt_sigaction is not in any filter). `fd`
// stays open for the life of the process. Returns false if sigaction failed.
bool install_violation_reporter(std::string_view role, int fd, ReportFormat format);

// kLine only: what goes before and after the report text, so that the line has the framing of
// the process's other log lines (syslog priority and tag, or a JSON object). Copied (at most
// 384 bytes each); call before install_violation_reporter. Default: "wardenftpd: " and "\n".
void set_violation_line_frame(std::string_view prefix, std::string_view suffix);

// Formats the report text into `out` (async-signal-safe); returns its length. For tests.
std::size_t format_violation(char* out, std::size_t size, std::string_view role, long syscall);

}  // namespace wftpd::policy
