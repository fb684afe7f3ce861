// Constants that must be taken from the kernel UAPI headers rather than glibc's:
//  * glibc defines O_LARGEFILE as 0 on 64-bit targets, but the kernel reports and
//    accepts 0100000 (F_GETFL returns it, so F_SETFL passes it back in);
//  * glibc's <sched.h> lacks some newer CLONE_* flags.
// Kept in a separate translation unit because these headers clash with glibc's.
#include <asm/fcntl.h>
#include <linux/sched.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace wftpd::policy::detail {

namespace {
struct KernelConstant {
  std::string_view name;
  std::uint64_t value;
};

#define WFTPD_K(name) KernelConstant{#name, static_cast<std::uint64_t>(name)}
constexpr KernelConstant kKernelConstants[] = {
    WFTPD_K(O_LARGEFILE),
    WFTPD_K(CLONE_VM), WFTPD_K(CLONE_FS), WFTPD_K(CLONE_FILES), WFTPD_K(CLONE_SIGHAND),
    WFTPD_K(CLONE_PIDFD), WFTPD_K(CLONE_PTRACE), WFTPD_K(CLONE_VFORK), WFTPD_K(CLONE_PARENT),
    WFTPD_K(CLONE_THREAD), WFTPD_K(CLONE_NEWNS), WFTPD_K(CLONE_SYSVSEM), WFTPD_K(CLONE_SETTLS),
    WFTPD_K(CLONE_PARENT_SETTID), WFTPD_K(CLONE_CHILD_CLEARTID), WFTPD_K(CLONE_DETACHED),
    WFTPD_K(CLONE_UNTRACED), WFTPD_K(CLONE_CHILD_SETTID), WFTPD_K(CLONE_NEWCGROUP),
    WFTPD_K(CLONE_NEWUTS), WFTPD_K(CLONE_NEWIPC), WFTPD_K(CLONE_NEWUSER), WFTPD_K(CLONE_NEWPID),
    WFTPD_K(CLONE_NEWNET), WFTPD_K(CLONE_IO), WFTPD_K(CLONE_CLEAR_SIGHAND),
    WFTPD_K(CLONE_INTO_CGROUP), WFTPD_K(CLONE_NEWTIME),
};
#undef WFTPD_K
}  // namespace

std::optional<std::uint64_t> lookup_kernel_constant(std::string_view name) {
  for (const auto& c : kKernelConstants) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

}  // namespace wftpd::policy::detail
