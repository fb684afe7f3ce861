// Log lines on the process's log descriptor: stderr, or a datagram socket connected to the
// syslog daemon (log_output). The listener opens the socket; every monitor inherits it as fd 2
// (so the monitor's filter needs no socket call). Sandboxed children (pre-auth, post-auth) have
// no log descriptor: their monitor logs for them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "common/config.hpp"
#include "common/log_format.hpp"
#include "common/result.hpp"

namespace wftpd {

// Who speaks: the role ("listener", "monitor") and, in a monitor, its session and client.
void set_log_role(std::string role);
void set_log_session(std::uint64_t session, std::string client);
void set_log_level(LogLevel level);
LogLevel parse_log_level(std::string_view name);  // "error", "warning", "info", "debug"

// The framing a configuration asks for (log_output, log_format, syslog_facility).
LogFraming framing_of(const Config& config);

// How lines are framed and where they go (fd 2 unless a syslog socket was connected).
void set_log_framing(const LogFraming& framing);

// Listener only: with syslog output, connects a datagram socket to the syslog daemon's socket
// `syslog_path` (/dev/log) and makes it the log descriptor; with stderr output, goes back to
// fd 2. On failure nothing changes. A write the syslog daemon refuses (it restarted:
// ECONNREFUSED, ENOTCONN) reconnects once and retries; a line that still cannot be sent goes to
// the listener's stderr.
Result<void> open_log(const LogFraming& framing, const std::string& syslog_path);
// Listener only, before it hands the log descriptor to a new session: if the syslog daemon's
// socket file was replaced (the daemon restarted), reconnects, so the session's monitor (which
// cannot reconnect) gets a working socket.
void refresh_syslog_connection();
// The descriptor lines go to (the listener hands it to each monitor as fd 2).
int log_descriptor();

// Writes one record in one write(2) (lines from concurrent sessions never interleave). The
// message must already be escaped where it holds client bytes (escape_for_log); control bytes
// are escaped here as a backstop. `fields` appear in JSON lines only.
void log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
// A listener line about one connection: carries that connection's session id and address.
void log_connection(LogLevel level, std::uint64_t session, std::string_view client,
                    std::string_view message, std::initializer_list<LogField> fields = {});

// What goes before and after a message in a line logged now at `level` (for a line that must be
// written where no formatting can run: the monitor's seccomp violation report).
std::pair<std::string, std::string> log_line_frame(LogLevel level);

// An error that stops the daemon from starting: logged, and with syslog output also written to
// stderr, so that whoever started the daemon sees why it did not start.
void log_start_error(std::string_view message);

inline void log_error(std::string_view message) { log_line(LogLevel::kError, message); }
inline void log_warning(std::string_view message) { log_line(LogLevel::kWarning, message); }
inline void log_info(std::string_view message) { log_line(LogLevel::kInfo, message); }
inline void log_debug(std::string_view message) { log_line(LogLevel::kDebug, message); }

}  // namespace wftpd
