#include "priv/child_exit.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/exit_codes.hpp"

namespace wftpd {
namespace {

// A real wait status, from a child that exits with `code` or dies of `signal_number`.
int status_of_child(int code, int signal_number = 0) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (signal_number != 0) {
      ::signal(signal_number, SIG_DFL);
      ::raise(signal_number);
    }
    _exit(code);
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

TEST(ChildExit, ProjectExitCodesAreNamed) {
  EXPECT_NE(describe_exit(status_of_child(kExitIdleTimeout)).find("idle_timeout"), std::string::npos);
  EXPECT_NE(describe_exit(status_of_child(kExitDataTimeout)).find("data_timeout"), std::string::npos);
  EXPECT_EQ(describe_exit(status_of_child(kExitSandboxFailed)),
            "could not enter its sandbox (exit status 70)");
  EXPECT_NE(describe_exit(status_of_child(kExitSandboxViolation)).find("seccomp filter (exit status 71"),
            std::string::npos);
  EXPECT_EQ(describe_exit(status_of_child(kExitExecFailed)), "could not be executed (exit status 127)");
}

TEST(ChildExit, OtherStatusesAreReportedAsTheyAre) {
  EXPECT_EQ(describe_exit(status_of_child(9)), "exited with status 9");
  EXPECT_EQ(describe_exit(status_of_child(0, SIGSYS)), "was killed by its seccomp filter (SIGSYS)");
  EXPECT_EQ(describe_exit(status_of_child(0, SIGTERM)), "was killed by signal 15");
}

TEST(ChildExit, SandboxViolationsAreTheReportersExitStatusOrSigsys) {
  EXPECT_TRUE(ended_by_sandbox_violation(status_of_child(kExitSandboxViolation)));
  EXPECT_TRUE(ended_by_sandbox_violation(status_of_child(0, SIGSYS)));
  EXPECT_FALSE(ended_by_sandbox_violation(status_of_child(0)));
  EXPECT_FALSE(ended_by_sandbox_violation(status_of_child(kExitSandboxFailed)));
  EXPECT_FALSE(ended_by_sandbox_violation(status_of_child(0, SIGKILL)));
}

}  // namespace
}  // namespace wftpd
