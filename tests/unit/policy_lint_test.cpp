// The deny-list lint: no sandboxed role may allow a syscall from this list, whatever its
// policy file says. It runs in CI with the unit tests, on the filters built into the binary.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "policy/embedded_policy.hpp"
#include "policy/policy_compiler.hpp"

namespace wftpd {
namespace {

// Never in any sandboxed role: code execution, debugging other processes, kernel attack
// surface reached only by exotic calls, namespace and mount changes, identity changes.
const std::set<std::string> kDenied = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "kexec_load",
    "kexec_file_load", "bpf", "mount", "umount2", "move_mount", "fsopen", "fsmount", "fsconfig",
    "open_tree", "pivot_root", "chroot", "init_module", "finit_module", "delete_module",
    "keyctl", "add_key", "request_key", "userfaultfd", "perf_event_open", "fork", "vfork",
    "clone", "clone3", "unshare", "setns", "setuid", "setgid", "setreuid", "setregid",
    "setresuid", "setresgid", "setgroups", "capset", "personality", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at",
    "swapon", "swapoff", "reboot", "iopl", "ioperm", "acct", "quotactl", "syslog",
    "lookup_dcookie", "fanotify_init", "mknod", "mknodat", "pidfd_getfd", "seccomp",
    "prctl", "rt_sigaction", "sigaltstack", "uselib", "vmsplice", "modify_ldt"};

// Roles that never hold a network socket of their own: no socket creation at all.
const std::set<std::string> kNoSockets = {"socket", "socketpair", "bind", "listen", "connect",
                                          "accept", "accept4"};

std::set<std::string> allowed_syscalls(const policy::EmbeddedPolicy& embedded) {
  const auto no_includes = [](const std::string& path) -> Result<std::string> {
    return make_error("unexpected @include " + path + " in an expanded source");
  };
  auto parsed = policy::parse(std::string(embedded.role) + ".policy", embedded.source, no_includes);
  EXPECT_TRUE(parsed.ok()) << (parsed ? "" : parsed.error().message);
  std::set<std::string> names;
  if (!parsed) return names;
  for (const auto& rule : parsed->rules) {
    if (rule.kind != policy::RuleKind::kErrno) names.insert(rule.syscall);
  }
  return names;
}

TEST(PolicyLint, EveryRoleIsLinted) {
  std::set<std::string> roles;
  for (const auto& embedded : policy::embedded_policies()) roles.insert(std::string(embedded.role));
  EXPECT_EQ(roles, (std::set<std::string>{"anonymous", "anonymous-upload", "listener", "monitor",
                                          "postauth", "preauth", "preauth-tls"}))
      << "a new role: decide which deny lists apply to it below";
}

// Sanitizer builds add policy/sanitizer/runtime.policy to every role (never in a release
// build); what only it allows is not held against the roles there.
std::set<std::string> sanitizer_runtime_syscalls() {
  std::set<std::string> names;
#if defined(WFTPD_SANITIZE)
  auto parsed = policy::parse_file(WFTPD_SOURCE_DIR "/policy/sanitizer/runtime.policy");
  EXPECT_TRUE(parsed.ok()) << (parsed ? "" : parsed.error().message);
  if (parsed) {
    for (const auto& rule : parsed->rules) names.insert(rule.syscall);
  }
#endif
  return names;
}

TEST(PolicyLint, NoRoleAllowsADeniedSyscall) {
  const auto sanitizer_only = sanitizer_runtime_syscalls();
  for (const auto& embedded : policy::embedded_policies()) {
    if (embedded.denylist) continue;  // the listener's floor: its rules deny (see below)
    for (const auto& name : allowed_syscalls(embedded)) {
      if (sanitizer_only.count(name) != 0) continue;
      EXPECT_EQ(kDenied.count(name), 0u) << embedded.role << " allows " << name;
    }
  }
}

TEST(PolicyLint, OnlyTheMonitorHasSockets) {
  for (const auto& embedded : policy::embedded_policies()) {
    if (embedded.role == "monitor" || embedded.denylist) continue;
    for (const auto& name : allowed_syscalls(embedded)) {
      EXPECT_EQ(kNoSockets.count(name), 0u) << embedded.role << " allows " << name;
    }
  }
}

TEST(PolicyLint, TheLintSeesWhatAPolicyAllows) {
  // The check itself must be able to fail: a policy allowing execve is caught.
  const auto no_includes = [](const std::string&) -> Result<std::string> { return make_error("none"); };
  auto parsed = policy::parse("bad.policy", "read: 1\nexecve: 1\n", no_includes);
  ASSERT_TRUE(parsed.ok());
  std::set<std::string> names;
  for (const auto& rule : parsed->rules) names.insert(rule.syscall);
  EXPECT_EQ(names.count("execve"), 1u);
  EXPECT_EQ(kDenied.count("execve"), 1u);
}


// The listener's floor (a deny list inherited by every process of the daemon): what it must
// deny, outright or unless an argument condition holds, whatever its policy file says.
const std::set<std::string> kFloorDenies = {
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kexec_load",
    "kexec_file_load", "bpf", "mount", "umount2", "move_mount", "fsopen", "fsmount", "fsconfig",
    "fspick", "open_tree", "mount_setattr", "pivot_root", "init_module", "finit_module",
    "delete_module", "keyctl", "add_key", "request_key", "userfaultfd", "perf_event_open",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at",
    "name_to_handle_at", "swapon", "swapoff", "reboot", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "iopl", "ioperm", "acct", "quotactl", "syslog", "lookup_dcookie",
    "uselib", "vhangup", "personality", "unshare", "clone", "clone3", "setns", "mknod", "mknodat"};

struct FloorRules {
  std::set<std::string> unconditional;  // trap or errno, always
  std::set<std::string> conditional;    // allowed only when a condition holds
};

FloorRules floor_rules(const policy::EmbeddedPolicy& embedded) {
  const auto no_includes = [](const std::string& path) -> Result<std::string> {
    return make_error("unexpected @include " + path + " in an expanded source");
  };
  auto parsed = policy::parse(std::string(embedded.role) + ".policy", embedded.source, no_includes);
  EXPECT_TRUE(parsed.ok()) << (parsed ? "" : parsed.error().message);
  FloorRules rules;
  if (!parsed) return rules;
  EXPECT_TRUE(parsed->denylist);
  for (const auto& rule : parsed->rules) {
    (rule.kind == policy::RuleKind::kConditional ? rules.conditional : rules.unconditional)
        .insert(rule.syscall);
  }
  return rules;
}

TEST(PolicyLint, TheListenerFloorDeniesWhatNoProcessNeeds) {
  const auto* floor = policy::find_policy("listener");
  ASSERT_NE(floor, nullptr);
  ASSERT_TRUE(floor->denylist);
  const FloorRules rules = floor_rules(*floor);
  for (const auto& name : kFloorDenies) {
#if defined(WFTPD_SANITIZE)
    if (name == "ptrace") continue;  // LeakSanitizer's check in the listener (sanitizer builds)
#endif
    EXPECT_TRUE(rules.unconditional.count(name) + rules.conditional.count(name) == 1)
        << "the listener's floor does not deny " << name;
  }
}

TEST(PolicyLint, TheFloorNeverDeniesWhatARoleAllowsOutright) {
  // A syscall that a role allows (the floor sits under every role) may be restricted by the
  // floor only with an argument condition that the role's own use satisfies (checked by the
  // role tests and the end-to-end suite), never denied outright.
  const auto* floor = policy::find_policy("listener");
  ASSERT_NE(floor, nullptr);
  const FloorRules rules = floor_rules(*floor);
  for (const auto& embedded : policy::embedded_policies()) {
    if (embedded.denylist) continue;
    for (const auto& name : allowed_syscalls(embedded)) {
      EXPECT_EQ(rules.unconditional.count(name), 0u)
          << embedded.role << " allows " << name << ", which the listener's floor denies";
    }
  }
}

}  // namespace
}  // namespace wftpd
