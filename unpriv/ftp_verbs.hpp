// What the server says about itself: known verbs, FEAT and HELP text, shared by both engines.
#pragma once

#include <string>
#include <string_view>

namespace wftpd {

// True for any verb of RFC 959 and its extensions, implemented here or not: a known verb that
// is not allowed now gets 530/502/503, an unknown one 500.
bool is_known_verb(std::string_view verb);

// CLNT (sent by some GUI clients to name themselves): what the log gets of its argument, quoted
// and cut to kMaxClientNameLength bytes (the monitor escapes it, like all child log text).
inline constexpr std::size_t kMaxClientNameLength = 128;
std::string clnt_log_text(std::string_view argument);

// The multi-line 211 FEAT reply (RFC 2389); `mlst_facts` is the MLST line's fact list; `tls`
// adds AUTH TLS, PBSZ and PROT (RFC 4217); a `hash_algorithms` list adds the HASH line
// (draft-bryan-ftpext-hash-02).
std::string feature_reply(std::string_view mlst_facts = {}, bool tls = false,
                          std::string_view hash_algorithms = {});
// The multi-line 214 HELP reply; `hash` lists HASH and RANG.
std::string help_reply(bool tls = false, bool hash = false);

}  // namespace wftpd
