#include "priv/session_children.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "common/exit_codes.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "priv/child_exit.hpp"
#include "priv/privilege_drop.hpp"

namespace wftpd {
namespace {

// Puts the child's descriptors in the fixed layout: 0-1 /dev/null, 2 the log until the sandbox
// is complete, 3 control, 4 monitor, 5 /dev/null (replaces the log just before seccomp),
// 6 the empty network namespace (joined and closed first thing in the sandbox), 7 unused (no
// child ever gets the TLS credential memfd), 8 the TLS relay socket (TLS sessions).
constexpr int kChildDevNullFd = 5;
constexpr int kChildNetnsFd = 6;
constexpr int kChildUnusedFd = 7;  // closed: whatever the monitor had there does not leak in
constexpr int kChildLastFd = kChildRelayFd;

struct ChildFds {
  int devnull = -1;
  int control = -1;
  int monitor = -1;
  int netns = -1;
  int relay = -1;  // -1: none
};

[[nodiscard]] bool arrange_child_fds(const ChildFds& fds) {
  const std::pair<int, int> moves[] = {
      {fds.devnull, 0},           {fds.devnull, 1},
      {fds.control, kChildControlFd}, {fds.monitor, kChildMonitorFd},
      {fds.devnull, kChildDevNullFd}, {fds.netns, kChildNetnsFd},
      {-1, kChildUnusedFd}, {fds.relay, kChildRelayFd}};
  // Move the sources above the target range first so dup2 cannot clobber one with another.
  int high[std::size(moves)];
  for (std::size_t i = 0; i < std::size(moves); ++i) {
    high[i] = -1;
    if (moves[i].first < 0) continue;
    high[i] = ::fcntl(moves[i].first, F_DUPFD_CLOEXEC, 20);
    if (high[i] < 0) return false;
  }
  for (std::size_t i = 0; i < std::size(moves); ++i) {
    if (high[i] < 0) {
      ::close(moves[i].second);
      continue;
    }
    if (::dup2(high[i], moves[i].second) < 0) return false;
  }
  // SECURITY: nothing else the monitor held (config memfd, users file, other sockets) leaks in.
  return ::close_range(kChildLastFd + 1, ~0U, 0) == 0;
}

// The descriptors both children are made from, open in the monitor until they are forked.
struct LaunchFds {
  UniqueFd devnull;
  std::pair<UniqueFd, UniqueFd> preauth_pair;
  std::pair<UniqueFd, UniqueFd> postauth_pair;
  UniqueFd relay_preauth;   // TLS sessions: the byte stream between the pre-auth child (TLS
  UniqueFd relay_postauth;  // endpoint) and the post-auth child (FTP engine)
};

[[noreturn]] void become_preauth_child(const ChildLaunch& launch, LaunchFds& fds, pid_t monitor_pid) {
  set_process_name(role_spec(preauth_role(launch.config)).process_name);
  const Config& config = launch.config;
  ChildFds layout{fds.devnull.get(), launch.client_fd, fds.preauth_pair.second.get(), launch.netns_fd,
                  fds.relay_preauth.get()};
  if (!arrange_child_fds(layout)) _exit(kExitSandboxFailed);
  ChildSetup setup;
  setup.control_fd = kChildControlFd;
  setup.monitor_fd = kChildMonitorFd;
  setup.certificate_chain = launch.certificate_chain;
  setup.relay_fd = fds.relay_preauth ? kChildRelayFd : -1;
  setup.implicit_tls = launch.implicit_tls;
  setup.ticket_keys = launch.ticket_keys;
  setup.enter_sandbox = [&](const std::string& failure) {
    if (!failure.empty()) {
      log_error("pre-auth child: " + failure);
      return false;
    }
    // SECURITY: the filter and limits come from the roles table and follow the configuration:
    // what only TLS needs is allowed only when TLS is on.
    SandboxSpec spec = sandbox_spec(preauth_role(config));
    spec.violation_report_fd = kChildMonitorFd;
    spec.uid = config.nopriv_uid;
    spec.gid = config.nopriv_gid;
    spec.root = config.secure_chroot_dir;
    spec.network_namespace_fd = kChildNetnsFd;
    spec.expected_parent = monitor_pid;
    spec.stderr_replacement_fd = kChildDevNullFd;
    auto sandboxed = enter_sandbox(spec);
    if (!sandboxed) log_error("pre-auth sandbox: " + sandboxed.error().message);
    return sandboxed.ok();
  };
  _exit(launch.engines.run_preauth(config, setup));
}

// The standby child: forked before the monitor confines itself, it waits (doing nothing but one
// blocking read from the monitor) until a login is accepted, then becomes the post-auth child.
// Its only input is the monitor.
[[noreturn]] void become_standby_child(const ChildLaunch& launch, LaunchFds& fds, pid_t monitor_pid) {
  set_process_name("wftpd:standby");
  const Config& config = launch.config;
  fds.preauth_pair.first.reset();
  fds.preauth_pair.second.reset();
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != monitor_pid) _exit(0);
  ChildFds layout{fds.devnull.get(), launch.client_fd, fds.postauth_pair.second.get(), launch.netns_fd,
                  fds.relay_postauth.get()};
  if (!arrange_child_fds(layout)) _exit(kExitSandboxFailed);
  MonitorChannel monitor{UniqueFd(kChildMonitorFd)};
  auto become = monitor.expect<BecomeUser>();
  if (!become) _exit(0);  // session ended before a login
  set_process_name(role_spec(Role::kPostauth).process_name);
  ChildSetup setup;
  setup.control_fd = kChildControlFd;
  setup.monitor_fd = kChildMonitorFd;
  // SECURITY: the certificate only; with require_tls_session_reuse=no the data connections'
  // full handshakes ask the monitor for their signatures, as the control connection's do.
  setup.certificate_chain = launch.certificate_chain;
  setup.relay_fd = fds.relay_postauth ? kChildRelayFd : -1;
  setup.ticket_keys = launch.ticket_keys;
  setup.enter_sandbox = [&](const std::string& failure) {
    if (!failure.empty()) {
      (void)monitor.send(StandbyReady{false, failure.substr(0, kMaxReasonLength)});
      return false;
    }
    // SECURITY: a read-only (anonymous) session gets a filter without any write system call
    // (the roles table's postauth_role).
    SandboxSpec spec = sandbox_spec(postauth_role(config, become->read_only));
    spec.violation_report_fd = kChildMonitorFd;
    spec.uid = become->uid;
    spec.gid = become->gid;
    spec.root = become->root;
    spec.network_namespace_fd = kChildNetnsFd;
    spec.expected_parent = monitor_pid;
    spec.stderr_replacement_fd = kChildDevNullFd;
    ::umask(static_cast<mode_t>(become->policy.local_umask));
    auto sandboxed = enter_sandbox(spec);
    if (!sandboxed) {
      (void)monitor.send(StandbyReady{false, sandboxed.error().message.substr(0, kMaxReasonLength)});
      return false;
    }
    return monitor.send(StandbyReady{true, ""}).ok();
  };
  _exit(launch.engines.run_postauth(config, *become, setup));
}

bool reap(pid_t& pid, const char* role) {
  if (pid <= 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool normal = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                      (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  if (!normal) log_warning(std::string(role) + " child " + describe_exit(status));
  pid = 0;
  return ended_by_sandbox_violation(status);
}

}  // namespace

bool launch_session_children(const ChildLaunch& launch, SessionChildren& children) {
  LaunchFds fds;
  fds.devnull.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!fds.devnull) {
    log_error(system_error("open(/dev/null)", errno).message);
    return false;
  }
  auto preauth_pair = make_monitor_socketpair();
  auto postauth_pair = make_monitor_socketpair();
  if (!preauth_pair || !postauth_pair) {
    log_error((preauth_pair ? postauth_pair.error() : preauth_pair.error()).message);
    return false;
  }
  fds.preauth_pair = std::move(*preauth_pair);
  fds.postauth_pair = std::move(*postauth_pair);
  if (launch.config.tls_enable) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      log_error(system_error("socketpair(relay)", errno).message);
      return false;
    }
    fds.relay_preauth.reset(pair[0]);
    fds.relay_postauth.reset(pair[1]);
  }
  const pid_t monitor_pid = ::getpid();
  children.preauth_pid = ::fork();
  if (children.preauth_pid < 0) {
    log_error(system_error("fork", errno).message);
    return false;
  }
  if (children.preauth_pid == 0) become_preauth_child(launch, fds, monitor_pid);
  children.postauth_pid = ::fork();
  if (children.postauth_pid < 0) {
    log_error(system_error("fork", errno).message);
    return false;
  }
  if (children.postauth_pid == 0) become_standby_child(launch, fds, monitor_pid);
  children.preauth = MonitorChannel(std::move(fds.preauth_pair.first));
  children.postauth = MonitorChannel(std::move(fds.postauth_pair.first));
  return true;
}

bool stop_child(pid_t& pid, const char* role) {
  if (pid <= 0) return false;
  ::kill(pid, SIGKILL);
  return reap(pid, role);
}

std::uint32_t end_session_children(SessionChildren& children) {
  std::uint32_t violations = 0;
  children.preauth.close();
  children.postauth.close();
  // A child whose channel closed is normally exiting: give it a moment, so that its exit
  // status (idle timeout, stalled transfer, seccomp kill) can be logged. One that keeps running
  // is then stopped; every child is reaped, so no zombie outlives the monitor.
  for (pid_t* pid : {&children.preauth_pid, &children.postauth_pid}) {
    if (*pid <= 0) continue;
    const char* role = pid == &children.preauth_pid ? "pre-auth" : "post-auth";
    int status = 0;
    pid_t done = 0;
    for (int waited_ms = 0; waited_ms < 500; waited_ms += 5) {
      done = ::waitpid(*pid, &status, WNOHANG);
      if (done != 0) break;
      const timespec pause{0, 5'000'000};
      ::nanosleep(&pause, nullptr);
    }
    if (done == *pid) {
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        log_warning(std::string(role) + " child " + describe_exit(status));
      }
      if (ended_by_sandbox_violation(status)) ++violations;
      *pid = 0;
      continue;
    }
    if (stop_child(*pid, role)) ++violations;
  }
  return violations;
}

}  // namespace wftpd
