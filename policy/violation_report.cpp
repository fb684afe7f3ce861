#include "policy/violation_report.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/exit_codes.hpp"
#include "policy/embedded_policy.hpp"

namespace wftpd::policy {
namespace {

// Set once before the filter is applied; read only by the signal handler.
char g_role[32];
int g_fd = -1;
ReportFormat g_format = ReportFormat::kLine;
char g_line_prefix[384] = "wardenftpd: ";
char g_line_suffix[384] = "\n";

// LogEvent framing (common/monitor_protocol.hpp), written by hand here: the handler may not
// allocate. Type 13, reserved 0, payload length; payload: level (1 = error), u16 text length.
constexpr std::uint16_t kLogEventType = 13;
constexpr std::uint8_t kLevelError = 1;

void append(char* out, std::size_t size, std::size_t& used, std::string_view text) {
  for (const char c : text) {
    if (used + 1 >= size) return;
    out[used++] = c;
  }
}

void append_number(char* out, std::size_t size, std::size_t& used, long value) {
  char digits[24];
  std::size_t n = 0;
  unsigned long v = value < 0 ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < sizeof(digits));
  if (value < 0) append(out, size, used, "-");
  while (n > 0) {
    const char c[2] = {digits[--n], '\0'};
    append(out, size, used, c);
  }
}

void on_sigsys(int, siginfo_t* info, void*) {
  char text[256];
  const std::size_t length = format_violation(text, sizeof(text), g_role, info->si_syscall);
  if (g_format == ReportFormat::kLogEvent) {
    unsigned char datagram[8 + 3 + sizeof(text)];
    const std::size_t payload = 3 + length;
    datagram[0] = kLogEventType >> 8;
    datagram[1] = kLogEventType & 0xff;
    datagram[2] = 0;
    datagram[3] = 0;
    datagram[4] = 0;
    datagram[5] = 0;
    datagram[6] = static_cast<unsigned char>(payload >> 8);
    datagram[7] = static_cast<unsigned char>(payload & 0xff);
    datagram[8] = kLevelError;
    datagram[9] = static_cast<unsigned char>(length >> 8);
    datagram[10] = static_cast<unsigned char>(length & 0xff);
    std::memcpy(datagram + 11, text, length);
    [[maybe_unused]] const ssize_t sent = ::write(g_fd, datagram, 11 + length);
  } else {
    char line[sizeof(g_line_prefix) + sizeof(text) + sizeof(g_line_suffix)];
    std::size_t used = 0;
    append(line, sizeof(line), used, g_line_prefix);
    append(line, sizeof(line), used, std::string_view(text, length));
    append(line, sizeof(line), used, g_line_suffix);
    [[maybe_unused]] const ssize_t sent = ::write(g_fd, line, used);
  }
  ::_exit(kExitSandboxViolation);
}

}  // namespace

std::size_t format_violation(char* out, std::size_t size, std::string_view role, long syscall) {
  std::size_t used = 0;
  append(out, size, used, "stopped by its seccomp filter: system call ");
  const char* name = syscall_name(syscall);
  append(out, size, used, name != nullptr ? name : "(unknown)");
  append(out, size, used, " (");
  append_number(out, size, used, syscall);
  append(out, size, used, ") is not allowed for role ");
  append(out, size, used, role);
  return used;
}

void set_violation_line_frame(std::string_view prefix, std::string_view suffix) {
  for (auto [text, buffer] : {std::pair{prefix, g_line_prefix}, std::pair{suffix, g_line_suffix}}) {
    const std::size_t n = std::min(text.size(), sizeof(g_line_prefix) - 1);
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
}

bool install_violation_reporter(std::string_view role, int fd, ReportFormat format) {
  const std::size_t n = std::min(role.size(), sizeof(g_role) - 1);
  std::memcpy(g_role, role.data(), n);
  g_role[n] = '\0';
  g_fd = fd;
  g_format = format;
  struct sigaction action {};
  action.sa_sigaction = on_sigsys;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  return ::sigaction(SIGSYS, &action, nullptr) == 0;
}

}  // namespace wftpd::policy
