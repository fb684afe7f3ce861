// Splits one control-connection line (as produced by ControlLineReader) into verb and argument.
//
// Syntax accepted (RFC 959 section 5.3, made strict where laxness only helps attackers):
//   line     = verb [ 1*SP argument ]
//   verb     = 1*8 ASCII letters, returned upper-cased (ASCII-only mapping, no locale)
//   argument = the rest of the line, byte-exact (trailing spaces are kept; they can be part of a
//              file name); it must not contain NUL
// Anything else (empty line, non-letter in the verb, verb longer than 8, verb followed by a
// character other than SP) is an error. Whether the verb is a known command is not checked here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

struct FtpCommand {
  std::string verb;
  std::string argument;
  // False when nothing but spaces (or nothing at all) follows the verb: "NOOP" and "NOOP  " both
  // have no argument, so commands that need one can answer 501 with a single check.
  bool has_argument = false;
};

inline constexpr std::size_t kMaxVerbLength = 8;

Result<FtpCommand> parse_command(std::string_view line);

}  // namespace wftpd
