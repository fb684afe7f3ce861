// Entering a role's sandbox: the one place where privileges are dropped, in one fixed order,
// and verified afterwards. Fail-closed: on any error the caller must exit; nothing runs
// "without the sandbox".
#pragma once

#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "policy/violation_report.hpp"

#include "common/result.hpp"
#include "common/session_roles.hpp"

namespace wftpd {

struct SandboxSpec {
  std::string_view role;       // names the embedded seccomp policy and the process
  bool change_identity = true; // false: stay uid 0 (the monitor), true: become uid/gid
  uid_t uid = 0;
  gid_t gid = 0;
  std::string root;            // chroot target, opened without following symlinks
  int network_namespace_fd = -1;  // joined first (setns) and closed, when set
  std::vector<cap_value_t> retained_capabilities;  // kept in permitted+effective and bounding
  rlim_t max_open_files = 32;
  // Backstops against a runaway (or compromised) process: address space and CPU seconds.
  // RLIM_INFINITY: not limited. (Sanitizer builds ignore the address space limit: their shadow
  // memory alone is terabytes of reservations.)
  rlim_t max_address_space = RLIM_INFINITY;
  rlim_t max_cpu_seconds = RLIM_INFINITY;
  bool allow_fork = false;     // RLIMIT_NPROC 0 unless set
  pid_t expected_parent = 0;   // PR_SET_PDEATHSIG is set when nonzero, then the parent checked
  // SECURITY: when set, this descriptor (/dev/null) replaces stderr and is closed just before
  // the filter is applied: set-up errors still reach the log, the confined child cannot.
  int stderr_replacement_fd = -1;
  // Where a forbidden syscall is reported (SIGSYS handler); -1: nowhere (SIGSYS just kills).
  int violation_report_fd = -1;
  policy::ReportFormat violation_format = policy::ReportFormat::kLogEvent;
};

// A spec with the role's row of the roles table applied (policy, identity change, rlimits);
// the caller adds uid/gid, root, namespace and descriptors.
SandboxSpec sandbox_spec(Role role);

// groups -> chroot -> gid/uid -> capabilities -> bounding and ambient sets -> rlimits ->
// no_new_privs -> seccomp, then verification (which runs before the filter is applied).
Result<void> enter_sandbox(const SandboxSpec& spec);

// Reduces the bounding set to `keep` (needs CAP_SETPCAP); used by the monitor at start-up.
Result<void> restrict_bounding_set(const std::vector<cap_value_t>& keep);

// Sets the process name shown in ps and /proc/PID/comm (at most 15 bytes).
void set_process_name(std::string_view name);

}  // namespace wftpd
