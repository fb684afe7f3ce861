#include "priv/inetd_session.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.hpp"
#include "common/socket_address.hpp"
#include "common/unique_fd.hpp"
#include "priv/listener.hpp"
#include "priv/secure_directory.hpp"
#include "priv/session_spawn.hpp"
#include "priv/transfer_log.hpp"

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
Result<void> start_session(const InetdOptions& options, bool& implicit_tls) {
  auto connection = check_connection(STDIN_FILENO);
  if (!connection) return connection;
  auto local = SocketAddress::local_of(STDIN_FILENO);
  if (!local) return make_error("standard input: " + local.error().message);
  auto config = load_config_file(options.config_path);
  if (!config) return config.error();
  set_log_level(parse_log_level(config->log_level));
  if (options.force_stderr) config->log_output = "stderr";  // the monitor reads it from the memfd
  auto log = open_log(framing_of(*config), config->syslog_socket);
  if (!log) {
    return make_error("cannot log to syslog (" + log.error().message + "); set log_output=stderr or use --stderr");
  }
  implicit_tls = options.implicit_tls ||
                 (config->tls_implicit_port != 0 && local->port() == config->tls_implicit_port);
  if (implicit_tls && !config->tls_enable) {
    return make_error("implicit TLS (--implicit-tls or tls_implicit_port) needs tls_enable=yes");
  }
  auto chroot_dir = prepare_empty_directory(config->secure_chroot_dir);
  if (!chroot_dir) return chroot_dir;
  UniqueFd tls_memfd;
  if (config->tls_enable) {
    auto sealed = seal_tls_credentials(*config);
    if (!sealed) return sealed.error();
    tls_memfd = std::move(*sealed);
  }
  auto config_memfd = make_sealed_memfd("wardenftpd-config", serialize_config(*config));
  if (!config_memfd) return config_memfd.error();
  auto config_high = move_high(std::move(*config_memfd));
  if (!config_high) return config_high.error();
  auto devnull = move_high(UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (!devnull) return make_error("/dev/null: " + devnull.error().message);
  // SECURITY: the same isolation as the listener's sessions, at the price of one namespace per
  // connection (the listener shares one among all its sessions).
  auto netns = create_empty_network_namespace();
  if (!netns) return make_error("empty network namespace: " + netns.error().message);
  auto netns_high = move_high(std::move(*netns));
  if (!netns_high) return netns_high.error();
  auto client = move_high(UniqueFd(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)));
  if (!client) return client.error();
  UniqueFd xferlog;
  if (config->xferlog_enable) {
    auto opened = open_transfer_log(config->xferlog_file);
    if (!opened) return opened.error();
    auto high = move_high(std::move(*opened));
    if (!high) return high.error();
    xferlog = std::move(*high);
  }

  // One process per connection: no other session of this client shares its ticket keys.
  UniqueFd ticket_keys;
  if (config->tls_enable) {
    auto keys = make_ticket_keys();
    if (!keys) return keys.error();
    auto pipe = make_ticket_key_pipe(*keys);
    OPENSSL_cleanse(keys->data(), keys->size());
    if (!pipe) return pipe.error();
    ticket_keys = std::move(*pipe);
  }

  SessionLaunch launch;
  launch.devnull = devnull->get();
  launch.client = client->get();
  launch.config = config_high->get();
  launch.netns = netns_high->get();
  launch.tls_bundle = tls_memfd ? tls_memfd.get() : -1;
  // No listener counts failed logins across sessions here: the monitor's reports go nowhere.
  launch.report = devnull->get();
  launch.log = log_descriptor();
  launch.xferlog = xferlog ? xferlog.get() : -1;
  launch.ticket_keys = ticket_keys ? ticket_keys.get() : -1;
  // Session ids are numbers; the pid is unique among the sessions running at one time.
  launch.session_id = std::to_string(::getpid());
  launch.implicit_tls = implicit_tls;
  auto peer = SocketAddress::peer_of(STDIN_FILENO);
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
  auto started = start_session(options, implicit_tls);  // returns only on failure
  log_error(started ? "inetd mode: the session monitor did not start"
                    : "inetd mode: " + started.error().message);
  // A client of a clear-text port is told (a TLS client expects a handshake, not text).
  if (!implicit_tls) {
    (void)::send(STDIN_FILENO, kUnavailable.data(), kUnavailable.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  return 1;
}

}  // namespace wftpd
