#include "common/log.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace wftpd {
namespace {

// Descriptors the listener keeps for itself sit at or above this number, so that building a
// session's fixed layout (targets 0..8) never overwrites one of them.
constexpr int kFirstHighFd = 64;
// A syslog daemon that stops reading stalls a write at most this long (the line is then lost).
constexpr time_t kSyslogSendTimeoutSeconds = 1;

// Process-wide logging state: one role, session and framing per process, set at role start.
struct LogState {
  std::string role = "wardenftpd";
  std::uint64_t session = 0;
  std::string client;
  LogLevel level = LogLevel::kInfo;
  LogFraming framing;
  int fd = STDERR_FILENO;
  std::string syslog_path;  // set in the listener only: it may reconnect
  dev_t syslog_device = 0;  // the socket file connected to, to notice when it is replaced
  ino_t syslog_inode = 0;
  timespec syslog_changed{};  // with the inode: inode numbers of deleted files are reused
};

LogState& state() {
  static LogState instance;
  return instance;
}

void remember_socket_file() {
  LogState& s = state();
  struct stat st{};
  if (::stat(s.syslog_path.c_str(), &st) != 0) return;
  s.syslog_device = st.st_dev;
  s.syslog_inode = st.st_ino;
  s.syslog_changed = st.st_ctim;
}

Result<int> open_syslog_socket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return make_error("syslog socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return system_error("socket(AF_UNIX, SOCK_DGRAM)", errno);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int saved = errno;
    ::close(fd);
    return system_error("connect(" + path + ")", saved);
  }
  const timeval timeout{kSyslogSendTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return fd;
}

bool write_once(int fd, const std::string& bytes) {
  ssize_t n;
  do {
    n = ::write(fd, bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(bytes.size());
}

// The syslog daemon went away (restart): connect a new socket in place of the old descriptor
// number, so that sessions started from now on inherit the working one.
bool reconnect_syslog() {
  LogState& s = state();
  if (s.syslog_path.empty()) return false;
  auto fresh = open_syslog_socket(s.syslog_path);
  if (!fresh) return false;
  const bool replaced = ::dup3(*fresh, s.fd, O_CLOEXEC) == s.fd;
  ::close(*fresh);
  remember_socket_file();
  return replaced;
}

void emit(const LogRecord& record) {
  LogState& s = state();
  const std::string line = format_log_record(record, s.framing);
  if (write_once(s.fd, line)) return;
  if (s.framing.output != LogOutput::kSyslog) return;  // a failed stderr write has nowhere to go
  if ((errno == ECONNREFUSED || errno == ENOTCONN || errno == ECONNRESET) && reconnect_syslog() &&
      write_once(s.fd, line)) {
    return;
  }
  if (s.fd == STDERR_FILENO) return;  // a monitor: stderr is the socket itself
  // The listener: the line is not lost, it goes to stderr (the service manager's journal).
  LogFraming fallback = s.framing;
  fallback.output = LogOutput::kStderr;
  (void)write_once(STDERR_FILENO, format_log_record(record, fallback));
}

void log_record(LogLevel level, std::uint64_t session, std::string_view client,
                std::string_view message, std::initializer_list<LogField> fields) {
  LogState& s = state();
  if (static_cast<int>(level) > static_cast<int>(s.level)) return;
  const int saved_errno = errno;
  LogRecord record;
  record.level = level;
  ::clock_gettime(CLOCK_REALTIME, &record.time);
  record.role = s.role;
  record.pid = ::getpid();
  record.session = session;
  record.client = client;
  record.message = message;
  record.fields = std::span<const LogField>(fields.begin(), fields.size());
  emit(record);
  errno = saved_errno;
}

}  // namespace

void set_log_role(std::string role) { state().role = std::move(role); }

void set_log_session(std::uint64_t session, std::string client) {
  state().session = session;
  state().client = std::move(client);
}

void set_log_level(LogLevel level) { state().level = level; }

LogFraming framing_of(const Config& config) {
  LogFraming framing;
  framing.output = config.log_output == "syslog" ? LogOutput::kSyslog : LogOutput::kStderr;
  framing.format = config.log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  const int facility = parse_syslog_facility(config.syslog_facility);
  framing.facility = facility < 0 ? 3 << 3 : facility;
  return framing;
}

void set_log_framing(const LogFraming& framing) { state().framing = framing; }


LogLevel parse_log_level(std::string_view name) {
  if (name == "error") return LogLevel::kError;
  if (name == "warning") return LogLevel::kWarning;
  if (name == "debug") return LogLevel::kDebug;
  return LogLevel::kInfo;
}

Result<void> open_log(const LogFraming& framing, const std::string& syslog_path) {
  LogState& s = state();
  if (framing.output == LogOutput::kStderr) {
    if (s.fd != STDERR_FILENO) ::close(s.fd);
    s.fd = STDERR_FILENO;
    s.syslog_path.clear();
    s.framing = framing;
    return ok_result();
  }
  auto fd = open_syslog_socket(syslog_path);
  if (!fd) return fd.error();
  const int high = ::fcntl(*fd, F_DUPFD_CLOEXEC, kFirstHighFd);
  const int saved = errno;
  ::close(*fd);
  if (high < 0) return system_error("fcntl(F_DUPFD_CLOEXEC)", saved);
  if (s.fd != STDERR_FILENO) ::close(s.fd);
  s.fd = high;
  s.syslog_path = syslog_path;
  s.framing = framing;
  remember_socket_file();
  return ok_result();
}

void refresh_syslog_connection() {
  LogState& s = state();
  if (s.syslog_path.empty()) return;
  struct stat st{};
  if (::stat(s.syslog_path.c_str(), &st) == 0 && st.st_dev == s.syslog_device &&
      st.st_ino == s.syslog_inode && st.st_ctim.tv_sec == s.syslog_changed.tv_sec &&
      st.st_ctim.tv_nsec == s.syslog_changed.tv_nsec) {
    return;
  }
  (void)reconnect_syslog();
}

int log_descriptor() { return state().fd; }

std::pair<std::string, std::string> log_line_frame(LogLevel level) {
  static constexpr std::string_view kMark = "MESSAGE-GOES-HERE";
  LogState& s = state();
  LogRecord record;
  record.level = level;
  ::clock_gettime(CLOCK_REALTIME, &record.time);
  record.role = s.role;
  record.pid = ::getpid();
  record.session = s.session;
  record.client = s.client;
  record.message = kMark;
  const std::string line = format_log_record(record, s.framing);
  const auto at = line.find(kMark);
  if (at == std::string::npos) return {line, "\n"};
  return {line.substr(0, at), line.substr(at + kMark.size())};
}

void log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  log_record(level, state().session, state().client, message, fields);
}

void log_start_error(std::string_view message) {
  log_line(LogLevel::kError, message);
  LogState& s = state();
  if (s.fd == STDERR_FILENO) return;
  LogFraming framing = s.framing;
  framing.output = LogOutput::kStderr;
  LogRecord record;
  record.level = LogLevel::kError;
  ::clock_gettime(CLOCK_REALTIME, &record.time);
  record.role = s.role;
  record.pid = ::getpid();
  record.message = message;
  (void)write_once(STDERR_FILENO, format_log_record(record, framing));
}

void log_connection(LogLevel level, std::uint64_t session, std::string_view client,
                    std::string_view message, std::initializer_list<LogField> fields) {
  log_record(level, session, client, message, fields);
}

}  // namespace wftpd
