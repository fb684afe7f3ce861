#include "unpriv/ftp_command.hpp"

#include "common/ascii.hpp"

namespace wftpd {

Result<FtpCommand> parse_command(std::string_view line) {
  if (line.empty()) return make_error("empty command line");

  std::size_t verb_end = 0;
  while (verb_end < line.size() && is_ascii_letter(line[verb_end])) ++verb_end;
  // SECURITY: only letters reach the command table, so binary junk (TLS hellos, HTTP) is rejected
  // here and never echoed back as a "command name".
  if (verb_end == 0) return make_error("command verb must start with a letter");
  if (verb_end > kMaxVerbLength) return make_error("command verb too long");
  if (verb_end < line.size() && line[verb_end] != ' ') {
    return make_error("command verb must be followed by a space or the end of the line");
  }

  FtpCommand command;
  command.verb.reserve(verb_end);
  for (std::size_t i = 0; i < verb_end; ++i) command.verb.push_back(ascii_upper(line[i]));

  std::size_t arg_start = verb_end;
  while (arg_start < line.size() && line[arg_start] == ' ') ++arg_start;
  const std::string_view argument = line.substr(arg_start);
  // SECURITY: a NUL would truncate the argument when it becomes a C string for a system call, so
  // the name checked by policy could differ from the name used.
  if (argument.find('\0') != std::string_view::npos) return make_error("NUL byte in command argument");
  command.argument.assign(argument);
  command.has_argument = !argument.empty();
  return command;
}

}  // namespace wftpd
