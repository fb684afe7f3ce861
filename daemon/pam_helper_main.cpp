// wardenftpd-pam-helper: runs PAM for one session's monitor, which execs it (from a child forked
// before the monitor confined itself) when the first login reaches PAM. Not for use by hand.
//
//   wardenftpd-pam-helper --parent MONITOR_PID --requests N
//
// fd 3 is the SOCK_SEQPACKET channel to the monitor; 0-2 are /dev/null. It answers at most N
// PamCheck requests with one PamVerdict each and exits when the monitor closes the channel, when
// the monitor dies (parent-death signal), or after N requests. It is dynamically linked (libpam
// loads modules with dlopen) and not under a seccomp filter (arbitrary PAM modules run in it);
// SECURITY.md says what limits it instead.
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/monitor_channel.hpp"
#include "common/pam_protocol.hpp"
#include "common/session_roles.hpp"
#include "daemon/pam_check.hpp"

namespace {

constexpr int kChannelFd = 3;
// Exit codes the monitor logs (as "PAM helper exited with status N").
constexpr int kExitUsage = 2;
constexpr int kExitSetup = 3;
constexpr int kExitProtocol = 4;

bool parse_number(std::string_view text, unsigned long& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool set_limit(int resource, rlim_t value) {
  const rlimit limit{value, value};
  return ::setrlimit(resource, &limit) == 0;
}

// What PAM modules plausibly need from root, and nothing else: reading the shadow file where it
// is mode 0000 (DAC_READ_SEARCH / DAC_OVERRIDE, e.g. Fedora) and writing audit records
// (AUDIT_WRITE). No SETUID/SETGID, no CHOWN, no SYS_ADMIN, no network privilege.
bool reduce_capabilities() {
  const cap_value_t keep[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_AUDIT_WRITE};
  for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    bool kept = false;
    for (const auto k : keep) kept = kept || k == cap;
    if (!kept && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return false;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return false;
  cap_t caps = ::cap_init();
  if (caps == nullptr) return false;
  const int count = static_cast<int>(std::size(keep));
  const bool ok = ::cap_set_flag(caps, CAP_PERMITTED, count, keep, CAP_SET) == 0 &&
                  ::cap_set_flag(caps, CAP_EFFECTIVE, count, keep, CAP_SET) == 0 &&
                  ::cap_set_proc(caps) == 0;
  ::cap_free(caps);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long parent = 0;
  unsigned long requests = 0;
  if (argc != 5 || std::string_view(argv[1]) != "--parent" || !parse_number(argv[2], parent) ||
      std::string_view(argv[3]) != "--requests" || !parse_number(argv[4], requests) ||
      requests == 0 || requests > 100) {
    return kExitUsage;
  }
  // SECURITY: the helper lives no longer than its monitor, and refuses to start for another one.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
      static_cast<unsigned long>(::getppid()) != parent) {
    return kExitSetup;
  }
  const wftpd::RoleSpec& role = wftpd::role_spec(wftpd::Role::kPamHelper);
  ::prctl(PR_SET_NAME, std::string(role.process_name).c_str(), 0, 0, 0);
  // fd 3 must be the monitor's socket, and nothing above it is open.
  int type = 0;
  socklen_t length = sizeof(type);
  if (::getsockopt(kChannelFd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_SEQPACKET) {
    return kExitUsage;
  }
  if (::close_range(kChannelFd + 1, ~0U, 0) != 0) return kExitSetup;
  // SECURITY: a password lives in this process: no core dump, no ptrace by same-uid processes.
  // Bounded resources: PAM work per session is a handful of checks.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || !set_limit(RLIMIT_CORE, 0) ||
      !set_limit(RLIMIT_NOFILE, role.limits.open_files) ||
      !set_limit(RLIMIT_CPU, role.limits.cpu_seconds) || !reduce_capabilities() ||
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return kExitSetup;
  }
#if !defined(WFTPD_SANITIZE)
  // (Sanitizer builds: their shadow memory alone is terabytes of reservations.)
  if (!set_limit(RLIMIT_AS, role.limits.address_space)) return kExitSetup;
#endif
  ::umask(077);
  wftpd::MonitorChannel channel{wftpd::UniqueFd(kChannelFd)};
  for (unsigned long served = 0; served < requests; ++served) {
    wftpd::ReceivedMessage message;
    auto status = channel.receive(message);
    if (!status) return kExitProtocol;
    if (*status == wftpd::ReceiveStatus::kClosed) return 0;  // the pre-auth phase is over
    if (*status != wftpd::ReceiveStatus::kMessage || message.attached_fd.valid() ||
        message.type != static_cast<std::uint16_t>(wftpd::MessageType::kPamCheck)) {
      return kExitProtocol;
    }
    auto check = wftpd::decode_payload<wftpd::PamCheck>(message.payload);
    ::explicit_bzero(message.payload.data(), message.payload.size());
    if (!check) return kExitProtocol;
    const wftpd::PamVerdict verdict = wftpd::run_pam_check(*check);
    if (!channel.send(verdict)) return kExitProtocol;
  }
  return 0;
}

#if defined(WFTPD_SANITIZE)
// Sanitizer builds: LeakSanitizer would report what PAM modules (third-party code) leave
// allocated at exit, and needs ptrace, which a non-dumpable process does not allow.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif
