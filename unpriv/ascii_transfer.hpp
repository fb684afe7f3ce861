// TYPE A (ASCII) conversion for data transfers, streaming: chunk boundaries may fall anywhere,
// including between the CR and LF of a CRLF pair. Also the octet counts of the TYPE A transfer
// representation of a file, for SIZE and REST in TYPE A (RFC 3659 sections 4 and 5).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

// File -> network: every LF not already preceded by CR becomes CRLF. Existing CRLF pairs (also
// split across chunks) are left alone, so encoding a file that already uses CRLF changes nothing.
class AsciiEncoder {
 public:
  AsciiEncoder() = default;
  // Resuming a download part-way (REST): `after_cr` says the last octet already sent was a CR
  // (one of the file's, or one inserted before an LF), so an LF that comes next is sent alone.
  explicit AsciiEncoder(bool after_cr) : last_was_cr_(after_cr) {}
  std::string encode(std::string_view chunk);

 private:
  bool last_was_cr_ = false;  // last byte of the previous chunk was CR
};

// Network -> file: CRLF becomes LF; a CR not followed by LF is kept. A CR at the end of a chunk is
// held back until the next chunk shows whether an LF follows, or until finish().
class AsciiDecoder {
 public:
  AsciiDecoder() = default;
  // Resuming an upload (REST) whose stored part ends with a CR octet whose fate the next octet
  // decides (the restart marker fell between the CR and the LF of a line end).
  explicit AsciiDecoder(bool held_cr) : held_cr_(held_cr) {}
  std::string decode(std::string_view chunk);
  // Returns what is still held back (a lone CR at the very end of the stream) and resets.
  std::string finish();

 private:
  bool held_cr_ = false;
};

// Counts the octets of the TYPE A transfer representation of a file fed to it in order -- by
// AsciiEncoder's rule: one octet a byte, two for an LF not preceded by CR -- and stops where
// that count reaches `stop_at` (a REST marker), possibly between an inserted CR and its LF.
// SIZE and REST in TYPE A both count here, so they always agree with what RETR sends.
class AsciiOctetCounter {
 public:
  explicit AsciiOctetCounter(std::uint64_t stop_at = std::numeric_limits<std::uint64_t>::max())
      : stop_at_(stop_at) {}
  // Counts the bytes of `chunk` up to the stop; returns how many bytes of it were counted.
  std::size_t feed(std::string_view chunk);
  bool reached() const { return octets_ == stop_at_; }
  std::uint64_t octets() const { return octets_; }          // transfer octets counted
  std::uint64_t file_bytes() const { return file_bytes_; }  // file bytes counted
  // The last octet counted is a CR: an encoder resuming here starts in this state.
  bool after_cr() const { return last_was_cr_; }
  // Stopped between an inserted CR and its LF: the LF (not counted in file_bytes) is next.
  bool inside_line_end() const { return inside_line_end_; }

 private:
  std::uint64_t stop_at_;
  std::uint64_t octets_ = 0;
  std::uint64_t file_bytes_ = 0;
  bool last_was_cr_ = false;
  bool inside_line_end_ = false;
};

// Where in a file a position of the transfer representation falls.
struct TransferPosition {
  std::uint64_t file_offset = 0;
  bool after_cr = false;         // TYPE A: see AsciiOctetCounter::after_cr()
  bool inside_line_end = false;  // TYPE A: see AsciiOctetCounter::inside_line_end()
};

// Feeds `counter` the first `file_size` bytes of the open regular file `fd` (from offset 0,
// read in 256 KiB chunks; the file offset is left anywhere) until it stops or the bytes end.
// Bounded by `file_size` however the file changes meanwhile.
Result<void> count_ascii_octets(int fd, std::uint64_t file_size, AsciiOctetCounter& counter);

}  // namespace wftpd
