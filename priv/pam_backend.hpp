// The monitor's side of PAM logins. PAM modules are arbitrary code (and libpam loads them with
// dlopen, which the static daemon cannot do), so they never run in the monitor: at session start
// the monitor forks a child that waits, without having exec'd anything, for the first login that
// reaches PAM; only then does it exec the PAM helper (wardenftpd-pam-helper), which answers at
// most max_login_attempts requests over a SOCK_SEQPACKET socketpair and exits when the monitor
// closes it at the end of the pre-auth phase.
//
// SECURITY: the fork happens before the monitor confines itself (its filter allows neither fork
// nor execve), so the helper is not under the monitor's filter; see SECURITY.md ("PAM helper").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>

#include "common/config.hpp"
#include "common/monitor_channel.hpp"
#include "common/pam_protocol.hpp"
#include "common/result.hpp"

namespace wftpd {

// With pam_enable: the helper is a root-owned executable that nobody else can write, in a
// directory of the same kind, and the service has a file in /etc/pam.d or /usr/lib/pam.d (PAM
// would otherwise fall back to the "other" service). Run by the listener and --check-config.
Result<void> check_pam_configuration(const Config& config);

class PamBackend {
 public:
  PamBackend() = default;
  PamBackend(const PamBackend&) = delete;
  PamBackend& operator=(const PamBackend&) = delete;
  ~PamBackend() { finish(); }

  // Forks the waiting child. Before the monitor's sandbox; the monitor must not hold secrets yet
  // (the child keeps a copy of its memory until it execs or exits).
  Result<void> start(const Config& config);

  // One login attempt. An error means the helper gave no (valid) verdict; it has then been
  // stopped and every later attempt fails too.
  Result<PamVerdict> authenticate(const PamCheck& check);

  // Ends the helper: closes its channel (it exits on end of file) and reaps it, stopping it with
  // SIGKILL if it has not exited within half a second. Idempotent.
  void finish();

 private:
  MonitorChannel channel_;
  pid_t pid_ = 0;
  std::uint32_t requests_left_ = 0;
};

}  // namespace wftpd
