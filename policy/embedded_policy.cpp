#include "policy/embedded_policy.hpp"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace wftpd::policy {

const EmbeddedPolicy* find_policy(std::string_view role) {
  for (const EmbeddedPolicy& p : embedded_policies()) {
    if (p.role == role) return &p;
  }
  return nullptr;
}

Result<void> install_filter(std::span<const sock_filter> filter, bool require_no_new_privs) {
  if (filter.empty() || filter.size() > BPF_MAXINSNS) {
    return make_error("seccomp filter has an invalid length (" + std::to_string(filter.size()) +
                      " instructions)");
  }
  const int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (nnp < 0) return system_error("prctl(PR_GET_NO_NEW_PRIVS)", errno);
  if (nnp != 1 && require_no_new_privs) {
    return make_error("refusing to install seccomp filter: PR_SET_NO_NEW_PRIVS is not set");
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(filter.size());
  // The kernel copies the program and never writes through this pointer.
  prog.filter = const_cast<sock_filter*>(filter.data());
  const long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (rc < 0) return system_error("seccomp(SECCOMP_SET_MODE_FILTER)", errno);
  if (rc > 0) {
    return make_error("seccomp(SECCOMP_SET_MODE_FILTER): thread " + std::to_string(rc) +
                      " could not be synchronised");
  }
  return {};
}

Result<void> install_floor_policy(const EmbeddedPolicy& policy) {
  if (!policy.denylist) {
    return make_error("policy '" + std::string(policy.role) +
                      "' is an allowlist; only a deny-list floor is installed without no_new_privs");
  }
  auto r = install_filter(policy.filter, false);
  if (!r) return make_error("policy '" + std::string(policy.role) + "': " + r.error().message);
  return r;
}

Result<void> install_policy(const EmbeddedPolicy& policy) {
  auto r = install_filter(policy.filter);
  if (!r) return make_error("policy '" + std::string(policy.role) + "': " + r.error().message);
  return r;
}

}  // namespace wftpd::policy
