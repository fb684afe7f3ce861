#include "unpriv/reply.hpp"

#include <cassert>
#include <cstdlib>

namespace wftpd {

namespace {

void append_code(std::string& out, int code) {
  assert(code >= 100 && code <= 599);
  // Also checked without assertions: a reply code of the wrong width would desynchronise the
  // client's parser, and the code never comes from the peer, so this can only be a bug.
  if (code < 100 || code > 599) std::abort();
  out.push_back(static_cast<char>('0' + code / 100));
  out.push_back(static_cast<char>('0' + code / 10 % 10));
  out.push_back(static_cast<char>('0' + code % 10));
}

bool starts_with_digit(std::string_view s) { return !s.empty() && s.front() >= '0' && s.front() <= '9'; }

}  // namespace

void append_reply_text(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\r') {
      // SECURITY: CR NUL is not a line break for any client, so the reply line stays one line.
      out.push_back('\r');
      out.push_back('\0');
    } else if (c == '\n') {
      out.push_back('\0');  // SECURITY: a bare LF would end the line for most clients
    } else {
      out.push_back(c);
    }
  }
}

std::string format_reply(int code, std::string_view text) {
  std::string out;
  out.reserve(text.size() + 6);
  append_code(out, code);
  out.push_back(' ');
  append_reply_text(out, text);
  out += "\r\n";
  return out;
}

std::string format_multiline_reply(int code, std::span<const std::string> lines) {
  if (lines.empty()) return format_reply(code, "");
  if (lines.size() == 1) return format_reply(code, lines.front());

  std::string out;
  append_code(out, code);
  out.push_back('-');
  append_reply_text(out, lines.front());
  out += "\r\n";
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    // SECURITY: a middle line such as "226 done" would otherwise end the reply for the client.
    if (starts_with_digit(lines[i])) out.push_back(' ');
    append_reply_text(out, lines[i]);
    out += "\r\n";
  }
  append_code(out, code);
  out.push_back(' ');
  append_reply_text(out, lines.back());
  out += "\r\n";
  return out;
}

std::string quote_pathname(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 2);
  out.push_back('"');
  for (char c : path) {
    out.push_back(c);
    if (c == '"') out.push_back('"');  // RFC 959: embedded quotes are doubled
  }
  out.push_back('"');
  return out;
}

}  // namespace wftpd
