// TYPE A (ASCII) conversion for data transfers, streaming: chunk boundaries may fall anywhere,
// including between the CR and LF of a CRLF pair.
#pragma once

#include <string>
#include <string_view>

namespace wftpd {

// File -> network: every LF not already preceded by CR becomes CRLF. Existing CRLF pairs (also
// split across chunks) are left alone, so encoding a file that already uses CRLF changes nothing.
class AsciiEncoder {
 public:
  std::string encode(std::string_view chunk);

 private:
  bool last_was_cr_ = false;  // last byte of the previous chunk was CR
};

// Network -> file: CRLF becomes LF; a CR not followed by LF is kept. A CR at the end of a chunk is
// held back until the next chunk shows whether an LF follows, or until finish().
class AsciiDecoder {
 public:
  std::string decode(std::string_view chunk);
  // Returns what is still held back (a lone CR at the very end of the stream) and resets.
  std::string finish();

 private:
  bool held_cr_ = false;
};

}  // namespace wftpd
