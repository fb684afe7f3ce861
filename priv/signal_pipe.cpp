#include "priv/signal_pipe.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace wftpd {
namespace {

// The self-pipe the signal handlers write to; the only state a handler touches.
int g_signal_pipe_write = -1;

void on_signal(int signal_number) {
  const int saved_errno = errno;
  const auto byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] const ssize_t ignored = ::write(g_signal_pipe_write, &byte, 1);
  errno = saved_errno;
}

}  // namespace

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

}  // namespace wftpd
