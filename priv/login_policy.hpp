// Who may log in, through which backend, and when a refusal is answered: the monitor's login
// policy as pure functions of the configuration (no I/O, no fork, no clock), so that every rule
// is unit-tested (tests/unit/login_policy_test.cpp) and fuzzed behind the monitor's dispatch.
// The monitor (priv/monitor_login.cpp) asks the backends and applies these answers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/monitor_protocol.hpp"
#include "common/pam_protocol.hpp"
#include "common/users_file.hpp"

namespace wftpd {

enum class LoginBackend : std::uint8_t { kAnonymous, kVirtual, kPam };

// "anonymous", "virtual", "PAM": for the log.
std::string_view backend_name(LoginBackend backend);

// Where a login attempt goes next: a backend, or a refusal (reason for the server log only).
struct LoginRoute {
  std::optional<LoginBackend> backend;
  std::string refusal;
};

class LoginPolicy {
 public:
  explicit LoginPolicy(const Config& config) : config_(config) {}

  // SECURITY: the one answer to "is this name an anonymous login?", for the login itself and
  // for the TLS rule the pre-auth child applies to USER (UserQuery): exactly "anonymous",
  // "ftp", "ANONYMOUS" and "FTP", with anonymous_enable and a resolved anon_user.
  bool is_anonymous(std::string_view name) const;

  // USER `name` on a control connection without TLS: may the login go on in clear?
  // require_tls_login for real accounts, anon_require_tls for anonymous ones (only with TLS on).
  ClearLogin clear_login(std::string_view name) const;

  // Which backend answers `name`, after the user lists (by name, before any password is
  // checked). A name in users_file (`virtual_user`) never reaches PAM; without pam_enable every
  // other name is an unknown virtual user (it still costs one hash).
  LoginRoute route(std::string_view name, bool virtual_user) const;

  // The account an anonymous login becomes, or why the lists refuse anonymous logins.
  std::optional<std::string> refuse_anonymous() const;
  VirtualUser anonymous_account() const;

  // A virtual user the users file accepted: the group lists on its gid.
  std::optional<std::string> refuse_virtual(const VirtualUser& user) const;

  // What PAM answered for `requested`: the reason for a refusal, or nothing when the account
  // (verdict.account, uid, gid, home) may log in.
  std::optional<std::string> refuse_pam(std::string_view requested, const PamVerdict& verdict) const;

  // When the `failures_so_far`-th failure (0: the first) of this client's address, counted
  // across sessions, is answered: attempt start + this delay, for every backend alike.
  std::chrono::milliseconds failure_delay(std::uint32_t failures_so_far) const;

  // After `failed` failures in this session, the next refusal ends it.
  bool is_final_failure(std::uint32_t failed) const { return failed >= config_.max_login_attempts; }

 private:
  const Config& config_;
};

}  // namespace wftpd
