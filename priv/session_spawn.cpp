#include "priv/session_spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <vector>

#include "common/io.hpp"
#include "common/log.hpp"
#include "common/secret_wipe.hpp"
#include "common/tls_context.hpp"
#include "policy/embedded_policy.hpp"
#include "policy/violation_report.hpp"
#include "priv/secure_directory.hpp"
#include "priv/session_monitor.hpp"
#include "priv/transfer_log.hpp"

namespace wftpd {
namespace {

// The signals the listener handles or ignores; a monitor starts with all of them at default.
constexpr std::initializer_list<int> kSignalsReset = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE};

// The arguments of `wardenftpd --session ID --prior-failures N [--implicit-tls]
// [--proxied-client ADDR:PORT [--proxied-destination ADDR:PORT]]`.
class SessionArguments {
 public:
  explicit SessionArguments(const SessionLaunch& launch)
      : id_(launch.session_id),
        failures_(std::to_string(launch.prior_failures)),
        proxied_client_(launch.proxied_client),
        proxied_destination_(launch.proxied_destination) {
    argv_ = {arg0_, session_, id_.data(), prior_failures_, failures_.data()};
    if (launch.implicit_tls) argv_.push_back(implicit_);
    // The monitor cannot learn these from the socket: the client a trusted proxy named, and the
    // proxy's address the client connected to (what PASV announces unless pasv_address is set).
    if (!proxied_client_.empty()) {
      argv_.push_back(proxied_client_arg_);
      argv_.push_back(proxied_client_.data());
    }
    if (!proxied_destination_.empty()) {
      argv_.push_back(proxied_destination_arg_);
      argv_.push_back(proxied_destination_.data());
    }
    argv_.push_back(nullptr);
  }
  // argv_ points into this object.
  SessionArguments(const SessionArguments&) = delete;
  SessionArguments& operator=(const SessionArguments&) = delete;
  char* const* argv() { return argv_.data(); }

 private:
  char arg0_[11] = "wardenftpd";
  char session_[10] = "--session";
  char prior_failures_[17] = "--prior-failures";
  char implicit_[15] = "--implicit-tls";
  char proxied_client_arg_[17] = "--proxied-client";
  char proxied_destination_arg_[22] = "--proxied-destination";
  std::string id_;
  std::string failures_;
  std::string proxied_client_;
  std::string proxied_destination_;
  std::vector<char*> argv_;
};

// The fixed layout as (source, target) pairs: 2 the log (first: it may be a low descriptor the
// later pairs overwrite), 0,1 /dev/null, 3 client, 4 configuration, 5 the empty network
// namespace, 6 the TLS bundle (tls_enable only; /dev/null otherwise, so that 7 lands where the
// monitor expects it), 7 the report socket, 8 the transfer log (xferlog_enable only; /dev/null
// when a later slot follows), 9 the session's ticket keys (tls_enable only; /dev/null when 10
// follows), 10 the image being exec'd (wardenftpd-session only). The monitor closes the
// /dev/null fillers and the image first thing (close_unused_session_descriptors).
std::vector<std::pair<int, int>> fixed_layout(const SessionLaunch& launch) {
  std::vector<std::pair<int, int>> layout;
  if (launch.log >= 0) layout.emplace_back(launch.log, 2);
  layout.insert(layout.end(), {{launch.devnull, 0},
                               {launch.devnull, 1},
                               {launch.client, kSessionClientFd},
                               {launch.config, kSessionConfigFd},
                               {launch.netns, kSessionNetnsFd},
                               {launch.tls_bundle >= 0 ? launch.tls_bundle : launch.devnull, kSessionTlsFd},
                               {launch.report, kSessionReportFd}});
  if (launch.xferlog >= 0 || launch.ticket_keys >= 0 || launch.image >= 0) {
    layout.emplace_back(launch.xferlog >= 0 ? launch.xferlog : launch.devnull, kSessionXferlogFd);
  }
  if (launch.ticket_keys >= 0 || launch.image >= 0) {
    layout.emplace_back(launch.ticket_keys >= 0 ? launch.ticket_keys : launch.devnull,
                        kSessionTicketKeysFd);
  }
  if (launch.image >= 0) layout.emplace_back(launch.image, kSessionImageFd);
  return layout;
}

// Every descriptor from this one up is closed in the monitor.
int first_unused_fd(const SessionLaunch& launch) {
  if (launch.image >= 0) return kSessionImageFd + 1;
  if (launch.ticket_keys >= 0) return kSessionTicketKeysFd + 1;
  return (launch.xferlog >= 0 ? kSessionXferlogFd : kSessionReportFd) + 1;
}

// What is exec'd: the image in slot 10 (placed by fixed_layout, so it exists in the process
// that execs), else this binary. Both name an inode, not a path that could be replaced.
const char* image_path(const SessionLaunch& launch) {
  return launch.image >= 0 ? "/proc/self/fd/10" : "/proc/self/exe";
}
static_assert(kSessionImageFd == 10, "image_path() names the slot");

}  // namespace

Result<UniqueFd> move_high(UniqueFd fd) {
  UniqueFd high(::fcntl(fd.get(), F_DUPFD_CLOEXEC, kFirstHighFd));
  if (!high) return system_error("fcntl(F_DUPFD_CLOEXEC)", errno);
  return high;
}

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

Result<UniqueFd> make_ticket_key_pipe(const TicketKeys& keys) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  UniqueFd read_end(ends[0]), write_end(ends[1]);
  // 80 bytes fit in any pipe buffer: the write completes at once and the monitor reads them
  // whenever it starts.
  const std::string_view bytes(reinterpret_cast<const char*>(keys.data()), keys.size());
  auto written = write_all(write_end.get(), bytes);
  if (!written) return written.error();
  return move_high(std::move(read_end));
}

// The listener creates one namespace and every sandboxed child of every session joins it
// (setns), which costs far less per session than creating and tearing down a namespace each
// time (inetd mode creates one per connection). It has only a loopback interface that is down,
// and the children that join it cannot create sockets at all (seccomp); the namespace is their
// second wall.
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

Result<SessionResources> prepare_session_resources(const ValidConfig& valid) {
  const Config& config = valid.config;
  auto chroot_dir = prepare_empty_directory(config.secure_chroot_dir);
  if (!chroot_dir) return make_error("secure_chroot_dir: " + chroot_dir.error().message);
  SessionResources resources;
  // Opened anew on every reload (SIGHUP), which is how log rotation hands over a fresh file.
  if (config.xferlog_enable) {
    auto opened = open_transfer_log(config.xferlog_file);
    if (!opened) return opened.error();
    auto high = move_high(std::move(*opened));
    if (!high) return high.error();
    resources.xferlog = std::move(*high);
  }
  if (config.tls_enable) {
    // SECURITY: the pair validate_config() read and checked; a monitor never reads a key file.
    if (valid.tls.bundle.empty()) return make_error("tls_enable=yes but no TLS credentials were loaded");
    if (!valid.tls.warning.empty()) log_warning(valid.tls.warning);
    auto sealed = make_sealed_memfd("wardenftpd-tls", valid.tls.bundle);
    if (!sealed) return sealed.error();
    auto high = move_high(std::move(*sealed));
    if (!high) return high.error();
    resources.tls_bundle = std::move(*high);
  }
  auto memfd = make_sealed_memfd("wardenftpd-config", serialize_config(config));
  if (!memfd) return memfd.error();
  auto high = move_high(std::move(*memfd));
  if (!high) return high.error();
  resources.config = std::move(*high);
  return resources;
}

Result<SessionHost> prepare_session_host() {
  auto devnull = move_high(UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (!devnull) return make_error("/dev/null: " + devnull.error().message);
  auto netns = create_empty_network_namespace();
  if (!netns) return make_error("empty network namespace for sessions: " + netns.error().message);
  auto netns_high = move_high(std::move(*netns));
  if (!netns_high) return netns_high.error();
  return SessionHost{std::move(*devnull), std::move(*netns_high), find_lean_session_image()};
}

Result<UniqueFd> session_ticket_key_pipe(const TicketSecret* secret, std::string_view client_host) {
  auto keys = secret != nullptr ? derive_ticket_keys(*secret, client_host) : make_ticket_keys();
  if (!keys) return make_error("session ticket keys: " + keys.error().message);
  auto pipe = make_ticket_key_pipe(*keys);
  wipe_bytes(keys->data(), keys->size());
  if (!pipe) return make_error("session ticket keys: " + pipe.error().message);
  return pipe;
}

SessionLaunch make_session_launch(const SessionHost& host, const SessionResources& resources,
                                  int client, int report) {
  SessionLaunch launch;
  launch.devnull = host.devnull.get();
  launch.netns = host.netns.get();
  launch.client = client;
  launch.report = report;
  launch.config = resources.config.get();
  launch.tls_bundle = resources.tls_bundle ? resources.tls_bundle.get() : -1;
  launch.xferlog = resources.xferlog ? resources.xferlog.get() : -1;
  // SECURITY: a configuration with TLS always runs the full image (and the image without TLS
  // would refuse it: run_session_monitor).
  launch.image = resources.tls_bundle ? -1 : host.lean_image.fd.get();
  return launch;
}

Result<pid_t> spawn_session_monitor(const SessionLaunch& launch) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  for (const auto& [source, target] : fixed_layout(launch)) {
    posix_spawn_file_actions_adddup2(&actions, source, target);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, first_unused_fd(launch));
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int signal_number : kSignalsReset) sigaddset(&defaults, signal_number);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  SessionArguments arguments(launch);
  char* envp[] = {nullptr};
  pid_t pid = 0;
  // SECURITY: exec, not just fork: every session gets a fresh address-space layout and stack
  // canary, so one connection cannot learn another's by brute force.
  const int rc = ::posix_spawn(&pid, image_path(launch), &actions, &attributes, arguments.argv(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) return system_error("posix_spawn(session monitor)", rc);
  return pid;
}

Error exec_session_monitor(const SessionLaunch& launch) {
  for (const auto& [source, target] : fixed_layout(launch)) {
    if (::dup2(source, target) < 0) return system_error("dup2", errno);  // clears close-on-exec
  }
  if (::syscall(SYS_close_range, first_unused_fd(launch), ~0U, 0) != 0) return system_error("close_range", errno);
  for (const int signal_number : kSignalsReset) ::signal(signal_number, SIG_DFL);
  sigset_t empty;
  sigemptyset(&empty);
  if (::sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) return system_error("sigprocmask", errno);
  SessionArguments arguments(launch);
  char* envp[] = {nullptr};
  ::execve(image_path(launch), arguments.argv(), envp);
  return system_error(std::string("execve(") + image_path(launch) + ")", errno);
}

}  // namespace wftpd
