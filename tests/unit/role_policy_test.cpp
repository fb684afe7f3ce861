// Each role's embedded filter, applied in a forked process, stops what the role must never do.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "common/exit_codes.hpp"
#include "common/monitor_protocol.hpp"
#include "policy/embedded_policy.hpp"
#include "policy/violation_report.hpp"

namespace wftpd {
namespace {

enum class Expect { kKilled, kSurvives };

// Runs `action` in a child confined by `role`'s filter; returns how the child ended.
// Exit code 0 means the action returned; SIGSYS means the filter killed it.
int run_confined(const std::string& role, const std::function<void()>& action) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const auto* policy = policy::find_policy(role);
    if (policy == nullptr) _exit(90);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(91);
    if (!policy::install_policy(*policy)) _exit(92);
    action();
    ::syscall(SYS_exit_group, 0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

void expect_outcome(const std::string& role, Expect expect, const char* what,
                    const std::function<void()>& action) {
  const int status = run_confined(role, action);
  if (expect == Expect::kKilled) {
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
        << role << " was not killed by " << what << " (status " << status << ")";
  } else {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << role << " did not survive " << what << " (status " << status << ")";
  }
}

const char* const kSandboxedRoles[] = {"preauth",   "preauth-tls",      "postauth",
                                       "anonymous", "anonymous-upload", "monitor"};

TEST(RolePolicy, EveryRoleHasAnEmbeddedFilter) {
  for (const char* role : kSandboxedRoles) {
    const auto* policy = policy::find_policy(role);
    ASSERT_NE(policy, nullptr) << role;
    EXPECT_GT(policy->filter.size(), 4u) << role;
    EXPECT_FALSE(policy->pfc.empty()) << role;
  }
}

TEST(RolePolicy, EveryRoleMayWriteToAnInheritedDescriptor) {
  for (const char* role : kSandboxedRoles) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    expect_outcome(role, Expect::kSurvives, "write", [&] {
      if (::write(fds[1], "x", 1) != 1) ::syscall(SYS_exit_group, 3);
    });
    ::close(fds[0]);
    ::close(fds[1]);
  }
}

TEST(RolePolicy, NoRoleMayExecute) {
  for (const char* role : kSandboxedRoles) {
    expect_outcome(role, Expect::kKilled, "execve", [] {
      char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
      ::syscall(SYS_execve, "/bin/true", argv, nullptr);
    });
    expect_outcome(role, Expect::kKilled, "execveat",
                   [] { ::syscall(SYS_execveat, AT_FDCWD, "/bin/true", nullptr, nullptr, 0); });
  }
}

TEST(RolePolicy, NoRoleMayForkOrPtrace) {
  for (const char* role : kSandboxedRoles) {
    expect_outcome(role, Expect::kKilled, "fork", [] { ::syscall(SYS_fork); });
    expect_outcome(role, Expect::kKilled, "clone", [] { ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); });
    expect_outcome(role, Expect::kKilled, "ptrace",
                   [] { ::syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0); });
    expect_outcome(role, Expect::kKilled, "process_vm_readv",
                   [] { ::syscall(SYS_process_vm_readv, 1, nullptr, 0, nullptr, 0, 0); });
  }
}

TEST(RolePolicy, NoRoleMayChangeIdentityOrMount) {
  for (const char* role : kSandboxedRoles) {
    expect_outcome(role, Expect::kKilled, "setuid", [] { ::syscall(SYS_setuid, 0); });
    expect_outcome(role, Expect::kKilled, "chroot", [] { ::syscall(SYS_chroot, "/"); });
    expect_outcome(role, Expect::kKilled, "mount",
                   [] { ::syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, nullptr); });
    expect_outcome(role, Expect::kKilled, "unshare", [] { ::syscall(SYS_unshare, CLONE_NEWNET); });
    expect_outcome(role, Expect::kKilled, "bpf", [] { ::syscall(SYS_bpf, 0, nullptr, 0); });
  }
}

TEST(RolePolicy, NoRoleMayMapExecutableMemory) {
  for (const char* role : kSandboxedRoles) {
    expect_outcome(role, Expect::kKilled, "mmap(PROT_EXEC)", [] {
      ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    });
    expect_outcome(role, Expect::kKilled, "mprotect(PROT_EXEC)", [] {
      void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      ::mprotect(page, 4096, PROT_READ | PROT_EXEC);
    });
  }
}

TEST(RolePolicy, PreauthChildCannotOpenFilesOrSockets) {
  expect_outcome("preauth", Expect::kKilled, "openat",
                 [] { ::syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); });
  expect_outcome("preauth", Expect::kKilled, "openat2",
                 [] { ::syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", nullptr, 0); });
  expect_outcome("preauth", Expect::kKilled, "socket",
                 [] { ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); });
  expect_outcome("preauth", Expect::kKilled, "connect",
                 [] { ::syscall(SYS_connect, 3, nullptr, 0); });
  expect_outcome("preauth", Expect::kKilled, "unlinkat",
                 [] { ::syscall(SYS_unlinkat, AT_FDCWD, "/tmp/x", 0); });
}

TEST(RolePolicy, PostauthChildCannotCreateSockets) {
  for (const int domain : {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK}) {
    expect_outcome("postauth", Expect::kKilled, "socket",
                   [domain] { ::syscall(SYS_socket, domain, SOCK_STREAM, 0); });
  }
  expect_outcome("postauth", Expect::kKilled, "connect",
                 [] { ::syscall(SYS_connect, 3, nullptr, 0); });
  expect_outcome("postauth", Expect::kKilled, "kill", [] { ::syscall(SYS_kill, 1, SIGKILL); });
}

TEST(RolePolicy, AnonymousSessionCannotWriteToTheFileSystem) {
  expect_outcome("anonymous", Expect::kSurvives, "openat(O_RDONLY)", [] {
    const long fd = ::syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) ::close(static_cast<int>(fd));
  });
  for (const int flags : {O_WRONLY, O_RDWR, O_RDONLY | O_CREAT, O_RDONLY | O_TRUNC,
                          O_WRONLY | O_APPEND, O_TMPFILE | O_RDWR}) {
    expect_outcome("anonymous", Expect::kKilled, "openat(write flags)",
                   [flags] { ::syscall(SYS_openat, AT_FDCWD, "/tmp/x", flags, 0600); });
  }
  expect_outcome("anonymous", Expect::kKilled, "openat2",
                 [] { ::syscall(SYS_openat2, AT_FDCWD, "/tmp/x", nullptr, 0); });
  expect_outcome("anonymous", Expect::kKilled, "mkdirat",
                 [] { ::syscall(SYS_mkdirat, AT_FDCWD, "/tmp/x", 0700); });
  expect_outcome("anonymous", Expect::kKilled, "unlinkat",
                 [] { ::syscall(SYS_unlinkat, AT_FDCWD, "/tmp/x", 0); });
  expect_outcome("anonymous", Expect::kKilled, "renameat",
                 [] { ::syscall(SYS_renameat, AT_FDCWD, "/tmp/x", AT_FDCWD, "/tmp/y"); });
  expect_outcome("anonymous", Expect::kKilled, "ftruncate", [] { ::syscall(SYS_ftruncate, 0, 0); });
  expect_outcome("anonymous", Expect::kKilled, "socket",
                 [] { ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); });
}

TEST(RolePolicy, AnonymousDropBoxMayOnlyCreateNewFiles) {
  expect_outcome("anonymous-upload", Expect::kSurvives, "openat(O_CREAT|O_EXCL)", [] {
    const long fd = ::syscall(SYS_openat, AT_FDCWD, "/nonexistent-dir/x",
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(static_cast<int>(fd));
  });
  for (const int flags : {O_WRONLY, O_WRONLY | O_CREAT, O_WRONLY | O_CREAT | O_TRUNC,
                          O_WRONLY | O_APPEND, O_RDWR | O_CREAT | O_EXCL,
                          O_WRONLY | O_CREAT | O_EXCL | O_TRUNC}) {
    expect_outcome("anonymous-upload", Expect::kKilled, "openat(overwriting flags)",
                   [flags] { ::syscall(SYS_openat, AT_FDCWD, "/nonexistent-dir/x", flags, 0600); });
  }
  expect_outcome("anonymous-upload", Expect::kKilled, "unlinkat",
                 [] { ::syscall(SYS_unlinkat, AT_FDCWD, "/tmp/x", 0); });
  expect_outcome("anonymous-upload", Expect::kKilled, "renameat",
                 [] { ::syscall(SYS_renameat, AT_FDCWD, "/tmp/x", AT_FDCWD, "/tmp/y"); });
}

TEST(RolePolicy, MonitorCannotOpenFilesOrUnixSockets) {
  expect_outcome("monitor", Expect::kKilled, "openat",
                 [] { ::syscall(SYS_openat, AT_FDCWD, "/etc/shadow", O_RDONLY); });
  expect_outcome("monitor", Expect::kKilled, "socket(AF_UNIX)",
                 [] { ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); });
  expect_outcome("monitor", Expect::kKilled, "socket(AF_NETLINK)",
                 [] { ::syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0); });
  expect_outcome("monitor", Expect::kKilled, "kill(SIGTERM)",
                 [] { ::syscall(SYS_kill, 1, SIGTERM); });
  expect_outcome("monitor", Expect::kSurvives, "socket(AF_INET)", [] {
    const long fd = ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) ::close(static_cast<int>(fd));
  });
}



TEST(RolePolicy, PreauthTlsOnlyAddsNonBlockingSockets) {
  expect_outcome("preauth-tls", Expect::kSurvives, "fcntl(F_SETFL)",
                 [] { ::syscall(SYS_fcntl, 0, F_SETFL, O_NONBLOCK); });
  expect_outcome("preauth", Expect::kKilled, "fcntl(F_SETFL)",
                 [] { ::syscall(SYS_fcntl, 0, F_SETFL, O_NONBLOCK); });
  expect_outcome("preauth-tls", Expect::kKilled, "fcntl(F_SETOWN)",
                 [] { ::syscall(SYS_fcntl, 0, F_SETOWN, 1); });
  expect_outcome("preauth-tls", Expect::kKilled, "openat",
                 [] { ::syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); });
}

// The SIGSYS reporter: a forbidden syscall becomes one LogEvent naming it, then exit 71.
TEST(RolePolicy, ForbiddenSyscallIsReportedByNameToTheMonitor) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (!policy::install_violation_reporter("preauth", fds[1], policy::ReportFormat::kLogEvent)) _exit(93);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(91);
    if (!policy::install_policy(*policy::find_policy("preauth"))) _exit(92);
    ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    ::syscall(SYS_exit_group, 0);
  }
  ::close(fds[1]);
  char datagram[1024];
  const ssize_t n = ::recv(fds[0], datagram, sizeof(datagram), 0);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExitSandboxViolation) << status;
  ASSERT_GT(n, 0);
  auto header = decode_header(std::string_view(datagram, static_cast<std::size_t>(n)));
  ASSERT_TRUE(header.ok()) << header.error().message;
  ASSERT_EQ(header->type, static_cast<std::uint16_t>(MessageType::kLogEvent));
  auto event = decode_payload<LogEvent>(header->payload);
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->level, EventLevel::kError);
  EXPECT_NE(event->text.find("system call socket (" + std::to_string(SYS_socket) + ")"),
            std::string::npos)
      << event->text;
  EXPECT_NE(event->text.find("role preauth"), std::string::npos) << event->text;
}

TEST(RolePolicy, MonitorViolationIsALogLine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (!policy::install_violation_reporter("monitor", fds[1], policy::ReportFormat::kLine)) _exit(93);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(91);
    if (!policy::install_policy(*policy::find_policy("monitor"))) _exit(92);
    ::syscall(SYS_openat, AT_FDCWD, "/etc/shadow", O_RDONLY);
    ::syscall(SYS_exit_group, 0);
  }
  ::close(fds[1]);
  char text[1024] = {};
  const ssize_t n = ::read(fds[0], text, sizeof(text) - 1);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExitSandboxViolation) << status;
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(text),
            "wardenftpd: stopped by its seccomp filter: system call openat (" +
                std::to_string(SYS_openat) + ") is not allowed for role monitor\n");
}

TEST(RolePolicy, MonitorViolationLineTakesTheLogFraming) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    // As with log_format=json: the report must be a JSON object like every other line.
    policy::set_violation_line_frame("{\"level\":\"error\",\"msg\":\"", "\"}\n");
    if (!policy::install_violation_reporter("monitor", fds[1], policy::ReportFormat::kLine)) _exit(93);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(91);
    if (!policy::install_policy(*policy::find_policy("monitor"))) _exit(92);
    ::syscall(SYS_openat, AT_FDCWD, "/etc/shadow", O_RDONLY);
    ::syscall(SYS_exit_group, 0);
  }
  ::close(fds[1]);
  char text[1024] = {};
  const ssize_t n = ::read(fds[0], text, sizeof(text) - 1);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExitSandboxViolation) << status;
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(text),
            "{\"level\":\"error\",\"msg\":\"stopped by its seccomp filter: system call openat (" +
                std::to_string(SYS_openat) + ") is not allowed for role monitor\"}\n");
}

TEST(RolePolicy, SyscallNamesComeFromTheBuildTimeTable) {
  EXPECT_STREQ(policy::syscall_name(SYS_read), "read");
  EXPECT_STREQ(policy::syscall_name(SYS_openat2), "openat2");
  EXPECT_EQ(policy::syscall_name(-1), nullptr);
  EXPECT_EQ(policy::syscall_name(100000), nullptr);
  char text[64];
  const std::size_t n = policy::format_violation(text, sizeof(text), "postauth", 100000);
  // Truncated to the buffer (one byte kept free), never overrun.
  EXPECT_EQ(n, sizeof(text) - 1);
  EXPECT_EQ(std::string(text, n).rfind("stopped by its seccomp filter: system call (unknown) (100000)", 0), 0u);
}

}  // namespace
}  // namespace wftpd
