#include "unpriv/data_transfer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <span>

#include "unpriv/ascii_transfer.hpp"
#include "common/tls_stream.hpp"

namespace wftpd {
namespace {

// Data sockets arrive non-blocking from the monitor. Every wait goes through wait_ready(), which
// also watches the control connection (for ABOR) and ends a transfer that stalls longer than
// the watch's timeout.
constexpr std::size_t kSendfileChunk = 1u << 20;
constexpr std::size_t kBufferSize = 256u << 10;
constexpr unsigned long long kWritebackStep = 8ull << 20;
// Under TLS the data socket is not polled while records keep coming, so ABOR is looked for
// every this many bytes.
constexpr unsigned long long kAbortCheckStep = 1ull << 20;

TransferOutcome failed(TransferResult result, int error_number, unsigned long long bytes) {
  return TransferOutcome{result, error_number, bytes};
}

bool abort_requested(const TransferWatch& watch) {
  return watch.abort_requested && watch.abort_requested();
}

void report_progress(const TransferWatch& watch, unsigned long long total) {
  if (watch.progress) watch.progress(total);
}

enum class Wake { kReady, kControl, kStalled, kError };

Wake wait_ready(int data_fd, short events, const TransferWatch& watch, bool watch_control) {
  pollfd fds[2] = {{data_fd, events, 0}, {watch.control_fd, POLLIN, 0}};
  const nfds_t count = watch_control && watch.control_fd >= 0 ? 2 : 1;
  for (;;) {
    const int n = ::poll(fds, count, static_cast<int>(watch.stall_timeout.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Wake::kError;
    }
    if (n == 0) return Wake::kStalled;
    if (count == 2 && fds[1].revents != 0) return Wake::kControl;
    return Wake::kReady;
  }
}

// Waits for `events` on the data socket, at most the stall timeout in all (control input does
// not extend it). Returns kComplete when ready; otherwise the outcome that ends the transfer.
// Control input that is not ABOR is consumed (queued, or kept as a partial line) on the way;
// once the queue is full, only the data socket is watched.
TransferOutcome await(int data_fd, short events, const TransferWatch& watch,
                      unsigned long long total) {
  const auto deadline = std::chrono::steady_clock::now() + watch.stall_timeout;
  bool watch_control = true;
  for (;;) {
    TransferWatch remaining = watch;
    remaining.stall_timeout = std::max(std::chrono::milliseconds(0),
                                       std::chrono::duration_cast<std::chrono::milliseconds>(
                                           deadline - std::chrono::steady_clock::now()));
    switch (wait_ready(data_fd, events, remaining, watch_control)) {
      case Wake::kReady:
        return TransferOutcome{TransferResult::kComplete, 0, total};
      case Wake::kControl: {
        if (abort_requested(watch)) return failed(TransferResult::kAborted, 0, total);
        watch_control = !(watch.input_backlogged && watch.input_backlogged());
        continue;
      }
      case Wake::kStalled:
        return failed(TransferResult::kPeerFailed, ETIMEDOUT, total);
      case Wake::kError:
        return failed(TransferResult::kPeerFailed, errno, total);
    }
  }
}

// After a step of a rate-limited transfer: waits out the pause `delay`, watching the control
// connection (ABOR ends the transfer; other input is consumed as await() does). The pause never
// counts toward the stall timeout: the data connection is not waited for.
TransferOutcome pause(std::chrono::nanoseconds delay, const TransferWatch& watch,
                      unsigned long long total) {
  if (delay.count() <= 0) return TransferOutcome{TransferResult::kComplete, 0, total};
  const auto until = std::chrono::steady_clock::now() + delay;
  bool watch_control = watch.control_fd >= 0;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return TransferOutcome{TransferResult::kComplete, 0, total};
    pollfd control{watch.control_fd, POLLIN, 0};
    const int n = ::poll(&control, watch_control ? 1 : 0, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed(TransferResult::kPeerFailed, errno, total);
    }
    if (n == 0) continue;
    if (abort_requested(watch)) return failed(TransferResult::kAborted, 0, total);
    watch_control = !(watch.input_backlogged && watch.input_backlogged());
  }
}

// `bytes` moved in a step: the rate limit's pause, if there is one.
TransferOutcome pace_step(unsigned long long bytes, const TransferWatch& watch,
                          unsigned long long total) {
  if (watch.pace == nullptr) return TransferOutcome{TransferResult::kComplete, 0, total};
  return pause(watch.pace->moved(bytes), watch, total);
}

std::size_t step_size(const TransferWatch& watch, std::size_t largest) {
  return watch.pace == nullptr ? largest : watch.pace->step(largest);
}

// Writes all of `bytes` to the (non-blocking) data connection.
TransferOutcome write_to_peer(const DataChannel& data, std::string_view bytes,
                              const TransferWatch& watch, unsigned long long total) {
  while (!bytes.empty()) {
    short wait_for = POLLOUT;
    if (data.tls != nullptr) {
      const TlsStream::Io io = data.tls->write(bytes);
      if (io.status == TlsStream::Status::kDone) {
        bytes.remove_prefix(io.bytes);
        total += io.bytes;
        continue;
      }
      if (io.status != TlsStream::Status::kWantRead && io.status != TlsStream::Status::kWantWrite) {
        return failed(TransferResult::kPeerFailed, EPIPE, total);
      }
      if (io.status == TlsStream::Status::kWantRead) wait_for = POLLIN;
    } else {
      const ssize_t n = ::write(data.fd, bytes.data(), bytes.size());
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        total += static_cast<unsigned long long>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return failed(TransferResult::kPeerFailed, errno, total);
    }
    TransferOutcome ready = await(data.fd, wait_for, watch, total);
    if (ready.result != TransferResult::kComplete) return ready;
  }
  return TransferOutcome{TransferResult::kComplete, 0, total};
}

// One read from the data connection: bytes (0 at a clean end), or the outcome that ends the
// transfer. Waits (watching for ABOR) when nothing is ready.
struct PeerRead {
  bool ended = false;          // `outcome` ends the transfer
  TransferOutcome outcome;
  std::size_t bytes = 0;
};

PeerRead read_from_peer(const DataChannel& data, std::span<char> buffer, const TransferWatch& watch,
                        unsigned long long total) {
  // Bounded: each turn reads, or waits at most the stall timeout.
  for (;;) {
    if (data.tls != nullptr) {
      const TlsStream::Io io = data.tls->read(buffer);
      switch (io.status) {
        case TlsStream::Status::kDone:
          return PeerRead{false, {}, io.bytes};
        case TlsStream::Status::kClosed:
          return PeerRead{false, {}, 0};
        case TlsStream::Status::kTruncated:
          return PeerRead{true, failed(TransferResult::kTruncated, ECONNRESET, total), 0};
        case TlsStream::Status::kError:
          return PeerRead{true, failed(TransferResult::kPeerFailed, EPROTO, total), 0};
        case TlsStream::Status::kWantRead:
        case TlsStream::Status::kWantWrite: {
          const short events = io.status == TlsStream::Status::kWantRead ? POLLIN : POLLOUT;
          TransferOutcome ready = await(data.fd, events, watch, total);
          if (ready.result != TransferResult::kComplete) return PeerRead{true, ready, 0};
          continue;
        }
      }
    }
    // Wait for data or for the client's ABOR: a client that aborts stops sending.
    TransferOutcome ready = await(data.fd, POLLIN, watch, total);
    if (ready.result != TransferResult::kComplete) return PeerRead{true, ready, 0};
    const ssize_t n = ::read(data.fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return PeerRead{true, failed(TransferResult::kPeerFailed, errno, total), 0};
    }
    return PeerRead{false, {}, static_cast<std::size_t>(n)};
  }
}

}  // namespace

TransferOutcome send_file(const DataChannel& data, int file_fd, bool ascii,
                          const TransferWatch& watch, AsciiEncoder encoder) {
  const int data_fd = data.fd;
  unsigned long long total = 0;
  unsigned long long next_abort_check = kAbortCheckStep;
  if (!ascii && data.tls == nullptr) {
    const std::size_t chunk = step_size(watch, kSendfileChunk);
    for (;;) {
      if (abort_requested(watch)) return failed(TransferResult::kAborted, 0, total);
      const ssize_t n = ::sendfile(data_fd, file_fd, nullptr, chunk);
      if (n > 0) {
        total += static_cast<unsigned long long>(n);
        report_progress(watch, total);
        TransferOutcome paced = pace_step(static_cast<unsigned long long>(n), watch, total);
        if (paced.result != TransferResult::kComplete) return paced;
        continue;
      }
      if (n == 0) return TransferOutcome{TransferResult::kComplete, 0, total};
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        TransferOutcome ready = await(data_fd, POLLOUT, watch, total);
        if (ready.result != TransferResult::kComplete) return ready;
        continue;
      }
      // EINVAL/ENOSYS: a file system without sendfile support; fall back to copying.
      if ((errno == EINVAL || errno == ENOSYS) && total == 0) break;
      const bool local = errno == EIO || errno == EISDIR || errno == EINVAL;
      return failed(local ? TransferResult::kLocalFailed : TransferResult::kPeerFailed, errno, total);
    }
  }
  auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);  // no zeroing: read() fills it
  const std::size_t chunk_size = step_size(watch, kBufferSize);
  for (;;) {
    // Plain sockets: every 256 KiB; under TLS (records flow without polling) every MiB.
    if (data.tls == nullptr || total >= next_abort_check) {
      next_abort_check = total + kAbortCheckStep;
      if (abort_requested(watch)) return failed(TransferResult::kAborted, 0, total);
    }
    const ssize_t n = ::read(file_fd, buffer.get(), chunk_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed(TransferResult::kLocalFailed, errno, total);
    }
    if (n == 0) return TransferOutcome{TransferResult::kComplete, 0, total};
    const std::string_view chunk(buffer.get(), static_cast<std::size_t>(n));
    TransferOutcome step = ascii ? write_to_peer(data, encoder.encode(chunk), watch, total)
                                 : write_to_peer(data, chunk, watch, total);
    if (step.result != TransferResult::kComplete) return step;
    // The limit counts what the data connection carried (TYPE A: with the CRs added).
    const unsigned long long carried = step.bytes - total;
    total = step.bytes;
    report_progress(watch, total);
    TransferOutcome paced = pace_step(carried, watch, total);
    if (paced.result != TransferResult::kComplete) return paced;
  }
}

TransferOutcome receive_file(const DataChannel& data, int file_fd, bool ascii, bool durable,
                             const TransferWatch& watch, AsciiDecoder decoder,
                             unsigned long long write_limit) {
  unsigned long long total = 0;
  unsigned long long written = 0;  // bytes written to the file
  unsigned long long flushed = 0;  // bytes whose writeback has been started
  unsigned long long next_abort_check = kAbortCheckStep;
  auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);  // no zeroing: read() fills it
  const std::size_t chunk_size = step_size(watch, kBufferSize);
  for (;;) {
    if (data.tls != nullptr && total >= next_abort_check) {
      next_abort_check = total + kAbortCheckStep;
      if (abort_requested(watch)) return failed(TransferResult::kAborted, 0, total);
    }
    const PeerRead got = read_from_peer(data, std::span<char>(buffer.get(), chunk_size), watch, total);
    if (got.ended) return got.outcome;
    const std::size_t n = got.bytes;
    std::string converted;
    std::string_view chunk(buffer.get(), n);
    if (ascii) {
      converted = n == 0 ? decoder.finish() : decoder.decode(chunk);
      chunk = converted;
    }
    // Stopped before the write that would go beyond the limit: nothing past it reaches the file.
    if (chunk.size() > write_limit - written) return failed(TransferResult::kOverLimit, 0, total);
    while (!chunk.empty()) {
      const ssize_t w = ::write(file_fd, chunk.data(), chunk.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        return failed(TransferResult::kLocalFailed, errno, total);
      }
      chunk.remove_prefix(static_cast<std::size_t>(w));
      written += static_cast<unsigned long long>(w);
    }
    if (durable && written - flushed >= kWritebackStep) {
      // Start writing this range to disk now (asynchronously); errors surface at fsync.
      ::sync_file_range(file_fd, static_cast<off_t>(flushed), static_cast<off_t>(written - flushed),
                        SYNC_FILE_RANGE_WRITE);
      flushed = written;
    }
    total += n;
    if (n == 0) return TransferOutcome{TransferResult::kComplete, 0, total};
    report_progress(watch, total);
    TransferOutcome paced = pace_step(n, watch, total);
    if (paced.result != TransferResult::kComplete) return paced;
  }
}

TransferOutcome send_text(const DataChannel& data, std::string_view text,
                          const TransferWatch& watch) {
  return write_to_peer(data, text, watch, 0);
}

}  // namespace wftpd
