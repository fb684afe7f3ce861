#include "unpriv/ascii_transfer.hpp"

namespace wftpd {

std::string AsciiEncoder::encode(std::string_view chunk) {
  std::string out;
  // At worst every byte is a bare LF and doubles.
  out.reserve(chunk.size() + chunk.size() / 8 + 1);
  for (char c : chunk) {
    if (c == '\n' && !last_was_cr_) out.push_back('\r');
    out.push_back(c);
    last_was_cr_ = c == '\r';
  }
  return out;
}

std::string AsciiDecoder::decode(std::string_view chunk) {
  std::string out;
  out.reserve(chunk.size() + 1);
  for (char c : chunk) {
    if (held_cr_) {
      held_cr_ = false;
      if (c == '\n') {
        out.push_back('\n');  // CRLF -> LF
        continue;
      }
      out.push_back('\r');  // a CR not followed by LF is data
    }
    if (c == '\r') {
      held_cr_ = true;  // decided by the next byte, which may be in the next chunk
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string AsciiDecoder::finish() {
  if (!held_cr_) return {};
  held_cr_ = false;
  return "\r";
}

}  // namespace wftpd
