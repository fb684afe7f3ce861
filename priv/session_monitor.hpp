// The per-session monitor (M): exec'd by the listener for each connection, root without most
// capabilities, under the "monitor" filter. It decides logins and owns every network socket;
// it never parses FTP and never sees TLS records.
#pragma once

#include <optional>
#include <string>

#include "common/child_setup.hpp"
#include "common/config.hpp"
#include "common/monitor_protocol.hpp"
#include "common/socket_address.hpp"

namespace wftpd {

// The fixed descriptor layout a monitor is exec'd with (see the listener). Fd 2 is the log:
// the listener's stderr, or its socket to the syslog daemon (log_output=syslog).
inline constexpr int kSessionClientFd = 3;     // the accepted control connection
inline constexpr int kSessionConfigFd = 4;     // sealed memfd with the canonical configuration
inline constexpr int kSessionNetnsFd = 5;      // the empty network namespace for sandboxed children
inline constexpr int kSessionTlsFd = 6;        // sealed memfd with the TLS bundle (tls_enable only)
inline constexpr int kSessionReportFd = 7;     // socket to the listener: priv/session_report.hpp
inline constexpr int kSessionXferlogFd = 8;    // the transfer log, append-only (xferlog_enable only)
inline constexpr int kSessionTicketKeysFd = 9;  // pipe holding this session's TLS ticket keys (tls_enable only)
inline constexpr int kSessionImageFd = 10;  // the image exec'd (wardenftpd-session only); closed at once

// The descriptor layout of the sandboxed children.
inline constexpr int kChildControlFd = 3;
inline constexpr int kChildMonitorFd = 4;
inline constexpr int kChildRelayFd = 8;      // TLS sessions: pre-auth <-> post-auth relay

// Entry points of the unprivileged engines, provided by the daemon's main so that priv/ does
// not depend on unpriv/. Each calls setup.enter_sandbox() before it reads a byte from the
// client, and returns the process exit code.
struct SessionEngines {
  int (*run_preauth)(const Config& config, ChildSetup& setup) = nullptr;
  int (*run_postauth)(const Config& config, const BecomeUser& user, ChildSetup& setup) = nullptr;
};

struct SessionOptions {
  bool implicit_tls = false;          // the connection came to tls_implicit_port
  std::uint32_t prior_failures = 0;   // recent failed logins of the client's address
  // Set when the connection came through a trusted proxy (PROXY protocol): the real client,
  // and the proxy's address the client connected to. The socket's peer is then the proxy.
  std::optional<SocketAddress> proxied_client;
  std::optional<SocketAddress> proxied_destination;
};

// Runs one session to its end; returns the monitor's exit code.
int run_session_monitor(const SessionEngines& engines, const std::string& session_id,
                        const SessionOptions& options);

}  // namespace wftpd
