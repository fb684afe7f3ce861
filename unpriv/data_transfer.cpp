#include "unpriv/data_transfer.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "common/io.hpp"
#include "unpriv/ascii_transfer.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kSendfileChunk = 1u << 20;
constexpr std::size_t kBufferSize = 256u << 10;
constexpr unsigned long long kWritebackStep = 8ull << 20;

TransferOutcome failed(TransferResult result, int error_number, unsigned long long bytes) {
  return TransferOutcome{result, error_number, bytes};
}

// Data sockets carry SO_SNDTIMEO/SO_RCVTIMEO (set by the monitor): a stalled peer shows up
// as EAGAIN here and ends the transfer.
TransferOutcome write_to_peer(int data_fd, std::string_view bytes, unsigned long long total) {
  auto written = write_all(data_fd, bytes);
  if (!written) return failed(TransferResult::kPeerFailed, errno, total);
  return TransferOutcome{TransferResult::kComplete, 0, total + bytes.size()};
}

}  // namespace

TransferOutcome send_file(int data_fd, int file_fd, bool ascii) {
  unsigned long long total = 0;
  if (!ascii) {
    for (;;) {
      const ssize_t n = ::sendfile(data_fd, file_fd, nullptr, kSendfileChunk);
      if (n > 0) {
        total += static_cast<unsigned long long>(n);
        continue;
      }
      if (n == 0) return TransferOutcome{TransferResult::kComplete, 0, total};
      if (errno == EINTR) continue;
      // EINVAL/ENOSYS: a file system without sendfile support; fall back to copying.
      if ((errno == EINVAL || errno == ENOSYS) && total == 0) break;
      const bool local = errno == EIO || errno == EISDIR || errno == EINVAL;
      return failed(local ? TransferResult::kLocalFailed : TransferResult::kPeerFailed, errno, total);
    }
  }
  auto buffer = std::make_unique<char[]>(kBufferSize);
  AsciiEncoder encoder;
  for (;;) {
    const ssize_t n = ::read(file_fd, buffer.get(), kBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed(TransferResult::kLocalFailed, errno, total);
    }
    if (n == 0) return TransferOutcome{TransferResult::kComplete, 0, total};
    const std::string_view chunk(buffer.get(), static_cast<std::size_t>(n));
    TransferOutcome step = ascii ? write_to_peer(data_fd, encoder.encode(chunk), total)
                                 : write_to_peer(data_fd, chunk, total);
    if (step.result != TransferResult::kComplete) return step;
    total = step.bytes;
  }
}

TransferOutcome receive_file(int data_fd, int file_fd, bool ascii, bool durable) {
  unsigned long long total = 0;
  unsigned long long written = 0;       // bytes written to the file
  unsigned long long flushed = 0;       // bytes whose writeback has been started
  auto buffer = std::make_unique<char[]>(kBufferSize);
  AsciiDecoder decoder;
  for (;;) {
    const ssize_t n = ::read(data_fd, buffer.get(), kBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed(TransferResult::kPeerFailed, errno, total);
    }
    std::string converted;
    std::string_view chunk(buffer.get(), static_cast<std::size_t>(n));
    if (ascii) {
      converted = n == 0 ? decoder.finish() : decoder.decode(chunk);
      chunk = converted;
    }
    if (!chunk.empty()) {
      auto result = write_all(file_fd, chunk);
      if (!result) return failed(TransferResult::kLocalFailed, errno, total);
      written += chunk.size();
    }
    if (durable && written - flushed >= kWritebackStep) {
      // Start writing this range to disk now (asynchronously); errors surface at fsync.
      ::sync_file_range(file_fd, static_cast<off_t>(flushed), static_cast<off_t>(written - flushed),
                        SYNC_FILE_RANGE_WRITE);
      flushed = written;
    }
    total += static_cast<unsigned long long>(n);
    if (n == 0) return TransferOutcome{TransferResult::kComplete, 0, total};
  }
}

TransferOutcome send_text(int data_fd, std::string_view text) {
  return write_to_peer(data_fd, text, 0);
}

}  // namespace wftpd
