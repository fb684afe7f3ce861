// Reading a new password for wardenftpd-passwd without it ever appearing in argv, on the
// screen, or in freed memory.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "common/password_hash.hpp"
#include "common/result.hpp"

namespace wftpd {

// A password held in a fixed buffer (never reallocated, so never copied behind our back) and
// wiped when it goes out of scope.
class SecretText {
 public:
  SecretText() = default;
  SecretText(const SecretText&) = delete;
  SecretText& operator=(const SecretText&) = delete;
  ~SecretText();

  // False, and nothing stored, once kMaxPasswordLength bytes are held.
  bool append(char c);
  void clear();
  std::string_view view() const { return std::string_view(bytes_.data(), size_); }

 private:
  std::array<char, kMaxPasswordLength> bytes_{};
  std::size_t size_ = 0;
};

// If stdin is a terminal: prompts on /dev/tty with echo off, twice, and requires both entries to
// match. Otherwise: reads exactly one line from stdin (without its newline). Either way the
// password must be non-empty and at most kMaxPasswordLength bytes.
Result<void> read_new_password(SecretText& out);

}  // namespace wftpd
