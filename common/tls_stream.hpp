// One TLS server endpoint over a non-blocking socket: handshake with a deadline, record-level
// reads and writes that report what they wait for, and an orderly close_notify. Used by the
// pre-auth child for the control connection and by the post-auth child for data connections.
// Part of wftpd_tls: the session image built without TLS (common/tls_absent.cpp) has none of it.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/tls_context.hpp"

namespace wftpd {

class TlsStream {
 public:
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Makes `fd` non-blocking and runs the server handshake, waiting at most `timeout` in all.
  // The error says why a handshake failed (our refusal, or OpenSSL's reason).
  // `not_resumed` (optional) is set when the handshake failed because it was a fresh one on a
  // context without a certificate (the client did not resume the control session).
  static Result<std::unique_ptr<TlsStream>> accept(SSL_CTX* ctx, int fd,
                                                   std::chrono::milliseconds timeout,
                                                   bool* not_resumed = nullptr);

  enum class Status {
    kDone,       // `bytes` moved
    kWantRead,   // wait for the socket to be readable, then call again
    kWantWrite,  // wait for the socket to be writable, then call again
    kClosed,     // the peer sent close_notify: a clean end of stream
    kTruncated,  // the connection ended without close_notify
    kError,      // a TLS or socket error; see error()
  };
  struct Io {
    Status status;
    std::size_t bytes = 0;
  };
  Io read(std::span<char> buffer);
  Io write(std::string_view bytes);
  // Decrypted bytes already buffered (poll would not show them).
  bool has_buffered_input() const;

  // Waits at most `timeout` for `status` (kWantRead/kWantWrite) on the socket.
  bool wait(Status status, std::chrono::milliseconds timeout) const;
  // Writes all of `bytes`, waiting at most `timeout` for each bit of progress.
  Result<void> write_all(std::string_view bytes, std::chrono::milliseconds timeout);
  // Sends close_notify (best effort, bounded by `timeout`).
  void close_notify(std::chrono::milliseconds timeout);

  int fd() const { return fd_; }
  bool resumed() const;
  std::string description() const;  // "TLSv1.3 TLS_AES_256_GCM_SHA384"
  // TLS 1.2: the session in DER form (for resumption by session ID elsewhere); "" for TLS 1.3
  // (tickets do the job) or when it does not fit `max_bytes`.
  std::string export_session(std::size_t max_bytes) const;
  const std::string& error() const { return error_; }

 private:
  TlsStream(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  Io classify(int result);

  SSL* ssl_;
  int fd_;
  std::string error_;
};

}  // namespace wftpd
