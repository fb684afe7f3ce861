#include "priv/inetd_session.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"
#include "priv/client_access.hpp"
#include "priv/config_validation.hpp"
#include "priv/session_spawn.hpp"
#include "priv/socket_activation.hpp"

namespace wftpd {
namespace {

constexpr std::string_view kUnavailable = "421 Service not available, closing control connection.\r\n";

bool same_file(int a, int b) {
  struct stat first{}, second{};
  return ::fstat(a, &first) == 0 && ::fstat(b, &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

// The inherited connection must be a connected TCP socket: the monitor needs both addresses.
Result<void> check_connection(int fd) {
  int type = 0, domain = 0;
  socklen_t length = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0) {
    return system_error("standard input: getsockopt(SO_TYPE) (is it a socket?)", errno);
  }
  length = sizeof(domain);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0) {
    return system_error("standard input: getsockopt(SO_DOMAIN)", errno);
  }
  if (type != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6)) {
    return make_error("standard input is not a TCP connection");
  }
  auto peer = SocketAddress::peer_of(fd);
  if (!peer) return make_error("standard input: " + peer.error().message);
  return ok_result();
}

// Everything up to the exec; an error means no session.
Result<void> start_session(const InetdOptions& options, bool& implicit_tls, bool& refused) {
  auto connection = check_connection(STDIN_FILENO);
  if (!connection) return connection;
  auto local = SocketAddress::local_of(STDIN_FILENO);
  if (!local) return make_error("standard input: " + local.error().message);
  // The connection is the one socket this configuration serves: validate_config() refuses a
  // configuration without tls_enable for an implicit-TLS connection, as for any other socket.
  ServingContext context;
  context.sockets.push_back(
      ServedSocket{"the inetd connection to " + local->to_string() +
                       (options.implicit_tls ? " (--implicit-tls)" : ""),
                   options.implicit_tls ? "ftps" : "", local->port()});
  auto valid = load_config_file(options.config_path, context);
  if (!valid) return valid.error();
  Config& config = valid->config;
  set_log_level(parse_log_level(config.log_level));
  if (options.force_stderr) config.log_output = "stderr";  // the monitor reads it from the memfd
  auto log = open_log(framing_of(config), config.syslog_socket);
  if (!log) {
    return make_error("cannot log to syslog (" + log.error().message + "); set log_output=stderr or use --stderr");
  }
  implicit_tls = serves_implicit_tls(context.sockets.front().name, local->port(), config.tls_implicit_port);
  // SECURITY: the listener's access lists, decided here before anything is made for the session.
  auto access = ClientAccess::from_config(config);
  if (!access) return access.error();
  auto peer = SocketAddress::peer_of(STDIN_FILENO);
  if (!peer) return make_error("standard input: " + peer.error().message);
  if (const auto decision = access->decide(*peer); decision != ClientAccess::Decision::kAllowed) {
    refused = true;
    return make_error("refusing " + peer->to_string() + ": " +
                      std::string(ClientAccess::reason(decision)));
  }
  auto resources = prepare_session_resources(*valid);
  if (!resources) return resources.error();
  // SECURITY: the same isolation as the listener's sessions, at the price of one namespace per
  // connection (the listener shares one among all its sessions).
  auto host = prepare_session_host();
  if (!host) return host.error();
  auto client = move_high(UniqueFd(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)));
  if (!client) return client.error();

  // One process per connection: random keys, so no other session of this client shares them.
  UniqueFd ticket_keys;
  if (config.tls_enable) {
    auto pipe = session_ticket_key_pipe(nullptr, "");
    if (!pipe) return pipe.error();
    ticket_keys = std::move(*pipe);
  }

  // No listener counts failed logins across sessions here: the monitor's reports go nowhere.
  SessionLaunch launch = make_session_launch(*host, *resources, client->get(), host->devnull.get());
  launch.log = log_descriptor();
  launch.ticket_keys = ticket_keys ? ticket_keys.get() : -1;
  // Session ids are numbers; the pid is unique among the sessions running at one time.
  launch.session_id = std::to_string(::getpid());
  launch.implicit_tls = implicit_tls;
  log_info("session " + launch.session_id + " from " + (peer ? peer->to_string() : "unknown") + " to " +
           local->to_string() + (implicit_tls ? " (implicit TLS)" : "") + " (inetd mode)");
  // SECURITY: the same floor as under the listener: it is inherited across the exec, beneath the
  // monitor's own filter.
  auto floor = install_seccomp_floor();
  if (!floor) return make_error("seccomp floor: " + floor.error().message);
  return exec_session_monitor(launch);
}

}  // namespace

int run_inetd_session(const InetdOptions& options) {
  set_log_role("inetd");
  // SECURITY: a classic inetd hands the connection out as stderr too; log lines (file names,
  // addresses, reasons) must not go to the client, so the log is dropped instead.
  if (same_file(STDERR_FILENO, STDIN_FILENO)) {
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!devnull || ::dup2(devnull.get(), STDERR_FILENO) < 0) return 1;
  }
  bool implicit_tls = options.implicit_tls;
  bool refused = false;  // by allow_clients/deny_clients: not a failure of this program
  auto started = start_session(options, implicit_tls, refused);  // returns only on failure
  if (refused) {
    log_warning("inetd mode: " + started.error().message);
  } else {
    log_error(started ? "inetd mode: the session monitor did not start"
                      : "inetd mode: " + started.error().message);
  }
  // A client of a clear-text port is told (a TLS client expects a handshake, not text).
  if (!implicit_tls) {
    const std::string_view reply = refused ? kAccessRefusedReply : kUnavailable;
    (void)::send(STDIN_FILENO, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  return refused ? 0 : 1;
}

}  // namespace wftpd
