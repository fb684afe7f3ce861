// Moving bytes over an established data connection: files out (sendfile, or converted for
// TYPE A), files in, and generated text (listings).
#pragma once

#include <string_view>

namespace wftpd {

enum class TransferResult {
  kComplete,
  kPeerFailed,   // the data connection broke or stalled past the data timeout: 426
  kLocalFailed,  // reading or writing the file failed: 451 (or 452/552 for space)
};

struct TransferOutcome {
  TransferResult result = TransferResult::kComplete;
  int error_number = 0;
  unsigned long long bytes = 0;
};

TransferOutcome send_file(int data_fd, int file_fd, bool ascii);
// With `durable`, writeback of the received data is started every few MiB while the upload
// runs, so the fsync that ends an atomic upload has little left to wait for.
TransferOutcome receive_file(int data_fd, int file_fd, bool ascii, bool durable = false);
TransferOutcome send_text(int data_fd, std::string_view text);

}  // namespace wftpd
