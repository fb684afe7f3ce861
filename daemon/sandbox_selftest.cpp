// wardenftpd --sandbox-selftest: for each role, a throwaway child applies the role's filter and
// does what the role does at run time (memory, time, randomness, its kind of I/O, TLS), so
// that a kernel or libc that needs a syscall the policy lacks is found here, by name, and not
// by a session dying.
#include "daemon/sandbox_selftest.hpp"

#include <fcntl.h>
#include <gnu/libc-version.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/exit_codes.hpp"
#include "common/monitor_channel.hpp"
#include "common/session_roles.hpp"
#include "common/signing_key.hpp"
#include "common/tls_context.hpp"
#include "policy/embedded_policy.hpp"
#include "policy/violation_report.hpp"

namespace wftpd {
namespace {

// Resources a role's exercise uses, made before the filter (as the daemon makes them).
struct Fixture {
  int result_fd = -1;       // failure text goes here
  int pipe_read = -1, pipe_write = -1;
  int channel_a = -1, channel_b = -1;  // a SOCK_SEQPACKET pair, like a monitor channel
  int tls_server = -1, tls_client = -1;  // a stream socketpair for an in-process handshake
  int directory = -1;       // a scratch directory (file roles)
  pid_t sleeper = 0;        // a child for the monitor to stop
  SSL_CTX* server_ctx = nullptr;
  SSL_CTX* client_ctx = nullptr;
  const std::vector<SigningKey>* signing_keys = nullptr;  // throwaway RSA and EC keys
};

[[noreturn]] void fail(const Fixture& f, const std::string& what) {
  const std::string text = "failed: " + what + (errno != 0 ? std::string(": ") + std::strerror(errno) : "");
  [[maybe_unused]] const ssize_t n = ::write(f.result_fd, text.data(), text.size());
  ::_exit(1);
}

void check(const Fixture& f, bool ok, const char* what) {
  if (!ok) fail(f, what);
}

// What every role does: allocate (brk and mmap), read clocks, draw random bytes, move bytes
// through descriptors it holds, talk to the monitor.
void exercise_common(const Fixture& f) {
  errno = 0;
  std::vector<std::string> blocks;
  for (std::size_t size = 16; size <= (8u << 20); size *= 4) blocks.emplace_back(size, 'x');
  blocks.back().resize(blocks.back().size() * 2);  // realloc of a large block (mremap)
  blocks.clear();
  blocks.shrink_to_fit();
  timespec now{};
  check(f, ::clock_gettime(CLOCK_REALTIME, &now) == 0, "clock_gettime");
  tm broken{};
  check(f, ::gmtime_r(&now.tv_sec, &broken) != nullptr, "gmtime_r");
  unsigned char random[16];
  check(f, ::getrandom(random, sizeof(random), GRND_NONBLOCK) == sizeof(random), "getrandom");
  check(f, ::write(f.pipe_write, "ping", 4) == 4, "write");
  pollfd ready{f.pipe_read, POLLIN, 0};
  check(f, ::poll(&ready, 1, 1000) == 1, "poll");
}

// The children read their control connection (the monitor only receives datagrams).
void exercise_read(const Fixture& f) {
  char buffer[8];
  check(f, ::read(f.pipe_read, buffer, sizeof(buffer)) == 4, "read");
}

void exercise_channel(const Fixture& f) {
  MonitorChannel a{UniqueFd(f.channel_a)};
  MonitorChannel b{UniqueFd(f.channel_b)};
  check(f, a.send(LogEvent{EventLevel::kInfo, "self-test"}).ok(), "sendmsg on a monitor channel");
  auto got = b.expect<LogEvent>(nullptr, std::chrono::seconds(1));
  check(f, got.ok() && got->text == "self-test", "recvmsg on a monitor channel");
}

// An in-process TLS 1.3 handshake and a few records both ways, over a socketpair, as the
// control connection's endpoint and the data connections do.
void exercise_tls(const Fixture& f, bool set_nonblocking) {
  if (set_nonblocking) {
    const int flags = ::fcntl(f.tls_server, F_GETFL);
    check(f, flags >= 0 && ::fcntl(f.tls_server, F_SETFL, flags | O_NONBLOCK) == 0,
          "fcntl(F_SETFL, O_NONBLOCK)");
  }
  SSL* server = SSL_new(f.server_ctx);
  SSL* client = SSL_new(f.client_ctx);
  check(f, server != nullptr && client != nullptr, "SSL_new");
  SSL_set_fd(server, f.tls_server);
  SSL_set_fd(client, f.tls_client);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  bool server_done = false, client_done = false;
  for (int turn = 0; turn < 200 && !(server_done && client_done); ++turn) {
    if (!client_done) {
      const int r = SSL_do_handshake(client);
      client_done = r == 1;
      if (r <= 0 && SSL_get_error(client, r) != SSL_ERROR_WANT_READ) fail(f, "TLS client handshake");
    }
    if (!server_done) {
      const int r = SSL_do_handshake(server);
      server_done = r == 1;
      if (r <= 0 && SSL_get_error(server, r) != SSL_ERROR_WANT_READ) fail(f, "TLS server handshake: " + openssl_errors());
    }
  }
  check(f, server_done && client_done, "TLS handshake did not finish");
  char data[64];
  std::size_t moved = 0;
  check(f, SSL_write_ex(server, "220 ready\r\n", 11, &moved) == 1, "SSL_write");
  bool read = false;
  for (int turn = 0; turn < 50 && !read; ++turn) {
    read = SSL_read_ex(client, data, sizeof(data), &moved) == 1;
    if (!read && SSL_get_error(client, 0) != SSL_ERROR_WANT_READ) break;
    if (!read) {
      pollfd ready{f.tls_client, POLLIN, 0};
      ::poll(&ready, 1, 100);
    }
  }
  check(f, read && moved == 11, "SSL_read");
  SSL_shutdown(server);
  SSL_free(server);
  SSL_free(client);
}

// The file operations of a logged-in session, in a scratch directory.
void exercise_files(const Fixture& f, bool writes, bool create_only) {
  errno = 0;
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (writes) {
    how.flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    how.mode = 0644;
    const long fd = ::syscall(SYS_openat2, f.directory, "file", &how, sizeof(how));
    check(f, fd >= 0, "openat2");
    check(f, ::write(static_cast<int>(fd), "data\n", 5) == 5, "write to a file");
    check(f, ::sync_file_range(static_cast<int>(fd), 0, 5, SYNC_FILE_RANGE_WRITE) == 0, "sync_file_range");
    check(f, ::fsync(static_cast<int>(fd)) == 0, "fsync");
    check(f, ::ftruncate(static_cast<int>(fd), 5) == 0, "ftruncate");
    ::close(static_cast<int>(fd));
    check(f, ::mkdirat(f.directory, "sub", 0755) == 0, "mkdirat");
    check(f, ::unlinkat(f.directory, "sub", AT_REMOVEDIR) == 0, "unlinkat(AT_REMOVEDIR)");
    check(f, ::renameat(f.directory, "file", f.directory, "file2") == 0, "renameat");
    check(f, ::renameat(f.directory, "file2", f.directory, "file") == 0, "renameat");
    check(f, ::fchmodat(f.directory, "file", 0640, 0) == 0, "fchmodat");
    const timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    check(f, ::utimensat(f.directory, "file", times, 0) == 0, "utimensat");
    ::umask(022);
  }
  if (create_only) {
    const int fd = ::openat(f.directory, "new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    check(f, fd >= 0, "openat(O_CREAT|O_EXCL)");
    ::close(fd);
  }
  const int file = ::openat(f.directory, "file", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  check(f, file >= 0, "openat(O_RDONLY)");
  struct stat st{};
  check(f, ::fstat(file, &st) == 0, "fstat");
  check(f, ::fstatat(f.directory, "file", &st, AT_SYMLINK_NOFOLLOW) == 0, "fstatat");
  check(f, ::lseek(file, 1, SEEK_SET) == 1, "lseek");
  check(f, ::sendfile(f.pipe_write, file, nullptr, 4) == 4, "sendfile");
  char buffer[8];
  check(f, ::read(f.pipe_read, buffer, sizeof(buffer)) == 4, "read from the pipe");
  ::close(file);
  char target[64];
  check(f, ::readlinkat(f.directory, "link", target, sizeof(target)) > 0, "readlinkat");
  check(f, ::faccessat(f.directory, ".", X_OK, 0) == 0, "faccessat");
  const int listing = ::openat(f.directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check(f, listing >= 0, "openat(directory)");
  DIR* dir = ::fdopendir(listing);
  check(f, dir != nullptr, "fdopendir");
  int entries = 0;
  while (::readdir(dir) != nullptr) ++entries;
  ::closedir(dir);
  check(f, entries >= 3, "readdir");
  check(f, ::getuid() != static_cast<uid_t>(-1) && ::getgid() != static_cast<gid_t>(-1), "getuid");
}

// The monitor's network work: listen, accept, connect, and stopping a child.
void exercise_monitor(const Fixture& f) {
  errno = 0;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  check(f, listener >= 0, "socket(AF_INET)");
  const int on = 1;
  check(f, ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0, "setsockopt");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check(f, ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0, "bind");
  check(f, ::listen(listener, 1) == 0, "listen");
  socklen_t length = sizeof(address);
  check(f, ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0, "getsockname");
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  check(f, client >= 0, "socket");
  const int rc = ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  check(f, rc == 0 || errno == EINPROGRESS, "connect");
  errno = 0;
  pollfd ready{listener, POLLIN, 0};
  check(f, ::poll(&ready, 1, 2000) == 1, "poll(listener)");
  const int accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  check(f, accepted >= 0, "accept4");
  int error = 0;
  socklen_t error_length = sizeof(error);
  check(f, ::getsockopt(client, SOL_SOCKET, SO_ERROR, &error, &error_length) == 0, "getsockopt(SO_ERROR)");
  check(f, ::getpeername(accepted, reinterpret_cast<sockaddr*>(&address), &length) == 0, "getpeername");
  ::close(accepted);
  ::close(client);
  ::close(listener);
  check(f, ::kill(f.sleeper, SIGKILL) == 0, "kill(SIGKILL)");
  int status = 0;
  check(f, ::waitpid(f.sleeper, &status, 0) == f.sleeper, "wait4");
  const timespec pause{0, 1000000};
  check(f, ::nanosleep(&pause, nullptr) == 0, "nanosleep");
}

// The monitor's other work with TLS: signing handshake digests for its children (RSA blinding
// and PSS salts, ECDSA nonces: the random generators reseed inside the filter).
void exercise_signing(const Fixture& f) {
  check(f, f.signing_keys != nullptr && !f.signing_keys->empty(), "throwaway signing keys");
  for (const SigningKey& key : *f.signing_keys) {
    for (const std::uint16_t scheme : {std::uint16_t{0x0804}, std::uint16_t{0x0401}, std::uint16_t{0x0403}}) {
      const auto info = describe_scheme(scheme);
      if (!info || info->family != key.family()) continue;
      check(f, key.sign(scheme, std::string(info->digest_length, 's')).ok(), "signing a handshake digest");
    }
  }
}

// The listener's work under its floor: sealed memfds, a listening socket, and what every
// connection costs: posix_spawn of our own binary (clone and exec under the floor), reaping it,
// and a descendant that stacks its own allowlist on top. A syscall the floor refuses with an
// errno shows the floor is in place.
void exercise_listener(const Fixture& f) {
  exercise_read(f);  // what exercise_common wrote
  errno = 0;
  const int memfd = ::memfd_create("wardenftpd-selftest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  check(f, memfd >= 0, "memfd_create");
  check(f, ::write(memfd, "x", 1) == 1, "write to a memfd");
  check(f, ::fcntl(memfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0,
        "fcntl(F_ADD_SEALS)");
  check(f, ::fcntl(memfd, F_DUPFD_CLOEXEC, 64) >= 64, "fcntl(F_DUPFD_CLOEXEC)");
  exercise_monitor(f);  // socket, bind, listen, accept4, kill, wait4
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  char arg0[] = "wardenftpd";
  char arg1[] = "--version";
  char* argv[] = {arg0, arg1, nullptr};
  char* envp[] = {nullptr};
  pid_t child = 0;
  const int rc = ::posix_spawn(&child, "/proc/self/exe", &actions, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  errno = rc;
  check(f, rc == 0, "posix_spawn(/proc/self/exe --version)");
  int status = 0;
  check(f, ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "the spawned process exited 0");
  errno = 0;
  const pid_t stacked = ::fork();
  check(f, stacked >= 0, "fork");
  if (stacked == 0) {
    const auto* preauth = policy::find_policy("preauth");
    if (preauth == nullptr || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        !policy::install_policy(*preauth) || ::write(f.pipe_write, "ok", 2) != 2) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  check(f, ::waitpid(stacked, &status, 0) == stacked && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "a child installs its own filter on top of the floor");
  char buffer[2];
  check(f, ::read(f.pipe_read, buffer, sizeof(buffer)) == 2, "read");
  errno = 0;
  check(f, ::syscall(SYS_keyctl, 0, 0, 0, 0, 0) == -1 && errno == ENOSYS,
        "keyctl is refused with ENOSYS (is the floor in place?)");
}

struct RoleTest {
  std::string role;  // the role's policy
  std::function<void(const Fixture&)> exercise;
  bool files;
  bool tls;
  bool sleeper;
};

// What the self-test does for each role of the roles table, under the role's policy: the role's
// kind of work. No default: a new role must say what it does here (or that it has no filter).
std::optional<RoleTest> test_for(Role role) {
  const std::string policy(role_spec(role).policy);
  switch (role) {
    case Role::kListener:
      return RoleTest{policy, exercise_listener, false, false, true};
    case Role::kMonitor:
      return RoleTest{policy, [](const Fixture& f) { exercise_monitor(f); exercise_signing(f); },
                      false, false, true};
    case Role::kPreauth:
      return RoleTest{policy, exercise_read, false, false, false};
    case Role::kPreauthTls:
      return RoleTest{policy, [](const Fixture& f) { exercise_read(f); exercise_tls(f, true); },
                      false, true, false};
    case Role::kPostauth:
      return RoleTest{policy,
                      [](const Fixture& f) {
                        exercise_read(f);
                        exercise_files(f, true, false);
                        exercise_tls(f, false);
                      },
                      true, false, false};
    case Role::kAnonymous:
      return RoleTest{policy,
                      [](const Fixture& f) {
                        exercise_read(f);
                        exercise_files(f, false, false);
                        exercise_tls(f, false);
                      },
                      true, false, false};
    case Role::kAnonymousUpload:
      return RoleTest{policy,
                      [](const Fixture& f) {
                        exercise_read(f);
                        exercise_files(f, false, true);
                        exercise_tls(f, false);
                      },
                      true, false, false};
    case Role::kPamHelper:
      return std::nullopt;  // no filter: PAM modules are arbitrary code (see SECURITY.md)
  }
  return std::nullopt;
}

// Returns "ok" or what went wrong.
std::string run_role(const RoleTest& test, SSL_CTX* server_ctx, SSL_CTX* client_ctx,
                     const std::vector<SigningKey>& signing_keys) {
  const auto* policy = policy::find_policy(test.role);
  if (policy == nullptr) return "no filter built into this binary";
  int result[2], pipe_fds[2], channel[2], tls[2];
  if (::pipe2(result, O_CLOEXEC) != 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0 ||
      ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0 ||
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tls) != 0) {
    return std::string("set-up: ") + std::strerror(errno);
  }
  char scratch[] = "/tmp/wftpd-selftest-XXXXXX";
  std::string scratch_dir;
  Fixture fixture;
  fixture.result_fd = result[1];
  fixture.pipe_read = pipe_fds[0];
  fixture.pipe_write = pipe_fds[1];
  fixture.channel_a = channel[0];
  fixture.channel_b = channel[1];
  fixture.tls_server = tls[0];
  fixture.tls_client = tls[1];
  fixture.server_ctx = server_ctx;
  fixture.client_ctx = client_ctx;
  fixture.signing_keys = &signing_keys;
  if (test.files) {
    if (::mkdtemp(scratch) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
    scratch_dir = scratch;
    (void)!::symlink("file", (scratch_dir + "/link").c_str());
    const int fd = ::open((scratch_dir + "/file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      [[maybe_unused]] const ssize_t n = ::write(fd, "data\n", 5);
      ::close(fd);
    }
    fixture.directory = ::open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  // Both ends non-blocking (one process plays both sides of the handshake). The server end of
  // the TLS roles is switched inside the filter, as the pre-auth child does; the post-auth
  // child's data sockets arrive non-blocking from the monitor.
  ::fcntl(tls[1], F_SETFL, O_NONBLOCK);
  if (!test.tls) ::fcntl(tls[0], F_SETFL, O_NONBLOCK);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(result[0]);
    if (test.sleeper) {
      // A child of the confined process, as the monitor's children are, for it to stop.
      fixture.sleeper = ::fork();
      if (fixture.sleeper == 0) {
        // It must not outlive the confined child (which may be stopped before it kills it),
        // nor hold any pipe of ours open, stdout included.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::close_range(0, ~0U, 0);
        ::pause();
        ::_exit(0);
      }
    }
    if (!policy::install_violation_reporter(test.role, result[1], policy::ReportFormat::kLine)) {
      fail(fixture, "installing the SIGSYS reporter");
    }
    if (policy->denylist && ::geteuid() == 0) {
      // As the listener installs its floor: root, without no_new_privs.
      auto installed = policy::install_floor_policy(*policy);
      if (!installed) fail(fixture, installed.error().message);
    } else if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !policy::install_policy(*policy)) {
      fail(fixture, "installing the filter");
    }
    exercise_common(fixture);
    exercise_channel(fixture);
    test.exercise(fixture);
    ::_exit(0);
  }
  ::close(result[1]);
  std::string text;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(result[0], buffer, sizeof(buffer))) > 0) text.append(buffer, static_cast<std::size_t>(n));
  ::close(result[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (const int fd : {pipe_fds[0], pipe_fds[1], channel[0], channel[1], tls[0], tls[1], fixture.directory}) {
    if (fd >= 0) ::close(fd);
  }
  if (!scratch_dir.empty()) {
    for (const char* name : {"/file", "/file2", "/new", "/link"}) ::unlink((scratch_dir + name).c_str());
    ::rmdir((scratch_dir + "/sub").c_str());
    ::rmdir(scratch_dir.c_str());
  }
  while (!text.empty() && (text.back() == '\n')) text.pop_back();
  if (text.rfind("wardenftpd: ", 0) == 0) text.erase(0, 12);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "ok";
  if (!text.empty()) return text;
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int run_sandbox_selftest() {
  ::setvbuf(stdout, nullptr, _IOLBF, 0);
  ::tzset();
  utsname system{};
  ::uname(&system);
  std::printf("wardenftpd sandbox self-test: kernel %s %s, glibc %s, %s\n", system.release,
              system.machine, gnu_get_libc_version(), OpenSSL_version(OPENSSL_VERSION));
  // TLS contexts made before any filter, as the children make theirs.
  Config config;
  auto keys = make_ticket_keys();
  SslCtxPtr server;
  if (keys) {
    auto made = make_selftest_context(config, *keys);
    if (made) server = std::move(*made);
  }
  SslCtxPtr client(SSL_CTX_new(TLS_client_method()));
  if (!server || !client) {
    std::printf("  cannot build TLS contexts: %s\n", openssl_errors().c_str());
    return 1;
  }
  // Throwaway keys for the monitor's signing, made before any filter as the monitor loads its.
  std::vector<SigningKey> signing_keys;
  for (EVP_PKEY* generated : {EVP_RSA_gen(2048), EVP_EC_gen("P-256")}) {
    BioPtr pem(BIO_new(BIO_s_mem()));
    char* text = nullptr;
    const bool written = generated != nullptr && pem &&
                         PEM_write_bio_PrivateKey(pem.get(), generated, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    const long length = written ? BIO_get_mem_data(pem.get(), &text) : 0;
    EVP_PKEY_free(generated);
    auto key = written ? SigningKey::from_pem(std::string_view(text, static_cast<std::size_t>(length)))
                       : Result<SigningKey>(make_error("key generation failed"));
    if (!key) {
      std::printf("  cannot make throwaway signing keys: %s\n", openssl_errors().c_str());
      return 1;
    }
    signing_keys.push_back(std::move(*key));
  }
  std::vector<RoleTest> tests;
  for (const auto& role : role_table()) {
    if (auto test = test_for(role.role)) tests.push_back(*test);
  }
  int failures = 0;
  for (const auto& test : tests) {
    const auto* policy = policy::find_policy(test.role);
    const std::string verdict = run_role(test, server.get(), client.get(), signing_keys);
    if (verdict != "ok") ++failures;
    const std::string counts =
        policy == nullptr ? std::string()
        : policy->denylist
            ? "(deny list under every process: " +
                  std::to_string(policy->trapped_syscalls + policy->errno_syscalls) + " syscalls denied)"
            : "(" + std::to_string(policy->allowed_syscalls) + " syscalls allowed)";
    std::printf("  %-17s %-4s %s\n", test.role.c_str(), verdict == "ok" ? "ok" : "FAIL",
                verdict == "ok" ? counts.c_str() : verdict.c_str());
  }
  if (failures == 0) {
    std::printf("all roles work under their filters on this system\n");
  } else {
    std::printf("%d role(s) would fail on this system; report the lines above\n", failures);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace wftpd
