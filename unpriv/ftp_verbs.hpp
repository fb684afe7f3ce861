// What the server says about itself: known verbs, FEAT and HELP text, shared by both engines.
#pragma once

#include <string>
#include <string_view>

namespace wftpd {

// True for any verb of RFC 959 and its extensions, implemented here or not: a known verb that
// is not allowed now gets 530/502/503, an unknown one 500.
bool is_known_verb(std::string_view verb);

std::string feature_reply();  // the multi-line 211 FEAT reply (RFC 2389)
std::string help_reply();     // the multi-line 214 HELP reply

}  // namespace wftpd
