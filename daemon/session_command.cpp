#include "daemon/session_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/socket_address.hpp"
#include "priv/session_monitor.hpp"
#include "unpriv/postauth_session.hpp"
#include "unpriv/preauth_session.hpp"

namespace wftpd {

int run_session_command(int argc, char** argv) {
  // --session ID [--implicit-tls] [--prior-failures N]
  // [--proxied-client ADDR:PORT [--proxied-destination ADDR:PORT]]
  if (argc < 3) {
    std::fprintf(stderr, "wardenftpd: --session needs a session id\n");
    return 2;
  }
  SessionOptions options;
  for (int i = 3; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--implicit-tls") {
      options.implicit_tls = true;
    } else if (arg == "--prior-failures" && i + 1 < argc) {
      options.prior_failures = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if ((arg == "--proxied-client" || arg == "--proxied-destination") && i + 1 < argc) {
      auto address = SocketAddress::parse(argv[++i]);
      if (!address) {
        std::fprintf(stderr, "wardenftpd: bad session argument: %s\n", address.error().message.c_str());
        return 2;
      }
      (arg == "--proxied-client" ? options.proxied_client : options.proxied_destination) = *address;
    } else {
      std::fprintf(stderr, "wardenftpd: bad session argument\n");
      return 2;
    }
  }
  const SessionEngines engines{run_preauth, run_postauth};
  return run_session_monitor(engines, argv[2], options);
}

}  // namespace wftpd

#if defined(WFTPD_SANITIZE)
// Sanitizer builds: LeakSanitizer's exit-time check needs ptrace and threads, which no sandboxed
// role may use, so it is off at exit everywhere. The listener, which is not sandboxed, runs the
// check itself when it shuts down (see run_listener): every session it served, reaped and
// forgot must have left nothing behind in it. (The listener passes an empty environment to
// sessions, so ASAN_OPTIONS cannot carry this.) Defined here, in the one file both images
// (wardenftpd and wardenftpd-session) are built from.
extern "C" const char* __asan_default_options() { return "detect_leaks=1:leak_check_at_exit=0"; }
#endif
