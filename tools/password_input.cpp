// Reading a new password from the terminal or stdin; see password_input.hpp.
#include "tools/password_input.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>  // explicit_bzero
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "common/unique_fd.hpp"

namespace wftpd {

SecretText::~SecretText() { clear(); }

bool SecretText::append(char c) {
  if (size_ >= bytes_.size()) return false;
  bytes_[size_++] = c;
  return true;
}

// SECURITY: wipe the whole buffer, not just the used part, so no earlier entry survives.
void SecretText::clear() {
  explicit_bzero(bytes_.data(), bytes_.size());
  size_ = 0;
}

namespace {

// Set by the handler below while a terminal prompt is active, so that Ctrl-C interrupts the
// read() and the terminal is restored, instead of the process dying with echo switched off.
volatile std::sig_atomic_t g_caught_signal = 0;

extern "C" void record_signal(int signal_number) { g_caught_signal = signal_number; }

constexpr int kPromptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

// Installs record_signal (without SA_RESTART, so read() fails with EINTR) for the prompt's
// lifetime and restores the previous dispositions afterwards.
class PromptSignals {
 public:
  PromptSignals() {
    g_caught_signal = 0;
    struct sigaction action {};
    action.sa_handler = record_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) {
      ::sigaction(kPromptSignals[i], &action, &saved_[i]);
    }
  }
  PromptSignals(const PromptSignals&) = delete;
  PromptSignals& operator=(const PromptSignals&) = delete;
  ~PromptSignals() {
    for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) {
      ::sigaction(kPromptSignals[i], &saved_[i], nullptr);
    }
  }

 private:
  struct sigaction saved_[std::size(kPromptSignals)]{};
};

// Switches terminal echo off for its lifetime. ECHONL stays on so that Enter still moves the
// cursor to the next line.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {}
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
  }

  Result<void> enable() {
    if (::tcgetattr(fd_, &saved_) != 0) return system_error("tcgetattr /dev/tty", errno);
    termios quiet = saved_;
    // SECURITY: the password must not be echoed to the screen.
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    if (::tcsetattr(fd_, TCSAFLUSH, &quiet) != 0) return system_error("tcsetattr /dev/tty", errno);
    active_ = true;
    return ok_result();
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

Result<void> write_all(int fd, std::string_view text, std::string_view what) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR && g_caught_signal == 0) continue;
      return system_error("write " + std::string(what), errno);
    }
    text.remove_prefix(static_cast<std::size_t>(written));
  }
  return ok_result();
}

// Reads one line from `fd` into `out`, without the newline. Byte by byte, so that nothing after
// the line is consumed, and bounded by SecretText's capacity.
Result<void> read_line(int fd, std::string_view what, SecretText& out) {
  out.clear();
  bool any = false;
  while (true) {
    char c = 0;
    const ssize_t got = ::read(fd, &c, 1);
    if (got < 0) {
      if (errno == EINTR) {
        if (g_caught_signal != 0) return make_error("interrupted");
        continue;
      }
      return system_error("read " + std::string(what), errno);
    }
    if (got == 0) {
      if (!any) return make_error("no password given (end of input on " + std::string(what) + ")");
      return ok_result();
    }
    any = true;
    if (c == '\n') return ok_result();
    if (!out.append(c)) {
      out.clear();
      return make_error("password longer than " + std::to_string(kMaxPasswordLength) + " bytes");
    }
  }
}

Result<void> prompt_line(int tty, std::string_view prompt, SecretText& out) {
  if (auto written = write_all(tty, prompt, "/dev/tty"); !written.ok()) return written;
  return read_line(tty, "/dev/tty", out);
}

Result<void> read_from_terminal(SecretText& out) {
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty) return system_error("open /dev/tty", errno);
  PromptSignals signals;
  Result<void> result = ok_result();
  {
    EchoOff echo_off(tty.get());
    result = echo_off.enable();
    if (result.ok()) result = prompt_line(tty.get(), "New password: ", out);
    if (result.ok() && out.view().empty()) result = make_error("empty password refused");
    if (result.ok()) {
      SecretText again;
      result = prompt_line(tty.get(), "Retype new password: ", again);
      if (result.ok() && again.view() != out.view()) result = make_error("passwords do not match");
    }
    // Echo is restored here, before any message is printed.
  }
  if (!result.ok()) {
    out.clear();
    // After Ctrl-C the cursor is still on the prompt line.
    if (g_caught_signal != 0) (void)write_all(tty.get(), "\n", "/dev/tty");
  }
  return result;
}

Result<void> read_from_stdin(SecretText& out) {
  if (auto line = read_line(STDIN_FILENO, "stdin", out); !line.ok()) return line;
  if (out.view().empty()) return make_error("empty password refused");
  return ok_result();
}

}  // namespace

Result<void> read_new_password(SecretText& out) {
  // SECURITY: the password never comes from argv (visible in /proc/PID/cmdline to every user).
  if (::isatty(STDIN_FILENO) == 1) return read_from_terminal(out);
  return read_from_stdin(out);
}

}  // namespace wftpd
