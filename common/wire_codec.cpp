#include "common/wire_codec.hpp"

#include <cassert>
#include <limits>

namespace wftpd {

void WireWriter::bytes(std::string_view value) {
  assert(value.size() <= std::numeric_limits<std::uint16_t>::max());
  u16(static_cast<std::uint16_t>(value.size()));
  out_.append(value);
}

Result<std::uint8_t> WireReader::u8() {
  if (in_.empty()) return make_error("message truncated");
  const auto value = static_cast<std::uint8_t>(in_.front());
  in_.remove_prefix(1);
  return value;
}

Result<std::uint16_t> WireReader::u16() {
  if (in_.size() < 2) return make_error("message truncated");
  const auto value = static_cast<std::uint16_t>((static_cast<std::uint8_t>(in_[0]) << 8) |
                                                static_cast<std::uint8_t>(in_[1]));
  in_.remove_prefix(2);
  return value;
}

Result<std::uint32_t> WireReader::u32() {
  auto high = u16();
  if (!high) return high.error();
  auto low = u16();
  if (!low) return low.error();
  return (static_cast<std::uint32_t>(*high) << 16) | *low;
}

Result<std::uint64_t> WireReader::u64() {
  auto high = u32();
  if (!high) return high.error();
  auto low = u32();
  if (!low) return low.error();
  return (static_cast<std::uint64_t>(*high) << 32) | *low;
}

Result<std::string> WireReader::bytes(std::size_t max_length) {
  auto length = u16();
  if (!length) return length.error();
  // SECURITY: the bound is checked before anything is copied; a length is never trusted.
  if (*length > max_length) return make_error("field longer than its bound");
  if (*length > in_.size()) return make_error("message truncated");
  std::string value(in_.substr(0, *length));
  in_.remove_prefix(*length);
  return value;
}

}  // namespace wftpd
