// Helpers shared by the fuzz targets (harness code only, never linked into the daemon).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

// A harness invariant: unlike assert() it is never compiled out, and it names the violated
// condition before aborting so libFuzzer records the input as a crash.
#define FUZZ_CHECK(condition)                                                              \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

namespace wftpd::fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Consumes bytes from the front of the input for harness decisions.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : rest_(as_view(data, size)) {}

  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    const auto value = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }
  template <class Int>
  Int integer() {
    using U = std::make_unsigned_t<Int>;
    U value = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i) value = static_cast<U>((value << 8) | byte());
    return static_cast<Int>(value);
  }
  std::string_view take(std::size_t n) {
    const std::string_view head = rest_.substr(0, n);
    rest_.remove_prefix(head.size());
    return head;
  }
  std::string_view rest() const { return rest_; }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Splits at the first NUL (dropped) or, without one, in the middle.
inline std::pair<std::string_view, std::string_view> split_two(std::string_view text) {
  const std::size_t nul = text.find('\0');
  if (nul != std::string_view::npos) return {text.substr(0, nul), text.substr(nul + 1)};
  return {text.substr(0, text.size() / 2), text.substr(text.size() / 2)};
}

// Splits at the first NUL (dropped); without one, everything is the first part.
inline std::pair<std::string_view, std::string_view> split_nul(std::string_view text) {
  const std::size_t nul = text.find('\0');
  if (nul == std::string_view::npos) return {text, {}};
  return {text.substr(0, nul), text.substr(nul + 1)};
}

}  // namespace wftpd::fuzz
