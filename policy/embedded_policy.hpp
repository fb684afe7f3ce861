// Seccomp policies compiled to BPF at build time (see policy/CMakeLists.txt) and
// the code that installs them. This part does not depend on libseccomp.
#pragma once

#include <linux/filter.h>

#include <span>
#include <string_view>

#include "common/result.hpp"

namespace wftpd::policy {

struct EmbeddedPolicy {
  std::string_view role;                // "preauth"
  std::span<const sock_filter> filter;  // BPF program compiled at build time
  std::string_view pfc;                 // libseccomp pseudo-filter code, for auditors
  std::string_view source;              // the policy text with @include expanded, comments kept
  // A deny list (the listener's floor, inherited by every process of the daemon) allows what it
  // does not name; an allowlist (every other role) traps what it does not name.
  bool denylist;
  std::size_t allowed_syscalls;         // allowlist: distinct syscalls allowed (some with arguments)
  std::size_t errno_syscalls;           // distinct syscalls answered with an errno
  std::size_t trapped_syscalls;         // deny list: syscalls trapped (always or on a condition)
};

// All roles built into this binary, sorted by role name (may be empty).
std::span<const EmbeddedPolicy> embedded_policies();

// nullptr if no role has that name.
const EmbeddedPolicy* find_policy(std::string_view role);

// The native architecture's name for a syscall number, or nullptr. Async-signal-safe (a
// constant table generated at build time from libseccomp).
const char* syscall_name(long number);

// Installs the filter on the calling thread/process with the seccomp(2) syscall.
// Requires PR_SET_NO_NEW_PRIVS already set (returns an error otherwise). Never falls back.
wftpd::Result<void> install_policy(const EmbeddedPolicy& policy);

// The listener's floor: installs a deny-list policy WITHOUT requiring PR_SET_NO_NEW_PRIVS. The
// kernel then requires CAP_SYS_ADMIN (the root listener has it). no_new_privs is inherited by
// every descendant, across exec, and the floor must not change how descendants exec (see
// SECURITY.md); it protects nothing in a process that is root with every capability. Refuses an
// allowlist policy: only a floor may be installed this way.
wftpd::Result<void> install_floor_policy(const EmbeddedPolicy& policy);

// The code path behind install_policy(), for any BPF program (used by tests).
// Uses SECCOMP_FILTER_FLAG_TSYNC so every thread of the process gets the filter;
// fails if another thread cannot be synchronised. `require_no_new_privs` false: only for
// install_floor_policy().
wftpd::Result<void> install_filter(std::span<const sock_filter> filter,
                                   bool require_no_new_privs = true);

}  // namespace wftpd::policy
