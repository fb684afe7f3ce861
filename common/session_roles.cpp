// The roles table; see session_roles.hpp.
#include "common/session_roles.hpp"

#include <array>

namespace wftpd {
namespace {

constexpr rlim_t kGiB = rlim_t{1} << 30;

// Pre-auth work is bounded by login_timeout; as the TLS relay P only encrypts control traffic.
// Ten minutes of CPU and 1 GiB of address space are far beyond either.
constexpr RoleLimits kPreauthLimits{true, 16, kGiB, 600, false};
// Long transfers are legitimate: no CPU limit; address space bounds a runaway listing.
constexpr RoleLimits kPostauthLimits{true, 64, 4 * kGiB, RLIM_INFINITY, false};

constexpr std::array<RoleSpec, 8> kRoles{{
    {Role::kListener, "listener", "listener", "", false, RoleLimits{}},
    {Role::kMonitor, "monitor", "monitor", "wftpd:monitor", false,
     RoleLimits{true, 64, kGiB, RLIM_INFINITY, false}},
    {Role::kPreauth, "preauth", "preauth", "wftpd:preauth", true, kPreauthLimits},
    {Role::kPreauthTls, "preauth-tls", "preauth-tls", "wftpd:preauth", true, kPreauthLimits},
    {Role::kPostauth, "postauth", "postauth", "wftpd:postauth", true, kPostauthLimits},
    {Role::kAnonymous, "anonymous", "anonymous", "wftpd:postauth", true, kPostauthLimits},
    {Role::kAnonymousUpload, "anonymous-upload", "anonymous-upload", "wftpd:postauth", true,
     kPostauthLimits},
    // A handful of PAM checks per session; RLIMIT_NPROC stays (PAM modules may run helpers).
    {Role::kPamHelper, "pam-helper", "", "wftpd:pam", false, RoleLimits{true, 64, kGiB, 60, true}},
}};

}  // namespace

std::span<const RoleSpec> role_table() { return kRoles; }

const RoleSpec& role_spec(Role role) {
  for (const auto& spec : kRoles) {
    if (spec.role == role) return spec;
  }
  return kRoles.front();  // unreachable: every Role has a row (tested)
}

const RoleSpec* find_role(std::string_view name) {
  for (const auto& spec : kRoles) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

Role preauth_role(const Config& config) {
  return config.tls_enable ? Role::kPreauthTls : Role::kPreauth;
}

Role postauth_role(const Config& config, bool read_only) {
  if (!read_only) return Role::kPostauth;
  return config.anon_upload_dir.empty() ? Role::kAnonymous : Role::kAnonymousUpload;
}

const RoleSpec* effective_role(std::string_view name, const Config& config) {
  const RoleSpec* spec = find_role(name);
  if (spec == nullptr) return nullptr;
  switch (spec->role) {
    case Role::kPreauth:
      return &role_spec(preauth_role(config));
    case Role::kAnonymous:
      return &role_spec(postauth_role(config, true));
    case Role::kPreauthTls:
    case Role::kAnonymousUpload:
    case Role::kListener:
    case Role::kMonitor:
    case Role::kPostauth:
    case Role::kPamHelper:
      return spec;
  }
  return spec;
}

}  // namespace wftpd
