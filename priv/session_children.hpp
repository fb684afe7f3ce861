// Forking a session's sandboxed children: the pre-auth child P and the standby child (the
// post-auth child U once a login is accepted), each with the fixed descriptor layout and the
// sandbox of its role; and ending them. The only file of the monitor that forks.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/child_setup.hpp"
#include "common/config.hpp"
#include "common/monitor_channel.hpp"
#include "common/tls_context.hpp"
#include "priv/session_monitor.hpp"

namespace wftpd {

// What the children are made from. The descriptors stay the caller's.
struct ChildLaunch {
  const Config& config;
  const SessionEngines& engines;
  int client_fd;
  int netns_fd;
  const std::string* certificate_chain;  // PEM; nullptr without TLS (never the key)
  bool implicit_tls;
  TicketKeys* ticket_keys;
};

struct SessionChildren {
  MonitorChannel preauth;
  MonitorChannel postauth;
  pid_t preauth_pid = 0;
  pid_t postauth_pid = 0;
};

// Forks P and the standby child. On failure the children already forked are in `children`
// (end them with end_session_children).
[[nodiscard]] bool launch_session_children(const ChildLaunch& launch, SessionChildren& children);

// Kills and reaps one child (logging an unusual exit); pid becomes 0. True when the child had
// been stopped by its seccomp filter.
bool stop_child(pid_t& pid, const char* role);

// Closes both channels, waits briefly for the children to exit (so that why they ended can be
// logged), then kills and reaps whatever remains.
// Returns how many of them had been stopped by their seccomp filter.
std::uint32_t end_session_children(SessionChildren& children);

}  // namespace wftpd
