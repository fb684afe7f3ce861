#include "priv/pam_backend.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/exit_codes.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "priv/child_exit.hpp"
#include "priv/privilege_drop.hpp"

namespace wftpd {
namespace {

// PAM modules may wait on a directory server; a helper silent for this long is stopped.
constexpr std::chrono::seconds kVerdictTimeout{30};
constexpr int kHelperChannelFd = 3;

// In the forked child, before exec: 0-2 /dev/null, 3 the channel, nothing else.
[[noreturn]] void become_waiting_child(const Config& config, int channel_fd, int devnull_fd,
                                       pid_t monitor_pid) {
  set_process_name("wftpd:pam-wait");
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || ::getppid() != monitor_pid) _exit(0);
  const int channel_high = ::fcntl(channel_fd, F_DUPFD_CLOEXEC, 10);
  const int devnull_high = ::fcntl(devnull_fd, F_DUPFD_CLOEXEC, 10);
  if (channel_high < 0 || devnull_high < 0) _exit(kExitExecFailed);
  for (const int target : {0, 1, 2}) {
    if (::dup2(devnull_high, target) < 0) _exit(kExitExecFailed);
  }
  if (::dup2(channel_high, kHelperChannelFd) < 0) _exit(kExitExecFailed);
  // SECURITY: nothing else the monitor holds (client socket, config, log, TLS bundle) goes to
  // the helper: its only input and output is the channel.
  if (::close_range(kHelperChannelFd + 1, ~0U, 0) != 0) _exit(kExitExecFailed);
  // Wait, without consuming it, for the first request: a session whose logins never reach PAM
  // (virtual users, anonymous, a client that leaves) never pays for loading PAM.
  char byte;
  ssize_t n;
  do {
    n = ::recv(kHelperChannelFd, &byte, 1, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) _exit(0);
  const std::string parent = std::to_string(monitor_pid);
  const std::string requests = std::to_string(config.max_login_attempts);
  char* const argv[] = {const_cast<char*>("wardenftpd-pam-helper"),
                        const_cast<char*>("--parent"), const_cast<char*>(parent.c_str()),
                        const_cast<char*>("--requests"), const_cast<char*>(requests.c_str()),
                        nullptr};
  // A fixed environment: nothing of the listener's (which passes none anyway) reaches PAM.
  char* const envp[] = {const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nullptr};
  ::execve(config.pam_helper.c_str(), argv, envp);
  _exit(kExitExecFailed);
}

Result<void> check_root_owned(const std::string& path, bool directory) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return system_error("stat(" + path + ")", errno);
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    return make_error(path + " is not a " + (directory ? "directory" : "regular file"));
  }
  // SECURITY: the monitor execs this as root: whoever could replace it would be root.
  if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return make_error(path + " must be owned by root and not writable by group or others");
  }
  if (!directory && (st.st_mode & S_IXUSR) == 0) return make_error(path + " is not executable");
  return ok_result();
}

}  // namespace

Result<void> check_pam_configuration(const Config& config) {
  if (!config.pam_enable) return ok_result();
  auto helper = check_root_owned(config.pam_helper, false);
  if (!helper) return make_error("pam_helper: " + helper.error().message);
  const std::string directory = config.pam_helper.substr(0, config.pam_helper.rfind('/'));
  auto parent = check_root_owned(directory.empty() ? "/" : directory, true);
  if (!parent) return make_error("pam_helper: " + parent.error().message);
  struct stat st{};
  if (::stat(("/etc/pam.d/" + config.pam_service).c_str(), &st) != 0 &&
      ::stat(("/usr/lib/pam.d/" + config.pam_service).c_str(), &st) != 0) {
    return make_error("pam_service: neither /etc/pam.d/" + config.pam_service +
                      " nor /usr/lib/pam.d/" + config.pam_service +
                      " exists (PAM would use the \"other\" service)");
  }
  return ok_result();
}

Result<void> PamBackend::start(const Config& config) {
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return system_error("open(/dev/null)", errno);
  auto pair = make_monitor_socketpair();
  if (!pair) return pair.error();
  const pid_t monitor_pid = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return system_error("fork(PAM helper)", errno);
  if (pid == 0) {
    pair->first.reset();
    become_waiting_child(config, pair->second.get(), devnull.get(), monitor_pid);
  }
  pid_ = pid;
  channel_ = MonitorChannel(std::move(pair->first));
  requests_left_ = config.max_login_attempts;
  return ok_result();
}

Result<PamVerdict> PamBackend::authenticate(const PamCheck& check) {
  if (!channel_.valid()) return make_error("the PAM helper is not running");
  // SECURITY: the helper serves a bounded number of requests; so does the monitor ask.
  if (requests_left_ == 0) return make_error("no PAM requests left in this session");
  --requests_left_;
  auto sent = channel_.send(check);
  if (!sent) {
    finish();
    return make_error("sending to the PAM helper: " + sent.error().message);
  }
  auto verdict = channel_.expect<PamVerdict>(nullptr, kVerdictTimeout);
  if (!verdict) {
    const std::string what = verdict.error().message;
    finish();
    return make_error("no valid verdict from the PAM helper (" + what + ")");
  }
  return verdict;
}

void PamBackend::finish() {
  channel_.close();
  if (pid_ <= 0) return;
  int status = 0;
  pid_t done = 0;
  for (int waited_ms = 0; waited_ms < 500; waited_ms += 2) {
    done = ::waitpid(pid_, &status, WNOHANG);
    if (done != 0) break;
    const timespec pause{0, 2'000'000};
    ::nanosleep(&pause, nullptr);
  }
  if (done != pid_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    log_warning("PAM helper did not exit when its channel closed; stopped");
  } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    log_warning("PAM helper " + describe_exit(status));
  }
  pid_ = 0;
}

}  // namespace wftpd
