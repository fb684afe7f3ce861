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
#include "priv/config_validation.hpp"
#include "common/tls_context.hpp"
#include "common/unique_fd.hpp"
#include "priv/session_image.hpp"

namespace wftpd {

// Descriptors handed to a session are first moved to this number or above, so the dup2 calls
// that build the fixed layout (targets 0..8) can never overwrite one of their sources.
inline constexpr int kFirstHighFd = 64;

// Duplicates fd to kFirstHighFd or above (close-on-exec) and closes the original.
Result<UniqueFd> move_high(UniqueFd fd);

// A sealed memfd holding bytes every monitor reads: the canonical configuration, or the TLS
// credential bundle.
Result<UniqueFd> make_sealed_memfd(const char* name, std::string_view bytes);

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
  int image = -1;        // wardenftpd-session (kSessionImageFd while it is exec'd); -1: this binary
  std::string session_id;
  std::uint32_t prior_failures = 0;
  bool implicit_tls = false;
  std::string proxied_client;       // behind a trusted PROXY-protocol proxy: the real client
  std::string proxied_destination;  // and the proxy address it connected to (may be empty)
};

// What every session monitor started under one configuration is given, whatever its
// connection. Every descriptor is moved high.
struct SessionResources {
  UniqueFd config;      // kSessionConfigFd: sealed memfd, the canonical configuration
  UniqueFd tls_bundle;  // kSessionTlsFd: sealed memfd, certificate chain and key (tls_enable)
  UniqueFd xferlog;     // kSessionXferlogFd: the transfer log, append-only (xferlog_enable)
};

// The one preparation of a session's resources from a validated configuration, by the listener
// (at start and on every reload) and by inetd mode: creates secure_chroot_dir if it is missing
// (and checks it again), seals the configuration and the credentials validate_config() loaded
// (logging its warning, e.g. an expired certificate), opens the transfer log. Nothing else
// changes, so a failure leaves the caller's current resources as they were.
Result<SessionResources> prepare_session_resources(const ValidConfig& valid);

// What one process gives all the sessions it starts: /dev/null, the empty network namespace
// (the listener's, shared by all its sessions; in inetd mode, this connection's) and the
// session image without TLS, if there is a usable one. Made before the seccomp floor, which
// denies unshare.
struct SessionHost {
  UniqueFd devnull;
  UniqueFd netns;
  LeanSessionImage lean_image;
};
Result<SessionHost> prepare_session_host();

// kSessionTicketKeysFd for one session (tls_enable): the keys derived from the listener's
// `secret` for `client_host`, or random keys when `secret` is null (inetd mode: one process per
// connection, so no other session shares them).
Result<UniqueFd> session_ticket_key_pipe(const TicketSecret* secret, std::string_view client_host);

// The descriptor part of a launch: host and resources, the client and the report socket, and the
// image (the one place that chooses it: wardenftpd-session exactly when the configuration has
// no TLS bundle and the host found a usable one). The caller sets the log, ticket keys and the
// arguments.
SessionLaunch make_session_launch(const SessionHost& host, const SessionResources& resources,
                                  int client, int report);

// posix_spawn of the monitor (the listener); returns its pid.
Result<pid_t> spawn_session_monitor(const SessionLaunch& launch);

// Replaces this process with the monitor (inetd mode); returns only if that failed.
Error exec_session_monitor(const SessionLaunch& launch);

}  // namespace wftpd
