// Moving bytes over an established (non-blocking) data connection: files out (sendfile, or
// converted for TYPE A), files in, and generated text (listings). Each transfer watches the
// control connection for ABOR and ends when the data connection stalls past the timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "unpriv/ascii_transfer.hpp"
#include "unpriv/transfer_pace.hpp"

namespace wftpd {

class TlsStream;

// A data connection as a transfer sees it: the socket, and under PROT P the TLS stream on it.
struct DataChannel {
  int fd = -1;
  TlsStream* tls = nullptr;
};

enum class TransferResult {
  kComplete,
  kAborted,      // the client sent ABOR (or closed the control connection): 426, then 226
  kPeerFailed,   // the data connection broke or stalled past the data timeout: 426
  kLocalFailed,  // reading or writing the file failed: 451 (or 452/552 for space)
  kTruncated,    // PROT P: the data connection ended without TLS close_notify: 426
  kOverLimit,    // an upload would have written past its write limit (a quota): 552
};

struct TransferOutcome {
  TransferResult result = TransferResult::kComplete;
  int error_number = 0;
  unsigned long long bytes = 0;
};

// What a transfer watches besides its data connection: the control connection, for ABOR.
struct TransferWatch {
  int control_fd = -1;                       // polled together with the data socket
  std::function<bool()> abort_requested;     // reads the control connection without blocking
  std::function<bool()> input_backlogged;    // true: the control connection is not read now
  std::chrono::milliseconds stall_timeout{300000};
  std::function<void(unsigned long long)> progress;  // bytes moved so far; may be empty
  // A rate limit (send_file, receive_file): steps of pace->step() bytes, each followed by the
  // pause it asks for, during which only the control connection is watched (a pause is not a
  // stall). Null: no limit, and no clock is read.
  TransferPace* pace = nullptr;
};

// `encoder`: TYPE A only, the state to start from (a download restarted part-way).
TransferOutcome send_file(const DataChannel& data, int file_fd, bool ascii,
                          const TransferWatch& watch, AsciiEncoder encoder = {});
// With `durable`, writeback of the received data is started every few MiB while the upload
// runs, so the fsync that ends an atomic upload has little left to wait for.
// Under TLS, only a close_notify ends an upload as complete; a bare end of the connection is
// kTruncated (the client or an attacker cut it short).
// `decoder`: TYPE A only, the state to start from (an upload restarted part-way).
// `write_limit`: the bytes the file may receive (after TYPE A conversion); data that would go
// beyond it is not written and the transfer ends as kOverLimit.
inline constexpr unsigned long long kNoWriteLimit = ~0ull;
TransferOutcome receive_file(const DataChannel& data, int file_fd, bool ascii, bool durable,
                             const TransferWatch& watch, AsciiDecoder decoder = {},
                             unsigned long long write_limit = kNoWriteLimit);
TransferOutcome send_text(const DataChannel& data, std::string_view text,
                          const TransferWatch& watch);

}  // namespace wftpd
