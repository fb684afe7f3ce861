// How one log record becomes bytes: plain text, an RFC 3164 syslog datagram, or a JSON line.
// Pure functions (no I/O, no clock), so that every framing is unit-tested with hostile input.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>

namespace wftpd {

enum class LogLevel { kError, kWarning, kInfo, kDebug };
enum class LogOutput { kStderr, kSyslog };
enum class LogFormat { kText, kJson };

// A structured field of a JSON line (ignored by the text format, whose message says it all).
struct LogField {
  std::string_view name;   // a fixed identifier chosen by the code, never client bytes
  std::string_view value;  // escaped by the formatter
};

struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  timespec time{};         // wall clock, formatted in UTC
  std::string_view role;   // "listener", "monitor"
  pid_t pid = 0;
  std::uint64_t session = 0;     // 0: the line is not about one connection
  std::string_view client;       // the client's address; empty when not about one connection
  std::string_view message;
  std::span<const LogField> fields;
};

struct LogFraming {
  LogOutput output = LogOutput::kStderr;
  LogFormat format = LogFormat::kText;
  int facility = 3 << 3;  // LOG_DAEMON
};

// Messages longer than this are cut (and end in "...") before framing, so that a JSON line stays
// well-formed and a syslog datagram stays under what syslog daemons accept (2048 bytes in all,
// with the bounded fields).
inline constexpr std::size_t kMaxLogMessage = 1024;
inline constexpr std::size_t kMaxLogFieldValue = 256;

// The whole line, ending in '\n' (stderr) or not (syslog: one datagram is one message).
//  text:   2026-11-30T16:54:38.123Z info monitor session=42 client=192.0.2.1[1234]: message
//  syslog: <30>Nov 30 16:54:38 wardenftpd[1234]: info monitor session=42 client=192.0.2.1: message
//  JSON:   {"ts":"...","level":"info","role":"monitor","pid":1234,"session":42,
//           "client":"192.0.2.1","msg":"message",<fields>}   (as the syslog message with syslog)
// SECURITY: control bytes (and, in JSON, quotes, backslashes and invalid UTF-8) in the message,
// the client address or any field are escaped here whatever the caller did, so no caller can
// let a client start a new line or break the JSON.
std::string format_log_record(const LogRecord& record, const LogFraming& framing);

// JSON string contents (without the quotes): '"' and '\\' escaped, control bytes and U+007F as
// \u00XX, invalid UTF-8 bytes as \ufffd (U+FFFD); valid UTF-8 passes unchanged.
std::string json_escape(std::string_view text);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// A wall-clock time in UTC as ISO 8601 with milliseconds: 2026-11-30T16:54:38.123Z. Formatted by
// hand: no time zone or locale file is read (monitors are sandboxed).
std::string format_iso8601_utc(const timespec& time);

// syslog severity (RFC 5424 6.2.1) of a level: error 3, warning 4, info 6, debug 7.
int syslog_severity(LogLevel level);

// Facility names of syslog_facility (daemon, ftp, user, local0..local7) to the facility code
// shifted into place (LOG_DAEMON == 3 << 3); -1 for an unknown name.
int parse_syslog_facility(std::string_view name);

}  // namespace wftpd
