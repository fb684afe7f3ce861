#include "common/tls_stream.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

namespace wftpd {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

bool poll_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd entry{fd, events, 0};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const int n = ::poll(&entry, 1, static_cast<int>(remaining(deadline).count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// A fresh handshake on the key-less data context ends with one of these: the client did not
// offer (or we could not open) a ticket of the control connection's session.
bool is_missing_certificate_failure(unsigned long code) {
  const int reason = ERR_GET_REASON(code);
  return reason == SSL_R_CERT_CB_ERROR || reason == SSL_R_NO_SHARED_CIPHER ||
         reason == SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM ||
         reason == SSL_R_NO_CERTIFICATE_ASSIGNED || reason == SSL_R_MISSING_SIGALGS_EXTENSION;
}

}  // namespace

TlsStream::~TlsStream() { SSL_free(ssl_); }

bool TlsStream::has_buffered_input() const { return SSL_pending(ssl_) > 0; }

bool TlsStream::resumed() const { return SSL_session_reused(ssl_) == 1; }

Result<std::unique_ptr<TlsStream>> TlsStream::accept(SSL_CTX* ctx, int fd,
                                                     std::chrono::milliseconds timeout,
                                                     bool* not_resumed) {
  if (not_resumed != nullptr) *not_resumed = false;
  // Data sockets arrive non-blocking from the monitor; the control socket is switched here.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return system_error("fcntl(F_GETFL)", errno);
  if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return system_error("fcntl(F_SETFL, O_NONBLOCK)", errno);
  }
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return make_error("SSL_new: " + openssl_errors());
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl, fd));
  if (SSL_set_fd(ssl, fd) != 1) return make_error("SSL_set_fd: " + openssl_errors());
  TlsHandshakeNotes notes;
  SSL_set_app_data(ssl, &notes);
  const auto deadline = Clock::now() + timeout;
  // Bounded by the deadline: every turn waits for the socket or fails.
  for (;;) {
    errno = 0;
    const int result = SSL_accept(ssl);
    if (result == 1) break;
    const int error = SSL_get_error(ssl, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      if (!poll_for(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, remaining(deadline))) {
        SSL_set_app_data(ssl, nullptr);
        return make_error("TLS handshake timed out");
      }
      continue;
    }
    SSL_set_app_data(ssl, nullptr);
    if (!notes.refusal.empty()) {
      if (not_resumed != nullptr) *not_resumed = is_missing_certificate_failure(ERR_peek_last_error());
      ERR_clear_error();
      return make_error("TLS handshake refused: " + notes.refusal);
    }
    if (not_resumed != nullptr && SSL_session_reused(ssl) != 1 &&
        is_missing_certificate_failure(ERR_peek_last_error())) {
      *not_resumed = true;
    }
    std::string reason = openssl_errors();
    if (reason.empty()) {
      reason = errno != 0 ? std::string(std::strerror(errno)) : "the client closed the connection";
    }
    return make_error("TLS handshake failed: " + reason);
  }
  SSL_set_app_data(ssl, nullptr);
  return stream;
}

TlsStream::Io TlsStream::classify(int result) {
  const int error = SSL_get_error(ssl_, result);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return {Status::kWantRead};
    case SSL_ERROR_WANT_WRITE:
      return {Status::kWantWrite};
    case SSL_ERROR_ZERO_RETURN:
      return {Status::kClosed};
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET || errno == EPIPE)) {
        return {Status::kTruncated};
      }
      error_ = errno != 0 ? std::string(std::strerror(errno)) : openssl_errors();
      ERR_clear_error();
      return {Status::kError};
    case SSL_ERROR_SSL:
      if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return {Status::kTruncated};
      }
      error_ = openssl_errors();
      return {Status::kError};
    default:
      error_ = "SSL error " + std::to_string(error) + ": " + openssl_errors();
      return {Status::kError};
  }
}

TlsStream::Io TlsStream::read(std::span<char> buffer) {
  std::size_t got = 0;
  errno = 0;
  const int result = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &got);
  if (result == 1) return {Status::kDone, got};
  return classify(result);
}

TlsStream::Io TlsStream::write(std::string_view bytes) {
  std::size_t sent = 0;
  errno = 0;
  const int result = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &sent);
  if (result == 1) return {Status::kDone, sent};
  return classify(result);
}

bool TlsStream::wait(Status status, std::chrono::milliseconds timeout) const {
  return poll_for(fd_, status == Status::kWantWrite ? POLLOUT : POLLIN, timeout);
}

Result<void> TlsStream::write_all(std::string_view bytes, std::chrono::milliseconds timeout) {
  // Bounded: each turn writes bytes or waits at most `timeout` for the socket.
  while (!bytes.empty()) {
    const Io io = write(bytes);
    if (io.status == Status::kDone) {
      bytes.remove_prefix(io.bytes);
      continue;
    }
    if (io.status == Status::kWantRead || io.status == Status::kWantWrite) {
      if (!wait(io.status, timeout)) return make_error("TLS write timed out");
      continue;
    }
    return make_error("TLS write failed: " + (error_.empty() ? std::string("connection closed") : error_));
  }
  return ok_result();
}

void TlsStream::close_notify(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int result = SSL_shutdown(ssl_);
    if (result >= 0) return;  // sent (we do not wait for the peer's close_notify)
    const int error = SSL_get_error(ssl_, result);
    if (error != SSL_ERROR_WANT_WRITE && error != SSL_ERROR_WANT_READ) break;
    if (!poll_for(fd_, error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, remaining(deadline))) break;
  }
  ERR_clear_error();
}

std::string TlsStream::export_session(std::size_t max_bytes) const {
  if (SSL_version(ssl_) != TLS1_2_VERSION) return {};
  SSL_SESSION* session = SSL_get1_session(ssl_);
  if (session == nullptr) return {};
  std::string der;
  const int length = i2d_SSL_SESSION(session, nullptr);
  if (length > 0 && static_cast<std::size_t>(length) <= max_bytes) {
    der.resize(static_cast<std::size_t>(length));
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_SSL_SESSION(session, &out) != length) der.clear();
  }
  SSL_SESSION_free(session);
  return der;
}

std::string TlsStream::description() const {
  const char* cipher = SSL_get_cipher_name(ssl_);
  return std::string(SSL_get_version(ssl_)) + " " + (cipher != nullptr ? cipher : "?") +
         (resumed() ? " (resumed)" : "");
}

}  // namespace wftpd
