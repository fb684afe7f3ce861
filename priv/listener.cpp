#include "priv/listener.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "common/io.hpp"
#include "common/tls_context.hpp"
#include "common/log.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"
#include "policy/embedded_policy.hpp"
#include "policy/violation_report.hpp"
#include "priv/client_limits.hpp"
#include "priv/login_throttle.hpp"
#include "priv/secure_directory.hpp"
#include "priv/session_monitor.hpp"

#if defined(WFTPD_SANITIZE)
#include <sanitizer/lsan_interface.h>
#endif

namespace wftpd {
namespace {

constexpr int kListenBacklog = 256;
// Descriptors handed to a session are first moved to this number or above, so the dup2 calls
// that build the fixed layout (targets 0..4) can never overwrite one of their sources.
constexpr int kFirstHighFd = 64;

Result<UniqueFd> move_high(UniqueFd fd) {
  UniqueFd high(::fcntl(fd.get(), F_DUPFD_CLOEXEC, kFirstHighFd));
  if (!high) return system_error("fcntl(F_DUPFD_CLOEXEC)", errno);
  return high;
}
constexpr int kMaxAcceptsPerWakeup = 64;
constexpr std::string_view kTooManyClients = "421 Too many connections, try again later.\r\n";
constexpr std::string_view kTooManyFromAddress =
    "421 Too many connections from your address, try again later.\r\n";
constexpr std::string_view kTooFast = "421 Connecting too fast, try again later.\r\n";

// The self-pipe the signal handlers write to; the only state a handler touches.
int g_signal_pipe_write = -1;

void on_signal(int signal_number) {
  const int saved_errno = errno;
  const auto byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const ssize_t ignored = ::write(g_signal_pipe_write, &byte, 1);
  errno = saved_errno;
}

Result<void> install_signal_handlers(int pipe_write) {
  g_signal_pipe_write = pipe_write;
  struct sigaction action{};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (const int signal_number : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
    if (::sigaction(signal_number, &action, nullptr) != 0) return system_error("sigaction", errno);
  }
  ::signal(SIGPIPE, SIG_IGN);
  return ok_result();
}

Result<UniqueFd> bind_listen_socket(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) return make_error("getaddrinfo(" + host + "): " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, ::freeaddrinfo);
  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                       found->ai_protocol));
  if (!fd) return system_error("socket", errno);
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    return system_error("setsockopt(SO_REUSEADDR)", errno);
  }
  if (found->ai_family == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) {
    return system_error("setsockopt(IPV6_V6ONLY)", errno);
  }
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    return system_error("bind(" + host + " port " + service + ")", errno);
  }
  if (::listen(fd.get(), kListenBacklog) != 0) return system_error("listen", errno);
  return fd;
}

// A sealed memfd holding bytes every monitor reads: the canonical configuration, or the TLS
// credential bundle.
Result<UniqueFd> make_sealed_memfd(const char* name, std::string_view bytes) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return system_error("memfd_create", errno);
  auto written = write_all(fd.get(), bytes);
  if (!written) return written.error();
  // SECURITY: sealed, so no process holding the descriptor can change what later sessions read.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return system_error("fcntl(F_ADD_SEALS)", errno);
  }
  return fd;
}

// Creates one empty network namespace and returns a descriptor of it. Every sandboxed child of
// every session joins it (setns), which costs far less per session than creating and tearing
// down a namespace each time. It has only a loopback interface that is down, and the children
// that join it cannot create sockets at all (seccomp); the namespace is their second wall.
Result<UniqueFd> create_empty_network_namespace() {
  // Two pipes: the helper child says when it is in its new namespace; the parent says when it
  // has opened that namespace (so the child must stay alive until then).
  int ready_pipe[2], done_pipe[2];
  if (::pipe2(ready_pipe, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  UniqueFd ready_read(ready_pipe[0]), ready_write(ready_pipe[1]);
  if (::pipe2(done_pipe, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  UniqueFd done_read(done_pipe[0]), done_write(done_pipe[1]);
  const pid_t child = ::fork();
  if (child < 0) return system_error("fork", errno);
  if (child == 0) {
    done_write.reset();
    ready_read.reset();
    char byte = ::unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
    [[maybe_unused]] const ssize_t sent = ::write(ready_write.get(), &byte, 1);
    [[maybe_unused]] const ssize_t got = ::read(done_read.get(), &byte, 1);  // EOF: parent done
    _exit(0);
  }
  ready_write.reset();
  done_read.reset();
  char answer = 'n';
  ssize_t got;
  do {
    got = ::read(ready_read.get(), &answer, 1);
  } while (got < 0 && errno == EINTR);
  UniqueFd netns;
  int open_errno = 0;
  if (got == 1 && answer == 'y') {
    netns.reset(::open(("/proc/" + std::to_string(child) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    open_errno = errno;
  }
  done_write.reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != 1) return make_error("namespace helper child ended early (status " + std::to_string(status) + ")");
  if (answer != 'y') return make_error("unshare(CLONE_NEWNET) failed in the namespace helper child");
  if (!netns) return system_error("open(/proc/PID/ns/net)", open_errno);
  return netns;
}

// The floor under every process of the daemon (policy/listener.policy): a deny list, applied
// once start-up is done. Every session monitor, child and helper spawned afterwards inherits it
// across fork and exec, beneath its own allowlist. A syscall it denies is named in the log.
Result<void> install_seccomp_floor() {
  const auto* floor = policy::find_policy("listener");
  // SECURITY: fail closed: a binary without the floor does not serve.
  if (floor == nullptr) return make_error("no seccomp policy for role listener");
  if (!policy::install_violation_reporter("listener", STDERR_FILENO, policy::ReportFormat::kLine)) {
    return system_error("sigaction(SIGSYS)", errno);
  }
  return policy::install_floor_policy(*floor);
}

class Listener {
 public:
  explicit Listener(std::string config_path) : config_path_(std::move(config_path)) {}
  int run();

 private:
  Result<void> apply_config(Config config);
  void accept_clients(int listen_fd, bool implicit_tls);
  void spawn_session(UniqueFd client, const std::string& key, bool implicit_tls);
  Result<void> bind_all(const Config& config);
  void reap_children();
  void reload();
  void shut_down();

  std::string config_path_;
  Config config_;
  UniqueFd config_memfd_;
  UniqueFd tls_memfd_;  // certificate chain and key, validated; only with tls_enable
  UniqueFd devnull_;
  UniqueFd empty_netns_;
  struct ListenSocket {
    UniqueFd fd;
    bool implicit_tls;  // tls_implicit_port: TLS from the first byte
  };
  std::vector<ListenSocket> listen_sockets_;
  struct Session {
    std::uint64_t id;
    std::string client_key;
    UniqueFd report;               // the monitor's login results ('F' failure, 'S' success)
    std::uint32_t reported = 0;    // bytes taken from it (bounded per session)
  };
  std::map<pid_t, Session> sessions_;  // by monitor pid
  LoginThrottle throttle_;
  void read_report(Session& session);
  ClientLimits limits_{0, 0};
  std::uint64_t next_session_id_ = 1;
};

Result<void> Listener::apply_config(Config config) {
  auto chroot_dir = prepare_empty_directory(config.secure_chroot_dir);
  if (!chroot_dir) return chroot_dir;
  UniqueFd tls_memfd;
  if (config.tls_enable) {
    // Certificate and key are read and checked here, at start and on SIGHUP: a bad file is
    // reported now and the sessions keep the last good pair.
    auto credentials = load_tls_credentials(config);
    if (!credentials) return credentials.error();
    if (!credentials->warning.empty()) log_warning(credentials->warning);
    auto sealed = make_sealed_memfd("wardenftpd-tls", credentials->bundle);
    wipe(credentials->bundle);
    if (!sealed) return sealed.error();
    auto tls_high = move_high(std::move(*sealed));
    if (!tls_high) return tls_high.error();
    tls_memfd = std::move(*tls_high);
  }
  auto memfd = make_sealed_memfd("wardenftpd-config", serialize_config(config));
  if (!memfd) return memfd.error();
  auto high = move_high(std::move(*memfd));
  if (!high) return high.error();
  config_memfd_ = std::move(*high);
  tls_memfd_ = std::move(tls_memfd);
  config_ = std::move(config);
  limits_.set_limits(config_.max_per_ip, config_.connect_rate_per_ip);
  set_log_level(parse_log_level(config_.log_level));
  return ok_result();
}

void Listener::spawn_session(UniqueFd accepted, const std::string& key, bool implicit_tls) {
  const std::uint64_t session_id = next_session_id_++;
  auto moved = move_high(std::move(accepted));
  if (!moved) {
    log_error(moved.error().message);
    return;
  }
  UniqueFd client = std::move(*moved);
  auto peer = SocketAddress::peer_of(client.get());
  const std::string peer_text = peer ? peer->to_string() : "unknown";

  // The monitor reports each login attempt's result on this pipe (throttling across sessions).
  int report_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) != 0) {
    log_error(system_error("pipe2", errno).message);
    return;
  }
  UniqueFd report_read(report_pipe[0]);
  UniqueFd report_write(report_pipe[1]);
  ::fcntl(report_read.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(report_write.get(), F_SETFL, O_NONBLOCK);
  auto report_high = move_high(std::move(report_write));
  if (!report_high) {
    log_error(report_high.error().message);
    return;
  }
  report_write = std::move(*report_high);
  const std::uint32_t prior_failures = throttle_.recent_failures(key, std::chrono::steady_clock::now());

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  // The fixed layout: 0,1 /dev/null, 2 the log (our stderr), 3 client, 4 configuration,
  // 5 the empty network namespace, 6 the TLS bundle (tls_enable only).
  posix_spawn_file_actions_adddup2(&actions, devnull_.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, devnull_.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, client.get(), kSessionClientFd);
  posix_spawn_file_actions_adddup2(&actions, config_memfd_.get(), kSessionConfigFd);
  posix_spawn_file_actions_adddup2(&actions, empty_netns_.get(), kSessionNetnsFd);
  // 6 is /dev/null without TLS, so that 7 lands where the monitor expects it.
  posix_spawn_file_actions_adddup2(&actions, tls_memfd_ ? tls_memfd_.get() : devnull_.get(),
                                   kSessionTlsFd);
  posix_spawn_file_actions_adddup2(&actions, report_write.get(), kSessionReportFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, kSessionReportFd + 1);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int signal_number : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) {
    sigaddset(&defaults, signal_number);
  }
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const std::string id_text = std::to_string(session_id);
  char arg0[] = "wardenftpd";
  char arg1[] = "--session";
  char arg_implicit[] = "--implicit-tls";
  char arg_failures[] = "--prior-failures";
  std::string id_copy = id_text;
  std::string failures_text = std::to_string(prior_failures);
  std::vector<char*> argv = {arg0, arg1, id_copy.data(), arg_failures, failures_text.data()};
  if (implicit_tls) argv.push_back(arg_implicit);
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  pid_t pid = 0;
  // SECURITY: exec, not just fork: every session gets a fresh address-space layout and stack
  // canary, so one connection cannot learn another's by brute force.
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    log_error(system_error("posix_spawn(session monitor)", rc).message);
    if (!implicit_tls) {
      (void)write_all(client.get(), "421 Service not available, closing control connection.\r\n");
    }
    return;
  }
  sessions_[pid] = Session{session_id, key, std::move(report_read), 0};
  limits_.session_started(key);
  log_info("session " + id_text + " from " + peer_text + " (monitor pid " + std::to_string(pid) + ")");
}

void Listener::accept_clients(int listen_fd, bool implicit_tls) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    SocketAddress peer;
    UniqueFd client(::accept4(listen_fd, peer.raw(), peer.length_ptr(), SOCK_CLOEXEC));
    if (!client) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ECONNABORTED || errno == EPROTO) continue;
      log_error(system_error("accept4", errno).message);
      // EMFILE and friends: back off briefly rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return;
    }
    if (sessions_.size() >= config_.max_clients) {
      log_warning("refusing " + peer.to_string() + ": max_clients (" +
                  std::to_string(config_.max_clients) + ") reached");
      // Non-blocking best effort: a client that does not read does not stall the listener.
      // (A client of the implicit TLS port expects TLS, not a clear reply: it is just closed.)
      if (!implicit_tls) {
        ::send(client.get(), kTooManyClients.data(), kTooManyClients.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      continue;
    }
    const std::string key = client_key(peer);
    const auto decision = limits_.admit(key, std::chrono::steady_clock::now());
    if (decision != ClientLimits::Decision::kAllow) {
      const bool too_many = decision == ClientLimits::Decision::kTooManySessions;
      log_warning("refusing " + peer.to_string() + ": " +
                  (too_many ? "max_per_ip (" + std::to_string(config_.max_per_ip) + ") reached"
                            : "connect_rate_per_ip (" + std::to_string(config_.connect_rate_per_ip) +
                                  "/s) exceeded"));
      const std::string_view text = too_many ? kTooManyFromAddress : kTooFast;
      if (!implicit_tls) ::send(client.get(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      continue;
    }
    spawn_session(std::move(client), key, implicit_tls);
  }
}

Result<void> Listener::bind_all(const Config& config) {
  for (const bool implicit_tls : {false, true}) {
    const std::uint16_t port = implicit_tls ? config.tls_implicit_port : config.listen_port;
    if (port == 0) continue;
    for (const auto& host : config.listen_addresses) {
      auto fd = bind_listen_socket(host, port);
      if (!fd) return fd.error();
      listen_sockets_.push_back(ListenSocket{std::move(*fd), implicit_tls});
    }
  }
  return ok_result();
}

void Listener::read_report(Session& session) {
  if (!session.report) return;
  // At most max_login_attempts + 1 results per session count; more is a misbehaving monitor.
  const std::uint32_t limit = config_.max_login_attempts + 1;
  char buffer[64];
  for (;;) {
    const ssize_t n = ::read(session.report.get(), buffer, sizeof(buffer));
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) session.report.reset();
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    for (ssize_t i = 0; i < n && session.reported < limit; ++i, ++session.reported) {
      if (buffer[i] == 'F') throttle_.record_failure(session.client_key, now);
      if (buffer[i] == 'S') throttle_.record_success(session.client_key);
    }
  }
}

void Listener::reap_children() {
  // SIGCHLD coalesces: reap until nothing is left.
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = sessions_.find(pid);
    if (it == sessions_.end()) continue;
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                        : WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS
                            ? std::string("was killed by its seccomp filter (SIGSYS)")
                            : "was killed by signal " + std::to_string(WTERMSIG(status));
      log_warning("session " + std::to_string(it->second.id) + " monitor " + how);
    }
    read_report(it->second);  // what the monitor wrote before it ended
    limits_.session_ended(it->second.client_key);
    sessions_.erase(it);
  }
}

void Listener::reload() {
  auto config = load_config_file(config_path_);
  if (!config) {
    log_error("reload refused, keeping the current configuration: " + config.error().message);
    return;
  }
  if (config->listen_addresses != config_.listen_addresses || config->listen_port != config_.listen_port ||
      config->tls_implicit_port != config_.tls_implicit_port) {
    log_warning("reload: listen_address, listen_port and tls_implicit_port changes need a "
                "restart; kept the old ones");
    config->listen_addresses = config_.listen_addresses;
    config->listen_port = config_.listen_port;
    config->tls_implicit_port = config_.tls_implicit_port;
    if (config->tls_implicit_port != 0 && !config->tls_enable) {
      log_error("reload refused, keeping the current configuration: tls_implicit_port is in "
                "use, so tls_enable must stay yes");
      return;
    }
  }
  auto applied = apply_config(std::move(*config));
  if (!applied) {
    log_error("reload refused, keeping the current configuration: " + applied.error().message);
    return;
  }
  log_info("configuration reloaded from " + config_path_ + "; it applies to new sessions");
}

void Listener::shut_down() {
  log_info("shutting down: closing listening sockets, ending " + std::to_string(sessions_.size()) +
           " session(s)");
  listen_sockets_.clear();
  for (const auto& [pid, id] : sessions_) ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!sessions_.empty() && std::chrono::steady_clock::now() < deadline) {
    reap_children();
    if (!sessions_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& [pid, id] : sessions_) ::kill(pid, SIGKILL);
  while (!sessions_.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0 && errno != EINTR) break;
    sessions_.erase(pid);
  }
}

int Listener::run() {
  auto config = load_config_file(config_path_);
  if (!config) {
    log_error(config.error().message);
    return 1;
  }
  auto applied = apply_config(std::move(*config));
  if (!applied) {
    log_error(applied.error().message);
    return 1;
  }
  auto devnull = move_high(UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (!devnull) {
    log_error("/dev/null: " + devnull.error().message);
    return 1;
  }
  devnull_ = std::move(*devnull);
  auto netns = create_empty_network_namespace();
  if (!netns) {
    log_error("empty network namespace for sessions: " + netns.error().message);
    return 1;
  }
  auto netns_high = move_high(std::move(*netns));
  if (!netns_high) {
    log_error(netns_high.error().message);
    return 1;
  }
  empty_netns_ = std::move(*netns_high);
  auto bound = bind_all(config_);
  if (!bound) {
    log_error(bound.error().message);
    return 1;
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    log_error(system_error("pipe2", errno).message);
    return 1;
  }
  UniqueFd signal_read(pipe_fds[0]);
  UniqueFd signal_write(pipe_fds[1]);
  auto handlers = install_signal_handlers(signal_write.get());
  if (!handlers) {
    log_error(handlers.error().message);
    return 1;
  }
  // Start-up is done (namespace made, sockets bound): from here on, and in every process spawned
  // from here, the floor applies.
  auto floor = install_seccomp_floor();
  if (!floor) {
    log_error("seccomp floor: " + floor.error().message);
    return 1;
  }
  std::string where;
  for (const std::uint16_t port : {config_.listen_port, config_.tls_implicit_port}) {
    if (port == 0) continue;
    for (const auto& host : config_.listen_addresses) {
      where += (where.empty() ? "" : ", ") +
               (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               std::to_string(port) + (port == config_.tls_implicit_port ? " (implicit TLS)" : "");
    }
  }
  log_info("listening on " + where + (config_.tls_enable ? "; AUTH TLS offered" : ""));

  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({signal_read.get(), POLLIN, 0});
    for (const auto& socket : listen_sockets_) fds.push_back({socket.fd.get(), POLLIN, 0});
    const std::size_t first_report = fds.size();
    std::vector<pid_t> report_owner;
    for (const auto& [pid, session] : sessions_) {
      if (!session.report) continue;
      fds.push_back({session.report.get(), POLLIN, 0});
      report_owner.push_back(pid);
    }
    const int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_error(system_error("poll", errno).message);
      shut_down();
      return 1;
    }
    if (fds[0].revents != 0) {
      unsigned char signals[64];
      bool stop = false, reload_requested = false;
      ssize_t got;
      while ((got = ::read(signal_read.get(), signals, sizeof(signals))) > 0) {
        for (ssize_t i = 0; i < got; ++i) {
          if (signals[i] == SIGTERM || signals[i] == SIGINT) stop = true;
          if (signals[i] == SIGHUP) reload_requested = true;
        }
      }
      reap_children();
      if (stop) {
        shut_down();
        log_info("stopped");
#if defined(WFTPD_SANITIZE)
        // Sanitizer builds: a leak in the long-lived listener fails its SIGTERM exit status,
        // which every end-to-end test checks.
        if (__lsan_do_recoverable_leak_check() != 0) {
          log_error("LeakSanitizer found leaks in the listener");
          return 23;
        }
#endif
        return 0;
      }
      if (reload_requested) reload();
    }
    for (std::size_t i = first_report; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto it = sessions_.find(report_owner[i - first_report]);
      if (it != sessions_.end()) read_report(it->second);
    }
    for (std::size_t i = 1; i < first_report; ++i) {
      if (fds[i].revents & POLLIN) accept_clients(fds[i].fd, listen_sockets_[i - 1].implicit_tls);
    }
  }
}

}  // namespace

Result<Config> load_config_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error("open(" + path + ")", errno);
  auto text = read_whole_fd(fd.get(), 1u << 20);
  if (!text) return make_error(path + ": " + text.error().message);
  auto config = parse_config(*text, path);
  if (!config) return config.error();
  auto resolved = resolve_users(*config);
  if (!resolved) return make_error(path + ": " + resolved.error().message);
  if (config->anonymous_enable) {
    struct stat st{};
    if (::stat(config->anon_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return make_error(path + ": anon_root " + config->anon_root + " is not a directory");
    }
    const std::string upload = config->anon_root + config->anon_upload_dir;
    if (!config->anon_upload_dir.empty() &&
        (::lstat(upload.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
      return make_error(path + ": anon_upload_dir " + upload + " is not a directory");
    }
  }
  return config;
}

int run_listener(const std::string& config_path) {
  set_log_context("listener");
  Listener listener(config_path);
  return listener.run();
}

}  // namespace wftpd
