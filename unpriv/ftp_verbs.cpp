#include "unpriv/ftp_verbs.hpp"

#include <array>
#include <vector>

#include "unpriv/reply.hpp"

namespace wftpd {

bool is_known_verb(std::string_view verb) {
  static constexpr std::array<std::string_view, 58> kVerbs = {
      "ABOR", "ACCT", "ADAT", "ALLO", "APPE", "AUTH", "CCC",  "CDUP", "CLNT", "CONF", "CWD",  "DELE",
      "ENC",  "EPRT", "EPSV", "FEAT", "HASH", "HELP", "HOST", "LANG", "LIST", "MDTM", "MFMT", "MIC",
      "MKD",  "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT",
      "PROT", "PWD",  "QUIT", "RANG", "REIN", "REST", "RETR", "RMD",  "RNFR", "RNTO", "SITE", "SIZE",
      "SMNT", "STAT", "STOR", "STOU", "STRU", "SYST", "TYPE", "USER", "XCUP", "XCWD", "XPWD"};
  for (const auto candidate : kVerbs) {
    if (candidate == verb) return true;
  }
  return verb == "XMKD" || verb == "XRMD";
}

std::string clnt_log_text(std::string_view argument) {
  if (argument.empty()) return "(no name)";
  // The monitor escapes every byte a child logs (escape_for_log); here it is only bounded.
  if (argument.size() <= kMaxClientNameLength) return "'" + std::string(argument) + "'";
  return "'" + std::string(argument.substr(0, kMaxClientNameLength)) + "'...";
}

std::string feature_reply(std::string_view mlst_facts, bool tls, std::string_view hash_algorithms) {
  // Only what this server really does (RFC 2389: the list is a promise). Each feature line
  // starts with exactly one space (RFC 2389 3.2).
  const std::string mlst = mlst_facts.empty()
                               ? std::string("type*;size*;modify*;perm*;unique*;UNIX.mode*;")
                               : std::string(mlst_facts);
  std::vector<std::string> lines = {"Features:"};
  if (tls) lines.insert(lines.end(), {" AUTH TLS", " PBSZ", " PROT"});
  lines.insert(lines.end(), {" EPRT", " EPSV"});
  // RANG selects bytes for HASH only, so there is no "RANG STREAM" line (draft-bryan-ftp-range:
  // that line promises ranged RETR and STOR).
  if (!hash_algorithms.empty()) lines.push_back(" HASH " + std::string(hash_algorithms));
  lines.insert(lines.end(), {" MDTM", " MFMT", " MLST " + mlst, " PASV", " REST STREAM", " SIZE",
                             " UTF8", " TVFS", "End"});
  return format_multiline_reply(211, lines);
}

std::string help_reply(bool tls, bool hash) {
  std::vector<std::string> lines = {
      "The following commands are recognized:",
      " ABOR ACCT ALLO APPE CDUP CLNT CWD  DELE EPRT EPSV FEAT HELP LIST MDTM",
      " MFMT MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REST RETR RMD",
      " RNFR RNTO SITE SIZE STAT STOR STOU STRU SYST TYPE USER XCUP XCWD",
      " XMKD XPWD XRMD"};
  if (hash) lines.emplace_back(" HASH RANG");
  if (tls) lines.emplace_back(" AUTH CCC  PBSZ PROT");
  lines.emplace_back("Help OK.");
  return format_multiline_reply(214, lines);
}

}  // namespace wftpd
