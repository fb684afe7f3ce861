// The per-session monitor (M): exec'd by the listener for each connection, root without most
// capabilities, under the "monitor" filter. It decides logins and owns every network socket;
// it never parses FTP and never sees TLS records.
#pragma once

#include <string>

#include "common/config.hpp"

namespace wftpd {

// The fixed descriptor layout a monitor is exec'd with (see the listener).
inline constexpr int kSessionClientFd = 3;     // the accepted control connection
inline constexpr int kSessionConfigFd = 4;     // sealed memfd with the canonical configuration
inline constexpr int kSessionNetnsFd = 5;      // the empty network namespace for sandboxed children

// The descriptor layout of the sandboxed children.
inline constexpr int kChildControlFd = 3;
inline constexpr int kChildMonitorFd = 4;

// Entry points of the unprivileged engines, provided by the daemon's main so that priv/ does
// not depend on unpriv/. Each runs inside its sandbox and returns the process exit code.
struct SessionEngines {
  int (*run_preauth)(const Config& config, int control_fd, int monitor_fd) = nullptr;
  int (*run_postauth)(const Config& config, const std::string& user_name, bool read_only,
                      int control_fd, int monitor_fd) = nullptr;
};

// Runs one session to its end; returns the monitor's exit code.
int run_session_monitor(const SessionEngines& engines, const std::string& session_id);

}  // namespace wftpd
