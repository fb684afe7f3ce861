// parse_command on one control line, then the reply formatting that echoes client text.
//
// Checks: a parsed verb is 1..8 upper-case ASCII letters; the argument holds no NUL and is a
// suffix of the line; format_reply/format_multiline_reply with client text contain exactly one
// CRLF per line they add (so client text can never end a reply early); quote_pathname doubles
// quotes and adds no line break; multi-line replies cannot be ended early by client text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/reply.hpp"

namespace {

std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// Exactly one CRLF, at the end, and no other LF.
void check_one_line(std::string_view reply) {
  FUZZ_CHECK(reply.size() >= 2);
  FUZZ_CHECK(reply.ends_with("\r\n"));
  FUZZ_CHECK(count(reply, "\r\n") == 1);
  FUZZ_CHECK(count(reply, "\n") == 1);
}

void check_reply(int code, std::string_view text) {
  const std::string reply = wftpd::format_reply(code, text);
  check_one_line(reply);
  FUZZ_CHECK(reply.substr(0, 4) == std::to_string(code) + " ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line = wftpd::fuzz::as_view(data, size);
  auto parsed = wftpd::parse_command(line);
  if (parsed) {
    const wftpd::FtpCommand& command = *parsed;
    FUZZ_CHECK(!command.verb.empty() && command.verb.size() <= wftpd::kMaxVerbLength);
    for (const char c : command.verb) FUZZ_CHECK(c >= 'A' && c <= 'Z');
    FUZZ_CHECK(command.argument.find('\0') == std::string::npos);
    FUZZ_CHECK(line.ends_with(command.argument));
    if (!command.has_argument) {
      FUZZ_CHECK(command.argument.find_first_not_of(' ') == std::string::npos);
    }

    check_reply(500, command.argument);
    check_reply(550, command.verb + " " + command.argument);

    const std::string quoted = wftpd::quote_pathname(command.argument);
    FUZZ_CHECK(quoted.size() == command.argument.size() + 2 + count(command.argument, "\""));
    FUZZ_CHECK(quoted.front() == '"' && quoted.back() == '"');
    // A 257 reply carrying the quoted path is still exactly one line.
    check_reply(257, quoted + " created.");

    // Multi-line replies built from client text: one CRLF per line, first "211-", last "211 ",
    // and no middle line starts with a digit (it could pass for the final line otherwise).
    const std::vector<std::string> lines = {command.argument, command.argument, command.verb,
                                            command.argument};
    const std::string multi = wftpd::format_multiline_reply(211, lines);
    FUZZ_CHECK(count(multi, "\r\n") == lines.size());
    FUZZ_CHECK(count(multi, "\n") == lines.size());
    FUZZ_CHECK(multi.starts_with("211-") && multi.ends_with("\r\n"));
    std::size_t start = multi.find("\r\n") + 2;
    for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
      FUZZ_CHECK(start < multi.size());
      FUZZ_CHECK(multi[start] < '0' || multi[start] > '9');
      start = multi.find("\r\n", start) + 2;
    }
    FUZZ_CHECK(multi.compare(start, 4, "211 ") == 0);
  } else {
    // Rejected lines are echoed nowhere, but the reply text path must cope with anything.
    check_reply(500, line);
  }
  return 0;
}
