// Every role a wardenftpd process plays, in one table: its name, its seccomp policy, its process
// name and the resource limits it runs under. --list-roles, --print-policy, --sandbox-selftest,
// the PAM helper and enter_sandbox()'s callers read it here, so a role cannot get one filter in
// the self-test and another in a session. What each role holds and what its compromise gives
// is in SECURITY.md.
#pragma once

#include <sys/resource.h>

#include <span>
#include <string_view>

#include "common/config.hpp"

namespace wftpd {

enum class Role {
  kListener,         // the daemon: accepts, spawns monitors; its filter is the floor under all
  kMonitor,          // M: one per session, decides logins, owns the network sockets
  kPreauth,          // P without TLS
  kPreauthTls,       // P with tls_enable (also the control connection's TLS relay)
  kPostauth,         // U for a virtual or PAM user
  kAnonymous,        // U for an anonymous session, read-only
  kAnonymousUpload,  // U for an anonymous session with a drop box (anon_upload_dir)
  kPamHelper,        // wardenftpd-pam-helper: no filter (PAM modules are arbitrary code)
};

struct RoleLimits {
  // false: wardenftpd sets no limits (the listener runs as started).
  bool set = false;
  rlim_t open_files = 0;     // RLIMIT_NOFILE
  rlim_t address_space = 0;  // RLIMIT_AS; RLIM_INFINITY: not limited
  rlim_t cpu_seconds = 0;    // RLIMIT_CPU; RLIM_INFINITY: not limited
  bool fork = true;          // false: RLIMIT_NPROC 0
};

struct RoleSpec {
  Role role;
  std::string_view name;          // as --list-roles and --print-policy name it
  std::string_view policy;        // the embedded seccomp policy; empty: none
  std::string_view process_name;  // /proc/PID/comm ("" : the binary's own)
  bool change_identity;           // runs as an unprivileged uid/gid (not root)
  RoleLimits limits;
};

// Every role, the listener first.
std::span<const RoleSpec> role_table();

// The row of `role` (every Role has one).
const RoleSpec& role_spec(Role role);

// The row named `name`, or nullptr.
const RoleSpec* find_role(std::string_view name);

// Which variant a configuration runs. SECURITY: what only TLS needs is allowed only with TLS,
// and a read-only (anonymous) session gets a filter without any write system call.
Role preauth_role(const Config& config);
Role postauth_role(const Config& config, bool read_only);

// The role a configuration really runs for a role name an auditor gives (--print-policy ROLE
// --config FILE): "preauth" may be preauth-tls, "anonymous" may be anonymous-upload; any other
// name is itself. nullptr for an unknown name.
const RoleSpec* effective_role(std::string_view name, const Config& config);

}  // namespace wftpd
