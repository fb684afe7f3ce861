// wardenftpd-session: the session image without TLS. The listener execs it for each connection
// of a configuration without tls_enable (see priv/session_image.hpp); it does nothing else.
#include <cstdio>
#include <string_view>

#include "daemon/session_command.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--session") {
    return wftpd::run_session_command(argc, argv);
  }
  std::fprintf(stderr,
               "usage: wardenftpd-session --session ID ...\n"
               "The listener (wardenftpd) execs this for each session of a server without TLS;\n"
               "it is not run by hand.\n");
  return 2;
}
