// The messages between a session monitor and its PAM helper (wardenftpd-pam-helper): one
// request per login attempt that reaches PAM, one verdict per request. Same datagram layout and
// codec as the monitor protocol (common/monitor_protocol.hpp); the types are numbered there.
//
// The helper runs arbitrary PAM modules as root: the monitor trusts its verdict (that is what a
// PAM backend means) but validates it like any other message: bounded fields, an accepted
// account is never uid or gid 0, its home is a clean absolute path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"
#include "common/wire_codec.hpp"

namespace wftpd {

inline constexpr std::size_t kMaxPamServiceLength = 64;
inline constexpr std::size_t kMaxRemoteHostLength = 64;  // an IPv6 literal is at most 45 bytes
// An account in more groups than this is refused (fail closed: a truncated list could hide a
// group of group_deny).
inline constexpr std::size_t kMaxAccountGroups = 1024;

// A PAM service name: 1-64 bytes of [A-Za-z0-9._-], not starting with '.' (it names a file in
// /etc/pam.d).
bool is_valid_pam_service(std::string_view name);

struct PamCheck {
  static constexpr MessageType kType = MessageType::kPamCheck;
  std::string service;      // the PAM service (pam_service)
  std::string user;         // as the client typed it
  std::string password;     // wiped by both sides after use
  std::string remote_host;  // PAM_RHOST: the client's address
  void encode(WireWriter& out) const;
  static Result<PamCheck> decode(WireReader& in);
};

enum class PamOutcome : std::uint8_t {
  kAccepted = 1,              // pam_authenticate and pam_acct_mgmt succeeded
  kAuthenticationFailed = 2,  // pam_authenticate refused (wrong password, unknown user, ...)
  kAccountRefused = 3,        // authenticated, but pam_acct_mgmt refused (expired, nologin, ...)
  kRootRefused = 4,           // the account is uid 0 (PAM not asked, or asked and then refused)
  kFailed = 5,                // PAM or NSS could not do its work (misconfiguration, no account)
};

struct PamVerdict {
  static constexpr MessageType kType = MessageType::kPamVerdict;
  PamOutcome outcome = PamOutcome::kFailed;
  std::string reason;  // for the server log only (never shown to the client)
  // Set only with kAccepted (all zero/empty otherwise): the account PAM authenticated (PAM_USER
  // after the modules ran) as NSS describes it.
  std::string account;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string home;
  std::vector<std::uint32_t> groups;  // primary and supplementary gids (getgrouplist)
  void encode(WireWriter& out) const;
  static Result<PamVerdict> decode(WireReader& in);
};

}  // namespace wftpd
