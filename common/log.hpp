// Log lines on the process's log descriptor (stderr of the listener; fd 2 of each monitor).
// Sandboxed children (pre-auth, post-auth) have no log descriptor: their monitor logs for them.
#pragma once

#include <string>
#include <string_view>

namespace wftpd {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

// Sets the prefix every later line carries, e.g. "monitor session=42 client=192.0.2.1".
void set_log_context(std::string context);
void set_log_level(LogLevel level);
LogLevel parse_log_level(std::string_view name);  // "error", "warning", "info", "debug"

// Writes "TIMESTAMP LEVEL CONTEXT[pid]: message\n" in one write(2). The message must already be
// escaped where it holds client bytes (escape_for_log).
void log_line(LogLevel level, std::string_view message);

inline void log_error(std::string_view message) { log_line(LogLevel::kError, message); }
inline void log_warning(std::string_view message) { log_line(LogLevel::kWarning, message); }
inline void log_info(std::string_view message) { log_line(LogLevel::kInfo, message); }
inline void log_debug(std::string_view message) { log_line(LogLevel::kDebug, message); }

}  // namespace wftpd
