// The commands both engines answer alike, before and after login: the FTPS set of RFC 4217
// (AUTH's refusals, PBSZ, PROT, CCC) and FEAT, HELP, NOOP, QUIT. Each engine's command table
// points at these functions, so the two phases cannot drift apart in what they answer.
#pragma once

#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"

namespace wftpd {

// What the common commands read of a session, and the TLS state they change.
struct CommonSession {
  bool tls_available;        // this server has TLS: AUTH, PBSZ, PROT and CCC are served
  bool refuse_clear_data;    // require_tls_data (or anon_require_tls) in force: PROT C refused
  std::string_view mlst_facts;  // FEAT's MLST fact list; empty for the default
  ControlTlsState& tls;
  // FEAT's HASH algorithm list, the selected one marked ("SHA-256*;SHA-512;SHA-1;MD5"); empty
  // when HASH is off (no FEAT line, and HELP does not list HASH and RANG).
  std::string_view hash_feature = {};
};

// A common command's answer, and whether the session ends with it.
struct CommonReply {
  std::string text;
  bool ends_session = false;
};

using CommonHandler = CommonReply (*)(std::string_view argument, CommonSession& session);

CommonReply quit_command(std::string_view argument, CommonSession& session);
CommonReply feat_command(std::string_view argument, CommonSession& session);
CommonReply help_command(std::string_view argument, CommonSession& session);
CommonReply noop_command(std::string_view argument, CommonSession& session);
CommonReply pbsz_command(std::string_view argument, CommonSession& session);
CommonReply prot_command(std::string_view argument, CommonSession& session);
// RFC 4217 12.3: dropping back to a clear control connection is refused by policy.
CommonReply ccc_command(std::string_view argument, CommonSession& session);

// AUTH refused whatever its mechanism: no TLS on this server (502) or TLS in place already
// (503). Empty when the engine may go on with AUTH.
std::string auth_refusal(const CommonSession& session);

// The mechanisms AUTH accepts. The legacy spellings AUTH SSL and AUTH TLS-P meant "and protect
// the data too" (PROT P from the start).
enum class AuthMechanism { kTls, kTlsWithPrivateData, kUnsupported };
AuthMechanism parse_auth_mechanism(std::string_view argument);

// Replies to PBSZ and PROT once TLS is known to be available. `refuse_clear` is
// require_tls_data (or anon_require_tls) in force.
std::string pbsz_reply(std::string_view argument, ControlTlsState& tls);
std::string prot_reply(std::string_view argument, bool refuse_clear, ControlTlsState& tls);

}  // namespace wftpd
