#include "priv/login_policy.hpp"

#include "common/io.hpp"
#include "priv/login_access.hpp"
#include "priv/login_throttle.hpp"

namespace wftpd {

std::string_view backend_name(LoginBackend backend) {
  switch (backend) {
    case LoginBackend::kAnonymous: return "anonymous";
    case LoginBackend::kVirtual: return "virtual";
    case LoginBackend::kPam: return "PAM";
  }
  return "?";
}

bool LoginPolicy::is_anonymous(std::string_view name) const {
  // SECURITY: anon_uid 0 would be root; resolve_users() refuses it, this is the backstop.
  return config_.anonymous_enable && config_.anon_uid != 0 &&
         (name == "anonymous" || name == "ftp" || name == "ANONYMOUS" || name == "FTP");
}

ClearLogin LoginPolicy::clear_login(std::string_view name) const {
  if (!config_.tls_enable) return ClearLogin::kAllowed;
  if (is_anonymous(name)) {
    return config_.anon_require_tls ? ClearLogin::kAnonymousTlsRequired : ClearLogin::kAllowed;
  }
  return config_.require_tls_login ? ClearLogin::kTlsRequired : ClearLogin::kAllowed;
}

LoginRoute LoginPolicy::route(std::string_view name, bool virtual_user) const {
  if (is_anonymous(name)) return {LoginBackend::kAnonymous, ""};
  if (auto refused = refuse_by_name(config_, name)) return {std::nullopt, *refused};
  if (!config_.pam_enable || virtual_user) return {LoginBackend::kVirtual, ""};
  return {LoginBackend::kPam, ""};
}

std::optional<std::string> LoginPolicy::refuse_anonymous() const {
  if (auto refused = refuse_by_name(config_, "anonymous")) return "anonymous: " + *refused;
  const gid_t groups[] = {config_.anon_gid};
  if (auto refused = refuse_by_groups(config_, groups)) return "anonymous: " + *refused;
  return std::nullopt;
}

VirtualUser LoginPolicy::anonymous_account() const {
  return VirtualUser{"anonymous", "", config_.anon_uid, config_.anon_gid, config_.anon_root, ""};
}

std::optional<std::string> LoginPolicy::refuse_virtual(const VirtualUser& user) const {
  const gid_t groups[] = {user.gid};
  return refuse_by_groups(config_, groups);
}

std::optional<std::string> LoginPolicy::refuse_pam(std::string_view requested,
                                                   const PamVerdict& verdict) const {
  const std::string reason = escape_for_log(verdict.reason, kMaxReasonLength);
  switch (verdict.outcome) {
    case PamOutcome::kAccepted: break;
    case PamOutcome::kAuthenticationFailed: return "PAM authentication failed: " + reason;
    case PamOutcome::kAccountRefused: return "PAM account check failed: " + reason;
    case PamOutcome::kRootRefused: return "uid 0 may never log in (" + reason + ")";
    case PamOutcome::kFailed: return "PAM error: " + reason;
  }
  // The decoder already refused uid/gid 0 and an unclean home; what remains is policy.
  const std::string account = escape_for_log(verdict.account);
  if (verdict.account != requested) {
    // A module mapped the name (e.g. case folding): the lists apply to the account as well.
    if (auto refused = refuse_by_name(config_, verdict.account)) {
      return "account '" + account + "' " + *refused;
    }
  }
  if (verdict.home == "/") {
    // SECURITY: a system account whose home is / would see the whole file system.
    return "account '" + account + "' has / as its home directory";
  }
  std::vector<gid_t> groups{verdict.gid};
  groups.insert(groups.end(), verdict.groups.begin(), verdict.groups.end());
  return refuse_by_groups(config_, groups);
}

std::chrono::milliseconds LoginPolicy::failure_delay(std::uint32_t failures_so_far) const {
  return wftpd::failure_delay(std::chrono::milliseconds(config_.login_fail_delay_ms), failures_so_far);
}

}  // namespace wftpd
