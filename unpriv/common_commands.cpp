#include "unpriv/common_commands.hpp"

#include "common/ascii.hpp"
#include "unpriv/ftp_verbs.hpp"
#include "unpriv/reply.hpp"

namespace wftpd {
namespace {

CommonReply tls_unavailable() { return {format_reply(502, "TLS is not available on this server.")}; }

}  // namespace

CommonReply quit_command(std::string_view, CommonSession&) {
  return {format_reply(221, "Goodbye."), true};
}

CommonReply feat_command(std::string_view, CommonSession& session) {
  return {feature_reply(session.mlst_facts, session.tls_available, session.hash_feature)};
}

CommonReply help_command(std::string_view, CommonSession& session) {
  return {help_reply(session.tls_available, !session.hash_feature.empty())};
}

CommonReply noop_command(std::string_view, CommonSession&) {
  return {format_reply(200, "NOOP ok.")};
}

CommonReply pbsz_command(std::string_view argument, CommonSession& session) {
  if (!session.tls_available) return tls_unavailable();
  return {pbsz_reply(argument, session.tls)};
}

CommonReply prot_command(std::string_view argument, CommonSession& session) {
  if (!session.tls_available) return tls_unavailable();
  return {prot_reply(argument, session.refuse_clear_data, session.tls)};
}

CommonReply ccc_command(std::string_view, CommonSession& session) {
  if (!session.tls_available) return tls_unavailable();
  if (session.tls.control_tls) {
    return {format_reply(534, "CCC refused: the control connection stays encrypted.")};
  }
  return {format_reply(533, "The control connection is not encrypted.")};
}

std::string auth_refusal(const CommonSession& session) {
  if (!session.tls_available) return tls_unavailable().text;
  if (session.tls.control_tls) return format_reply(503, "Already using TLS.");
  return {};
}

AuthMechanism parse_auth_mechanism(std::string_view argument) {
  const std::string mechanism = to_ascii_upper(argument);
  if (mechanism == "TLS" || mechanism == "TLS-C") return AuthMechanism::kTls;
  if (mechanism == "SSL" || mechanism == "TLS-P") return AuthMechanism::kTlsWithPrivateData;
  return AuthMechanism::kUnsupported;
}

std::string pbsz_reply(std::string_view argument, ControlTlsState& tls) {
  if (!tls.control_tls) return format_reply(503, "PBSZ needs AUTH TLS first.");
  if (argument.empty() || argument.size() > 10 ||
      argument.find_first_not_of("0123456789") != std::string_view::npos) {
    return format_reply(501, "PBSZ needs a decimal number.");
  }
  // RFC 4217 8: TLS protects its own records; the only buffer size is 0.
  tls.pbsz_set = true;
  return format_reply(200, "PBSZ=0");
}

std::string prot_reply(std::string_view argument, bool refuse_clear, ControlTlsState& tls) {
  if (!tls.control_tls) return format_reply(503, "PROT needs AUTH TLS first.");
  if (!tls.pbsz_set) return format_reply(503, "PROT needs PBSZ first.");
  const std::string level = to_ascii_upper(argument);
  if (level == "P") {
    tls.prot_private = true;
    return format_reply(200, "Protection level set to Private.");
  }
  if (level == "C") {
    if (refuse_clear) return format_reply(521, "Data connections must be encrypted: use PROT P.");
    tls.prot_private = false;
    return format_reply(200, "Protection level set to Clear.");
  }
  if (level == "S" || level == "E") return format_reply(536, "Only PROT C and PROT P are supported.");
  return format_reply(504, "Unknown protection level.");
}

}  // namespace wftpd
