// The thin layer over read/write/poll for stream sockets and files. Every failure names the call.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

// Writes all of `data`, retrying on EINTR and short writes. MSG_NOSIGNAL semantics for sockets
// are the caller's business (SIGPIPE is ignored in every role).
Result<void> write_all(int fd, std::string_view data);

// Reads at most `buffer.size()` bytes; returns 0 at end of file. Retries on EINTR.
Result<std::size_t> read_some(int fd, std::span<char> buffer);

enum class Readiness { kReady, kTimeout };

// Waits until `fd` is readable (or has an error/hang-up), at most `timeout` (negative: forever).
Result<Readiness> wait_readable(int fd, std::chrono::milliseconds timeout);

// Reads a whole regular file (from offset 0, with pread) that is already open, refusing more
// than `max_bytes`.
Result<std::string> read_whole_fd(int fd, std::size_t max_bytes);

// Escapes bytes that must never reach a log line raw (control bytes, non-ASCII, backslash),
// and truncates to `max_bytes` of input.
std::string escape_for_log(std::string_view text, std::size_t max_bytes = 256);

}  // namespace wftpd
