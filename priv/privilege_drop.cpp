#include "priv/privilege_drop.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <cerrno>
#include <memory>

#include "common/unique_fd.hpp"
#include "policy/embedded_policy.hpp"

namespace wftpd {
namespace {

struct CapFree {
  void operator()(cap_t caps) const { cap_free(caps); }
};
using CapSet = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

bool retained(const std::vector<cap_value_t>& keep, cap_value_t cap) {
  return std::find(keep.begin(), keep.end(), cap) != keep.end();
}

// The capability masks the kernel reports for this process in /proc/self/status. One read
// replaces two prctl calls per capability (PR_CAPBSET_READ, PR_CAP_AMBIENT_IS_SET): the
// profile of a session counted some 480 prctl calls, most of them these reads
// (docs/PROFILE-SESSION.md). It also covers every capability the running kernel has, not
// only those libcap's headers knew when the daemon was built.
struct CapabilityMasks {
  std::uint64_t bounding = 0;
  std::uint64_t ambient = 0;
};

// `status_fd` is /proc/self/status, opened while /proc could still be reached (before chroot);
// pread renders it afresh from offset 0 every time.
Result<CapabilityMasks> read_capability_masks(int status_fd) {
  std::array<char, 8192> buffer{};
  ssize_t length;
  do {
    length = ::pread(status_fd, buffer.data(), buffer.size() - 1, 0);
  } while (length < 0 && errno == EINTR);
  if (length < 0) return system_error("pread(/proc/self/status)", errno);
  const std::string_view text(buffer.data(), static_cast<std::size_t>(length));
  const auto mask = [&](std::string_view key) -> std::optional<std::uint64_t> {
    const auto at = text.find("\n" + std::string(key) + ":\t");
    if (at == std::string_view::npos) return std::nullopt;
    const auto digits = text.substr(at + key.size() + 3, 16);
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
    if (error != std::errc{} || end != digits.data() + 16) return std::nullopt;
    return value;
  };
  const auto bounding = mask("CapBnd");
  const auto ambient = mask("CapAmb");
  if (!bounding || !ambient) return make_error("/proc/self/status has no CapBnd or CapAmb line");
  return CapabilityMasks{*bounding, *ambient};
}

std::uint64_t mask_of(const std::vector<cap_value_t>& caps) {
  std::uint64_t mask = 0;
  for (const cap_value_t cap : caps) mask |= std::uint64_t{1} << cap;
  return mask;
}

Result<UniqueFd> open_own_status() {
  UniqueFd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error("open(/proc/self/status)", errno);
  return fd;
}

// Drops from the bounding set every capability it still has that is not in `keep` (needs
// CAP_SETPCAP). Only capabilities still present are dropped: a drop replaces the process's
// credentials (about 2.6 us each) even when the capability is already gone, and the children
// start from the monitor's already reduced set. verify() checks the whole set afterwards.
Result<void> drop_bounding_except(const std::vector<cap_value_t>& keep, int status_fd) {
  auto masks = read_capability_masks(status_fd);
  if (!masks) return masks.error();
  const std::uint64_t to_drop = masks->bounding & ~mask_of(keep);
  for (cap_value_t cap = 0; cap < 64; ++cap) {
    if ((to_drop & (std::uint64_t{1} << cap)) == 0) continue;
    if (cap_drop_bound(cap) != 0) {
      return system_error("cap_drop_bound(" + std::to_string(cap) + ")", errno);
    }
  }
  return ok_result();
}

Result<void> set_capabilities(const std::vector<cap_value_t>& caps) {
  CapSet set(cap_init());
  if (!set) return system_error("cap_init", errno);
  if (!caps.empty()) {
    if (cap_set_flag(set.get(), CAP_PERMITTED, static_cast<int>(caps.size()), caps.data(),
                     CAP_SET) != 0 ||
        cap_set_flag(set.get(), CAP_EFFECTIVE, static_cast<int>(caps.size()), caps.data(),
                     CAP_SET) != 0) {
      return system_error("cap_set_flag", errno);
    }
  }
  if (cap_set_proc(set.get()) != 0) return system_error("cap_set_proc", errno);
  return ok_result();
}

Result<void> enter_root(const std::string& root) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  // SECURITY: no symlink anywhere on the way to the new root, so a user who owns a parent
  // directory cannot redirect the chroot to "/".
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, AT_FDCWD, root.c_str(), &how, sizeof(how));
  if (fd < 0) return system_error("openat2(" + root + ")", errno);
  UniqueFd root_fd(static_cast<int>(fd));
  if (::fchdir(root_fd.get()) != 0) return system_error("fchdir(" + root + ")", errno);
  if (::chroot(".") != 0) return system_error("chroot(" + root + ")", errno);
  if (::chdir("/") != 0) return system_error("chdir(/)", errno);
  return ok_result();
}

Result<void> set_limit(int resource, rlim_t value, const char* name) {
  const rlimit limit{value, value};
  if (::setrlimit(resource, &limit) != 0) return system_error(std::string("setrlimit(") + name + ")", errno);
  return ok_result();
}

Result<void> verify(const SandboxSpec& spec, int status_fd) {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (::getresuid(&ruid, &euid, &suid) != 0) return system_error("getresuid", errno);
  if (::getresgid(&rgid, &egid, &sgid) != 0) return system_error("getresgid", errno);
  const uid_t want_uid = spec.change_identity ? spec.uid : 0;
  if (ruid != want_uid || euid != want_uid || suid != want_uid) {
    return make_error("verification: uid is not the sandbox uid");
  }
  if (spec.change_identity && (rgid != spec.gid || egid != spec.gid || sgid != spec.gid)) {
    return make_error("verification: gid is not the sandbox gid");
  }
  if (::getgroups(0, nullptr) != 0) return make_error("verification: supplementary groups remain");
  if (spec.change_identity) {
    // SECURITY: proves the uid change cannot be undone.
    if (::setuid(0) == 0 || ::setgid(0) == 0) return make_error("verification: could regain root");
  }
  CapSet now(cap_get_proc());
  if (!now) return system_error("cap_get_proc", errno);
  for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    cap_flag_value_t effective = CAP_CLEAR, permitted = CAP_CLEAR, inheritable = CAP_CLEAR;
    cap_get_flag(now.get(), cap, CAP_EFFECTIVE, &effective);
    cap_get_flag(now.get(), cap, CAP_PERMITTED, &permitted);
    cap_get_flag(now.get(), cap, CAP_INHERITABLE, &inheritable);
    const bool keep = retained(spec.retained_capabilities, cap);
    if ((effective == CAP_SET && !keep) || (permitted == CAP_SET && !keep) ||
        inheritable == CAP_SET) {
      return make_error("verification: capability " + std::to_string(cap) + " still held");
    }
  }
  // The bounding and ambient sets as the kernel reports them, every bit (also capabilities
  // newer than libcap's headers).
  auto masks = read_capability_masks(status_fd);
  if (!masks) return make_error("verification: " + masks.error().message);
  const std::uint64_t extra = masks->bounding & ~mask_of(spec.retained_capabilities);
  if (extra != 0) {
    return make_error("verification: capability " + std::to_string(std::countr_zero(extra)) +
                      " in bounding set");
  }
  if (masks->ambient != 0) {
    return make_error("verification: ambient capability " +
                      std::to_string(std::countr_zero(masks->ambient)));
  }
  if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    return make_error("verification: no_new_privs is not set");
  }
  return ok_result();
}

}  // namespace

void set_process_name(std::string_view name) {
  char buffer[16] = {};
  name.copy(buffer, std::min<std::size_t>(name.size(), 15));
  ::prctl(PR_SET_NAME, buffer, 0, 0, 0);
}

Result<void> restrict_bounding_set(const std::vector<cap_value_t>& keep) {
  auto status = open_own_status();
  if (!status) return status.error();
  return drop_bounding_except(keep, status->get());
}

SandboxSpec sandbox_spec(Role role) {
  const RoleSpec& row = role_spec(role);
  SandboxSpec spec;
  spec.role = row.policy;
  spec.change_identity = row.change_identity;
  if (row.limits.set) {
    spec.max_open_files = row.limits.open_files;
    spec.max_address_space = row.limits.address_space;
    spec.max_cpu_seconds = row.limits.cpu_seconds;
    spec.allow_fork = row.limits.fork;
  }
  return spec;
}

Result<void> enter_sandbox(const SandboxSpec& spec) {
  const auto* policy = policy::find_policy(spec.role);
  // SECURITY: fail closed before touching anything if the role has no compiled filter.
  if (policy == nullptr) return make_error("no seccomp policy for role " + std::string(spec.role));

  // Opened now, while /proc can still be reached (before the chroot); closed before the filter.
  auto status = open_own_status();
  if (!status) return status.error();
  if (spec.network_namespace_fd >= 0) {
    if (::setns(spec.network_namespace_fd, CLONE_NEWNET) != 0) return system_error("setns(CLONE_NEWNET)", errno);
    ::close(spec.network_namespace_fd);
  }
  // 1. groups
  if (::setgroups(0, nullptr) != 0) return system_error("setgroups", errno);
  // 2. chroot
  if (!spec.root.empty()) {
    auto entered = enter_root(spec.root);
    if (!entered) return entered;
  }
  // 3. gid/uid, keeping the permitted set just long enough to shrink the bounding set.
  if (spec.change_identity) {
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return system_error("prctl(PR_SET_KEEPCAPS)", errno);
    if (::setresgid(spec.gid, spec.gid, spec.gid) != 0) return system_error("setresgid", errno);
    if (::setresuid(spec.uid, spec.uid, spec.uid) != 0) return system_error("setresuid", errno);
  }
  // 4./5. capabilities, then bounding and ambient sets.
  std::vector<cap_value_t> with_setpcap = spec.retained_capabilities;
  with_setpcap.push_back(CAP_SETPCAP);
  auto raised = set_capabilities(with_setpcap);
  if (!raised) return raised;
  auto bounded = drop_bounding_except(spec.retained_capabilities, status->get());
  if (!bounded) return bounded;
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return system_error("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno);
  }
  auto final_caps = set_capabilities(spec.retained_capabilities);
  if (!final_caps) return final_caps;
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return system_error("prctl(PR_SET_KEEPCAPS)", errno);
  // 6. rlimits
  auto limit = set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
  if (!limit) return limit;
  limit = set_limit(RLIMIT_NOFILE, spec.max_open_files, "RLIMIT_NOFILE");
  if (!limit) return limit;
  if (!spec.allow_fork) {
    limit = set_limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC");
    if (!limit) return limit;
  }
#if !defined(WFTPD_SANITIZE)
  if (spec.max_address_space != RLIM_INFINITY) {
    limit = set_limit(RLIMIT_AS, spec.max_address_space, "RLIMIT_AS");
    if (!limit) return limit;
  }
#endif
  if (spec.max_cpu_seconds != RLIM_INFINITY) {
    limit = set_limit(RLIMIT_CPU, spec.max_cpu_seconds, "RLIMIT_CPU");
    if (!limit) return limit;
  }
  // Credential changes reset the parent-death signal, so it is set only now.
  if (spec.expected_parent != 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return system_error("prctl(PR_SET_PDEATHSIG)", errno);
    if (::getppid() != spec.expected_parent) return make_error("parent exited during set-up");
  }
  // SECURITY: not dumpable: processes of the same uid (other sessions) cannot ptrace this one.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return system_error("prctl(PR_SET_DUMPABLE)", errno);
  // 7. no_new_privs
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return system_error("prctl(PR_SET_NO_NEW_PRIVS)", errno);
  auto verified = verify(spec, status->get());
  if (!verified) return verified;
  status->reset();
  if (spec.stderr_replacement_fd >= 0) {
    if (::dup2(spec.stderr_replacement_fd, STDERR_FILENO) < 0) return system_error("dup2", errno);
    ::close(spec.stderr_replacement_fd);
  }
  // A forbidden syscall is reported by name (to the monitor, or to the log) before the
  // process ends; see policy/violation_report.hpp.
  if (spec.violation_report_fd >= 0 &&
      !policy::install_violation_reporter(spec.role, spec.violation_report_fd, spec.violation_format)) {
    return system_error("sigaction(SIGSYS)", errno);
  }
  // 8. seccomp, last: from here on only the role's policy applies.
  return policy::install_policy(*policy);
}

}  // namespace wftpd
