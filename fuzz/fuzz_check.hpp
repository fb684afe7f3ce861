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

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `out` must be zero or more complete, well-formed replies (RFC 959 4.2): CRLF-terminated lines;
// "DDD text", or "DDD-text" ... "DDD text" with the same code; codes 100..599; no LF inside a
// line and every CR inside a line followed by NUL (reply.hpp sends a CR in reply text as CR NUL
// and an LF as NUL, RFC 959's pathname encoding); no middle line of a multi-line reply starts
// with a digit (a lax client could take it for the final line).
inline void check_replies(std::string_view out) {
  int open_code = 0;  // code of an unfinished multi-line reply
  while (!out.empty()) {
    const std::size_t end = out.find("\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view line = out.substr(0, end);
    out.remove_prefix(end + 2);
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);  // no bare LF anywhere
    for (std::size_t cr = line.find('\r'); cr != std::string_view::npos; cr = line.find('\r', cr + 1)) {
      FUZZ_CHECK(cr + 1 < line.size() && line[cr + 1] == '\0');  // CR only as CR NUL
    }

    const bool has_code = line.size() >= 4 && is_digit(line[0]) && is_digit(line[1]) &&
                          is_digit(line[2]) && (line[3] == ' ' || line[3] == '-');
    const int code = has_code ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : 0;
    if (open_code == 0) {
      FUZZ_CHECK(has_code);
      FUZZ_CHECK(code >= 100 && code <= 599);
      if (line[3] == '-') open_code = code;
    } else if (has_code && code == open_code && line[3] == ' ') {
      open_code = 0;  // the final line of the multi-line reply
    } else {
      // A middle line: it must not look like the end of any reply to a lax client.
      FUZZ_CHECK(!is_digit(line.empty() ? ' ' : line[0]));
    }
  }
  FUZZ_CHECK(open_code == 0);
}

}  // namespace wftpd::fuzz
