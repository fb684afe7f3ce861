// ftpbench-bound: the C bounds that tools/bench/ftpbench.py reports the RETR figures against,
// measured on the same machine in the same run.
//
//   tls       TLS over a loopback TCP connection: the sending process SSL_writes MIB MiB from
//             memory, the receiving process SSL_reads and discards them. No file, no FTP, no
//             privilege separation: what OpenSSL and the kernel can do, the ceiling of a PROT P
//             RETR on this machine.
//   sendfile  plain TCP over loopback: the sending process sendfile()s FILE (read once first,
//             so it is in the page cache), the receiving process read()s and discards it: the
//             ceiling of a plain RETR.
//
// Two processes (fork), like a server and its client, so the two ends run on both CPUs as they
// do in the FTP measurements. The receiver times from the end of the connection set-up (TCP, and
// for tls the handshake) to the last byte and prints one line on stdout:
//   MODE BYTES SECONDS MB/s VERSION CIPHER     (VERSION and CIPHER are "-" for sendfile)
// MB/s is 10^6 bytes per second, as in ftpbench. Exit status: 0 measured, 1 error, 2 usage.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// The same sizes as the daemon's data path (unpriv/data_transfer.cpp: kBufferSize for TLS
// writes and plain reads, kSendfileChunk for sendfile), so a gap to the bound is not just a
// different chunk size.
constexpr std::size_t kChunk = 256u << 10;
constexpr std::size_t kSendfileChunk = 1u << 20;
// Every blocking call on the sockets gives up after this long, so a stuck peer ends the run.
constexpr int kIoTimeoutSeconds = 60;
constexpr unsigned long long kMaxMib = 1ull << 20;  // 1 TiB: far beyond any benchmark size

constexpr std::string_view kUsage =
    "Usage:\n"
    "  ftpbench-bound tls CERT KEY MIB [--tls13 SUITE | --tls12 CIPHER]\n"
    "  ftpbench-bound sendfile FILE\n"
    "\n"
    "tls: MIB MiB from memory through TLS over loopback TCP (sender SSL_write, receiver\n"
    "SSL_read, two processes), TLS 1.3 with TLS_AES_256_GCM_SHA384 unless --tls13 or --tls12\n"
    "names another suite or (TLS 1.2) cipher. CERT and KEY: the server's PEM files.\n"
    "sendfile: FILE through plain loopback TCP (sender sendfile, receiver read).\n"
    "Prints: MODE BYTES SECONDS MB/s VERSION CIPHER\n";

int usage_error(std::string_view message) {
  std::fprintf(stderr, "ftpbench-bound: %.*s\n%.*s", static_cast<int>(message.size()),
               message.data(), static_cast<int>(kUsage.size()), kUsage.data());
  return kExitUsage;
}

// Every error names the failing call and the system's or OpenSSL's reason; the process exits.
[[noreturn]] void fail_errno(const char* call) {
  const int error = errno;
  std::fprintf(stderr, "ftpbench-bound: %s: %s\n", call, std::strerror(error));
  std::exit(kExitError);
}

[[noreturn]] void fail(const char* call, const std::string& reason) {
  std::fprintf(stderr, "ftpbench-bound: %s: %s\n", call, reason.c_str());
  std::exit(kExitError);
}

// OpenSSL's queued errors, oldest first (bounded: the queue holds at most 16), then cleared.
std::string openssl_errors() {
  std::string text;
  for (int i = 0; i < 32; ++i) {
    const unsigned long code = ERR_get_error();
    if (code == 0) break;
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? std::string("no OpenSSL error queued") : text;
}

// The reason an SSL_* I/O call failed: OpenSSL's queue, or errno for a failed system call.
[[noreturn]] void fail_ssl(const char* call, SSL* ssl, int result) {
  const int error = SSL_get_error(ssl, result);
  if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    fail(call, errno != 0 ? std::strerror(errno) : "unexpected end of connection");
  }
  if (error == SSL_ERROR_ZERO_RETURN) fail(call, "peer closed the TLS connection early");
  fail(call, "SSL error " + std::to_string(error) + ": " + openssl_errors());
}

void set_timeouts(int fd) {
  const timeval timeout{kIoTimeoutSeconds, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0) {
    fail_errno("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)");
  }
}

// A listening socket on 127.0.0.1 with a kernel-chosen port, which it returns in `port`.
int listen_loopback(in_port_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail_errno("bind(127.0.0.1:0)");
  }
  if (::listen(fd, 1) != 0) fail_errno("listen");
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail_errno("getsockname");
  }
  port = address.sin_port;
  return fd;
}

// The sender's end: the one connection on `listener`, waited for at most the I/O timeout.
int accept_one(int listener) {
  pollfd ready{listener, POLLIN, 0};
  const int n = ::poll(&ready, 1, kIoTimeoutSeconds * 1000);
  if (n < 0) fail_errno("poll(listener)");
  if (n == 0) fail("accept", "no connection within the timeout");
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) fail_errno("accept4");
  set_timeouts(fd);
  return fd;
}

int connect_loopback(in_port_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno("socket");
  set_timeouts(fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = port;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail_errno("connect(127.0.0.1)");
  }
  return fd;
}

// After the last byte: no more writes, then wait (bounded by the timeout) for the receiver to
// close, so that exiting cannot cut off data still in flight.
void finish_sending(int fd) {
  if (::shutdown(fd, SHUT_WR) != 0) fail_errno("shutdown(SHUT_WR)");
  char sink[4096];
  for (int i = 0; i < 1024; ++i) {
    const ssize_t n = ::read(fd, sink, sizeof sink);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) break;
      fail_errno("read(wait for the receiver's close)");
    }
  }
  ::close(fd);
}

struct TlsChoice {
  bool tls12 = false;
  std::string cipher = "TLS_AES_256_GCM_SHA384";
};

// One version and one cipher on both ends, so the bound is measured with what the FTPS figure
// negotiated and not with whatever the library would prefer.
void restrict_context(SSL_CTX* ctx, const TlsChoice& choice) {
  const int version = choice.tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, version) != 1) {
    fail("SSL_CTX_set_min/max_proto_version", openssl_errors());
  }
  if (choice.tls12) {
    if (SSL_CTX_set_cipher_list(ctx, choice.cipher.c_str()) != 1) {
      fail("SSL_CTX_set_cipher_list", openssl_errors());
    }
  } else if (SSL_CTX_set_ciphersuites(ctx, choice.cipher.c_str()) != 1) {
    fail("SSL_CTX_set_ciphersuites", openssl_errors());
  }
}

// In the child, first thing: it dies with the parent, so a receiver that failed leaves no
// sender waiting out its timeouts.
void die_with_parent(pid_t parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail_errno("prctl(PR_SET_PDEATHSIG)");
  if (::getppid() != parent) std::_Exit(kExitError);  // the parent was already gone
}

// The sender's context, made before the fork so that a bad certificate, key or cipher name is
// reported once, by the parent, before anything runs.
SSL_CTX* server_context(const char* cert, const char* key, const TlsChoice& choice) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) fail("SSL_CTX_new(server)", openssl_errors());
  restrict_context(ctx, choice);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    fail("SSL_CTX_use_certificate_chain_file", openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    fail("SSL_CTX_use_PrivateKey_file", openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) fail("SSL_CTX_check_private_key", openssl_errors());
  return ctx;
}

// The child: TLS server that writes `total` bytes of one random buffer, kChunk per SSL_write.
// Forks the sending side, which ends with this process, and returns its pid. `send` never
// returns (the senders end the child themselves).
template <typename Send>
pid_t fork_sender(Send send) {
  std::fflush(stdout);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) fail_errno("fork");
  if (child == 0) {
    die_with_parent(parent);
    send();
  }
  return child;
}

[[noreturn]] void tls_sender(int listener, SSL_CTX* ctx, unsigned long long total) {
  std::vector<unsigned char> buffer(kChunk);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    fail("RAND_bytes", openssl_errors());
  }
  const int fd = accept_one(listener);
  ::close(listener);
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) fail("SSL_new/SSL_set_fd", openssl_errors());
  const int accepted = SSL_accept(ssl);
  if (accepted != 1) fail_ssl("SSL_accept", ssl, accepted);
  // Bounded: every successful SSL_write moves at least one byte (blocking socket, no partial
  // writes enabled, so a whole chunk in fact), and a stuck peer fails it after the timeout.
  unsigned long long sent = 0;
  while (sent < total) {
    const std::size_t length = static_cast<std::size_t>(
        std::min<unsigned long long>(buffer.size(), total - sent));
    std::size_t written = 0;
    const int result = SSL_write_ex(ssl, buffer.data(), length, &written);
    if (result != 1) fail_ssl("SSL_write_ex", ssl, result);
    sent += written;
  }
  const int shut = SSL_shutdown(ssl);  // close_notify sent; the receiver's is not waited for
  if (shut < 0) fail_ssl("SSL_shutdown", ssl, shut);
  finish_sending(fd);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  std::_Exit(kExitOk);
}

// The child: plain TCP sender of the whole file, kSendfileChunk per sendfile.
[[noreturn]] void sendfile_sender(int listener, int file_fd, unsigned long long total) {
  const int fd = accept_one(listener);
  ::close(listener);
  off_t offset = 0;
  unsigned long long sent = 0;
  // Bounded: each sendfile moves at least one byte or fails (the timeout ends a stuck peer).
  while (sent < total) {
    const std::size_t length = static_cast<std::size_t>(
        std::min<unsigned long long>(kSendfileChunk, total - sent));
    const ssize_t n = ::sendfile(fd, file_fd, &offset, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("sendfile");
    }
    if (n == 0) fail("sendfile", "the file ended early (truncated while being sent?)");
    sent += static_cast<unsigned long long>(n);
  }
  finish_sending(fd);
  std::_Exit(kExitOk);
}

using Clock = std::chrono::steady_clock;

struct Measured {
  unsigned long long bytes = 0;
  double seconds = 0;
  std::string version = "-";
  std::string cipher = "-";
};

// The parent: TLS client that reads and discards `total` bytes, timed after the handshake.
Measured tls_receiver(in_port_t port, const TlsChoice& choice, unsigned long long total) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) fail("SSL_CTX_new(client)", openssl_errors());
  restrict_context(ctx, choice);
  // The certificate is a throwaway one on loopback; checking it would only add to the
  // untimed handshake.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  const int fd = connect_loopback(port);
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) fail("SSL_new/SSL_set_fd", openssl_errors());
  const int connected = SSL_connect(ssl);
  if (connected != 1) fail_ssl("SSL_connect", ssl, connected);
  std::vector<unsigned char> buffer(kChunk);
  Measured measured;
  const auto start = Clock::now();
  // Bounded: every successful SSL_read moves at least one byte; errors and the timeout end it.
  while (measured.bytes < total) {
    std::size_t got = 0;
    const int result = SSL_read_ex(ssl, buffer.data(), buffer.size(), &got);
    if (result != 1) fail_ssl("SSL_read_ex", ssl, result);
    measured.bytes += got;
  }
  measured.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  measured.version = SSL_get_version(ssl);
  const char* cipher = SSL_get_cipher_name(ssl);
  measured.cipher = cipher != nullptr ? cipher : "?";
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return measured;
}

// The parent: plain TCP client that reads and discards until the sender's close.
Measured plain_receiver(in_port_t port, unsigned long long total) {
  const int fd = connect_loopback(port);
  std::vector<char> buffer(kChunk);
  Measured measured;
  const auto start = Clock::now();
  // Bounded: each read moves at least one byte until EOF; errors and the timeout end it.
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read");
    }
    if (n == 0) break;
    measured.bytes += static_cast<unsigned long long>(n);
    if (measured.bytes > total) fail("read", "more bytes than the file has");
  }
  measured.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  if (measured.bytes != total) fail("read", "the sender stopped early");
  return measured;
}

// Waits for the sender and fails unless it exited 0 (its own message is already on stderr).
void reap(pid_t child) {
  int status = 0;
  for (;;) {
    if (::waitpid(child, &status, 0) >= 0) break;
    if (errno != EINTR) fail_errno("waitpid");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail("sender", WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                     : "killed by signal " + std::to_string(WTERMSIG(status)));
  }
}

// Reads the whole file once so sendfile serves it from the page cache, as the RETR it bounds
// does (ftpbench has just downloaded the same file).
void warm(int file_fd, unsigned long long size) {
  std::vector<char> buffer(kSendfileChunk);
  unsigned long long done = 0;
  while (done < size) {
    const ssize_t n = ::pread(file_fd, buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("pread(warm the page cache)");
    }
    if (n == 0) fail("pread(warm the page cache)", "the file ended early");
    done += static_cast<unsigned long long>(n);
  }
}

bool parse_mib(const char* text, unsigned long long& mib) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value == 0 || value > kMaxMib) return false;
  mib = value;
  return true;
}

void print(const char* mode, const Measured& measured) {
  const double rate =
      measured.seconds > 0 ? static_cast<double>(measured.bytes) / measured.seconds / 1e6 : 0;
  std::printf("%s %llu %.6f %.1f %s %s\n", mode, measured.bytes, measured.seconds, rate,
              measured.version.c_str(), measured.cipher.c_str());
}

int run(int argc, char** argv) {
  const std::string_view first = argc >= 2 ? argv[1] : "";
  if (first == "--help" || first == "-h") {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return kExitOk;
  }
  if (argc < 2) return usage_error("no mode");
  const std::string_view mode = argv[1];
  // The receiver must not die of SIGPIPE when the sender fails first; EPIPE is reported instead.
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) fail_errno("signal(SIGPIPE)");
  if (mode == "tls") {
    if (argc != 5 && argc != 7) {
      return usage_error("tls takes CERT KEY MIB [--tls13|--tls12 NAME]");
    }
    unsigned long long mib = 0;
    if (!parse_mib(argv[4], mib)) return usage_error("MIB: a whole number from 1 to 1048576");
    TlsChoice choice;
    if (argc == 7) {
      const std::string_view flag = argv[5];
      if (flag != "--tls13" && flag != "--tls12") return usage_error("unknown option");
      choice.tls12 = flag == "--tls12";
      choice.cipher = argv[6];
    }
    const unsigned long long total = mib << 20;
    SSL_CTX* server = server_context(argv[2], argv[3], choice);
    in_port_t port = 0;
    const int listener = listen_loopback(port);
    const pid_t child = fork_sender([&] { tls_sender(listener, server, total); });
    ::close(listener);
    SSL_CTX_free(server);
    const Measured measured = tls_receiver(port, choice, total);
    reap(child);
    print("tls", measured);
    return kExitOk;
  }
  if (mode == "sendfile") {
    if (argc != 3) return usage_error("sendfile takes FILE");
    const int file_fd = ::open(argv[2], O_RDONLY | O_CLOEXEC);
    if (file_fd < 0) fail_errno("open(FILE)");
    struct stat status {};
    if (::fstat(file_fd, &status) != 0) fail_errno("fstat(FILE)");
    if (!S_ISREG(status.st_mode) || status.st_size <= 0) {
      fail("fstat(FILE)", "not a non-empty regular file");
    }
    const auto total = static_cast<unsigned long long>(status.st_size);
    warm(file_fd, total);
    in_port_t port = 0;
    const int listener = listen_loopback(port);
    const pid_t child = fork_sender([&] { sendfile_sender(listener, file_fd, total); });
    ::close(listener);
    ::close(file_fd);
    const Measured measured = plain_receiver(port, total);
    reap(child);
    print("sendfile", measured);
    return kExitOk;
  }
  return usage_error("unknown mode");
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
