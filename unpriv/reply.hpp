// Formatting of control-connection replies (RFC 959 section 4.2).
//
// SECURITY: reply text often contains client input or file names. To make sure such text can
// never end a reply early or forge another one, every CR in the text is sent as CR NUL and every
// LF as NUL (RFC 959's encoding of CR in pathnames, extended to LF). The only line breaks that
// reach the wire are the CRLFs these functions add themselves.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace wftpd {

// "226 text\r\n". code must be in 100..599 (a violation is a programming error: assert, and
// abort in builds without assertions rather than sending a malformed reply).
std::string format_reply(int code, std::string_view text);

// Multi-line reply: "211-first\r\n", middle lines as given, "211 last\r\n". A middle line that
// starts with a digit gets a leading space so a client cannot mistake it for the final line.
// With one line this is the single-line form; with none it is format_reply(code, "").
std::string format_multiline_reply(int code, std::span<const std::string> lines);

// Quotes a pathname for a 257 reply: "\"" + path with every '"' doubled + "\"" (RFC 959 appendix II).
std::string quote_pathname(std::string_view path);

// Appends `text` to `out` with the CR/LF encoding described above (exposed for callers that build
// reply text in pieces, and for tests).
void append_reply_text(std::string& out, std::string_view text);

}  // namespace wftpd
