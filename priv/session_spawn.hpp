// Starting a session monitor: the descriptors every session is given (sealed memfds, the empty
// network namespace) and the exec of `wardenftpd --session` with the fixed descriptor layout.
// Shared by the listener (one posix_spawn per accepted connection) and inetd mode (one exec in
// place, the connection inherited from inetd or systemd).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/result.hpp"
#include "common/tls_context.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

// Descriptors handed to a session are first moved to this number or above, so the dup2 calls
// that build the fixed layout (targets 0..8) can never overwrite one of their sources.
inline constexpr int kFirstHighFd = 64;

// Duplicates fd to kFirstHighFd or above (close-on-exec) and closes the original.
Result<UniqueFd> move_high(UniqueFd fd);

// A sealed memfd holding bytes every monitor reads: the canonical configuration, or the TLS
// credential bundle.
Result<UniqueFd> make_sealed_memfd(const char* name, std::string_view bytes);

// Reads and checks the certificate and key of `config` (tls_enable) and returns them as a
// sealed memfd, moved high; a warning (e.g. an expired certificate) is logged.
Result<UniqueFd> seal_tls_credentials(const Config& config);

// A pipe holding `keys` (read end, moved high) for a monitor's kSessionTicketKeysFd: the keys
// reach the monitor without passing through its arguments or a file.
Result<UniqueFd> make_ticket_key_pipe(const TicketKeys& keys);

// Creates one empty network namespace and returns a descriptor of it (see the .cpp).
Result<UniqueFd> create_empty_network_namespace();

// The floor under every process of the daemon (policy/listener.policy, a deny list): installed
// by the listener once start-up is done, and by inetd mode just before it becomes the monitor.
Result<void> install_seccomp_floor();

// What one session monitor is started with. Every descriptor must come from move_high.
struct SessionLaunch {
  int devnull = -1;      // becomes 0 and 1 (and 6 without TLS)
  int client = -1;       // kSessionClientFd
  int config = -1;       // kSessionConfigFd
  int netns = -1;        // kSessionNetnsFd
  int tls_bundle = -1;   // kSessionTlsFd; -1 without tls_enable
  int report = -1;       // kSessionReportFd
  int log = -1;          // becomes 2 (stderr or the syslog socket); -1: 2 stays as it is
  int xferlog = -1;      // kSessionXferlogFd (xferlog_enable only); -1: none
  int ticket_keys = -1;  // kSessionTicketKeysFd, from make_ticket_key_pipe; -1 without tls_enable
  std::string session_id;
  std::uint32_t prior_failures = 0;
  bool implicit_tls = false;
  std::string proxied_client;       // behind a trusted PROXY-protocol proxy: the real client
  std::string proxied_destination;  // and the proxy address it connected to (may be empty)
};

// posix_spawn of the monitor (the listener); returns its pid.
Result<pid_t> spawn_session_monitor(const SessionLaunch& launch);

// Replaces this process with the monitor (inetd mode); returns only if that failed.
Error exec_session_monitor(const SessionLaunch& launch);

}  // namespace wftpd
