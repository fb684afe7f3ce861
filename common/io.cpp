#include "common/io.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace wftpd {

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("write", errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_result();
}

Result<std::size_t> read_some(int fd, std::span<char> buffer) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    return system_error("read", errno);
  }
}

Result<Readiness> wait_readable(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = left.count() > 0 ? static_cast<int>(std::min<long long>(left.count(), 1 << 30)) : 0;
    }
    pollfd pfd{fd, POLLIN, 0};
    const int n = ::poll(&pfd, 1, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("poll", errno);
    }
    if (n == 0) return Readiness::kTimeout;
    return Readiness::kReady;
  }
}

Result<std::string> read_whole_fd(int fd, std::size_t max_bytes) {
  std::string content;
  char buffer[16384];
  // pread from offset 0: the descriptor may share its file offset with other processes (the
  // configuration memfd is one open file shared by every monitor).
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer), static_cast<off_t>(content.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("pread", errno);
    }
    if (n == 0) return content;
    if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
      return make_error("file is larger than " + std::to_string(max_bytes) + " bytes");
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string escape_for_log(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const bool truncated = text.size() > max_bytes;
  if (truncated) text = text.substr(0, max_bytes);
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    // SECURITY: client bytes never reach the log raw, so they cannot forge log lines or
    // terminal escapes.
    if (byte < 0x20 || byte >= 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (truncated) out += "...";
  return out;
}

}  // namespace wftpd
