#include "common/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace wftpd {
namespace {

// Process-wide logging state: one context and level per process, set once at role start.
struct LogState {
  std::string context = "wardenftpd";
  LogLevel level = LogLevel::kInfo;
};

LogState& state() {
  static LogState instance;
  return instance;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

void append_two_digits(std::string& out, int value) {
  out += static_cast<char>('0' + (value / 10) % 10);
  out += static_cast<char>('0' + value % 10);
}

}  // namespace

void set_log_context(std::string context) { state().context = std::move(context); }
void set_log_level(LogLevel level) { state().level = level; }

LogLevel parse_log_level(std::string_view name) {
  if (name == "error") return LogLevel::kError;
  if (name == "warning") return LogLevel::kWarning;
  if (name == "debug") return LogLevel::kDebug;
  return LogLevel::kInfo;
}

void log_line(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(state().level)) return;
  const int saved_errno = errno;
  // UTC, formatted by hand: no time zone or locale files are read (monitors are sandboxed).
  timeval now{};
  ::gettimeofday(&now, nullptr);
  std::tm tm{};
  ::gmtime_r(&now.tv_sec, &tm);
  std::string line;
  line.reserve(64 + state().context.size() + message.size());
  line += std::to_string(tm.tm_year + 1900);
  line += '-';
  append_two_digits(line, tm.tm_mon + 1);
  line += '-';
  append_two_digits(line, tm.tm_mday);
  line += 'T';
  append_two_digits(line, tm.tm_hour);
  line += ':';
  append_two_digits(line, tm.tm_min);
  line += ':';
  append_two_digits(line, tm.tm_sec);
  line += '.';
  const auto millis = static_cast<int>(now.tv_usec / 1000);
  line += static_cast<char>('0' + millis / 100);
  append_two_digits(line, millis % 100);
  line += "Z ";
  line += level_name(level);
  line += ' ';
  line += state().context;
  line += '[';
  line += std::to_string(::getpid());
  line += "]: ";
  line += message;
  line += '\n';
  // One write so that lines from concurrent sessions do not interleave; a failed log write
  // has nowhere to be reported.
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  errno = saved_errno;
}

}  // namespace wftpd
