#include "unpriv/ascii_transfer.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>

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

namespace {

constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
constexpr std::uint64_t kLowBytes = 0x00ff00ff00ff00ffull;

// 0x80 in each byte of `word` equal to `c`, 0 in the others (exact: no carries between bytes).
std::uint64_t bytes_equal(std::uint64_t word, unsigned char c) {
  const std::uint64_t t = word ^ (0x0101010101010101ull * c);
  return ~(((t & kLow7) + kLow7) | t | kLow7);
}

// The sum of the eight byte lanes of `lanes`.
std::uint64_t lane_sum(std::uint64_t lanes) {
  const std::uint64_t pairs = (lanes & kLowBytes) + ((lanes >> 8) & kLowBytes);
  return (pairs * 0x0001000100010001ull) >> 48;
}

}  // namespace

std::size_t AsciiOctetCounter::feed(std::string_view chunk) {
  std::size_t at = 0;
  // Eight bytes at a time while they cannot reach the stop (at most 16 octets a word): an LF
  // not preceded by a CR (in the word, or the byte before it) adds the CR sent before it.
  // Word arithmetic rather than memchr, so the cost per byte is the same however dense the LFs.
  for (;;) {
    const std::size_t words = static_cast<std::size_t>(
        std::min<std::uint64_t>((chunk.size() - at) / 8, (stop_at_ - octets_) / 16));
    if (words == 0) break;
    std::uint64_t inserted = 0;
    std::uint64_t lanes = 0;  // inserted CRs per byte lane, summed before one can pass 255
    for (std::size_t i = 0; i < words; ++i, at += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, chunk.data() + at, sizeof(word));
      const std::uint64_t lf = bytes_equal(word, '\n');
      const std::uint64_t cr = bytes_equal(word, '\r');
      std::uint64_t cr_before = 0;  // 0x80 in the lanes whose previous byte is a CR
      if constexpr (std::endian::native == std::endian::little) {
        cr_before = (cr << 8) | (last_was_cr_ ? 0x80u : 0u);
        last_was_cr_ = (cr >> 63) != 0;
      } else {
        cr_before = (cr >> 8) | (last_was_cr_ ? 0x80ull << 56 : 0u);
        last_was_cr_ = (cr & 0x80u) != 0;
      }
      lanes += (lf & ~cr_before) >> 7;
      if (i % 255 == 254) {
        inserted += lane_sum(lanes);
        lanes = 0;
      }
    }
    inserted += lane_sum(lanes);
    octets_ += 8 * static_cast<std::uint64_t>(words) + inserted;
    file_bytes_ += 8 * static_cast<std::uint64_t>(words);
  }
  // The rest one byte at a time: fewer than 8 bytes of the chunk, or fewer than 16 octets
  // before the stop.
  for (; at < chunk.size() && octets_ < stop_at_; ++at) {
    const char c = chunk[at];
    if (c == '\n' && !last_was_cr_) {
      if (stop_at_ - octets_ == 1) {
        octets_ += 1;  // the inserted CR only: the LF is next
        last_was_cr_ = true;
        inside_line_end_ = true;
        break;
      }
      octets_ += 1;  // the inserted CR
    }
    octets_ += 1;
    file_bytes_ += 1;
    last_was_cr_ = c == '\r';
  }
  return at;
}

Result<void> count_ascii_octets(int fd, std::uint64_t file_size, AsciiOctetCounter& counter) {
  constexpr std::size_t kChunk = 256u << 10;
  if (::lseek(fd, 0, SEEK_SET) < 0) return system_error("lseek", errno);
  auto buffer = std::make_unique_for_overwrite<char[]>(kChunk);  // no zeroing: read() fills it
  std::uint64_t left = file_size;
  while (left > 0 && !counter.reached()) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunk));
    const ssize_t n = ::read(fd, buffer.get(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("read", errno);
    }
    if (n == 0) break;  // the file shrank meanwhile
    counter.feed(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    left -= static_cast<std::uint64_t>(n);
  }
  return ok_result();
}

}  // namespace wftpd
