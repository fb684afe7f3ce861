// Explicit big-endian encoding of bounded fields, used by the monitor protocol.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

class WireWriter {
 public:
  // Room for `bytes` in all, so that writing secrets never reallocates (and leaves a copy behind).
  void reserve(std::size_t bytes) { out_.reserve(bytes); }
  void u8(std::uint8_t value) { out_ += static_cast<char>(value); }
  void u16(std::uint16_t value) {
    u8(static_cast<std::uint8_t>(value >> 8));
    u8(static_cast<std::uint8_t>(value));
  }
  void u32(std::uint32_t value) {
    u16(static_cast<std::uint16_t>(value >> 16));
    u16(static_cast<std::uint16_t>(value));
  }
  void u64(std::uint64_t value) {
    u32(static_cast<std::uint32_t>(value >> 32));
    u32(static_cast<std::uint32_t>(value));
  }
  // A length-prefixed (u16) byte string. Callers keep `value` within the field's bound; the
  // assertion catches programming errors, the decoder enforces the bound on input.
  void bytes(std::string_view value);
  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields from a received payload; never reads past it. Every getter fails on short input.
class WireReader {
 public:
  explicit WireReader(std::string_view input) : in_(input) {}
  Result<std::uint8_t> u8();
  Result<std::uint16_t> u16();
  Result<std::uint32_t> u32();
  Result<std::uint64_t> u64();
  // A length-prefixed byte string of at most `max_length` bytes.
  Result<std::string> bytes(std::size_t max_length);
  bool at_end() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace wftpd
