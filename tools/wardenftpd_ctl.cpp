// wardenftpd-ctl: the operator's tool for a running wardenftpd, over its control socket
// (control_socket; common/control_protocol.hpp). It holds no privilege of its own: the listener
// decides who may ask (root, or control_group).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/control_protocol.hpp"
#include "common/io.hpp"
#include "common/unique_fd.hpp"

namespace {

constexpr int kExitRefused = 1;  // the daemon answered, and refused or found nothing
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr const char* kDefaultSocket = "/run/wardenftpd/ctl";

constexpr std::string_view kUsage =
    "usage: wardenftpd-ctl [--socket PATH | --config FILE] [--json] COMMAND [ARGUMENTS]\n"
    "\n"
    "Commands:\n"
    "  who                              the sessions: id, pid, user, client, proxy, start, idle\n"
    "                                   seconds, state, and the transfer's path, bytes and rate\n"
    "  kick SESSION                     end the session with that id\n"
    "  kick --user NAME                 end every session of that user\n"
    "  kick --client ADDR[/PREFIX]      end every session from there\n"
    "  ban ADDR[/PREFIX] [--for TIME]   refuse new connections from there (421, before anything\n"
    "                                   is forked); TIME: seconds, or with s, m, h or d; without\n"
    "                                   --for, until unbanned\n"
    "  unban ADDR[/PREFIX]              lift a ban, manual or automatic\n"
    "  bans                             the bans in force\n"
    "  status                           version, uptime, sessions, limits, last reload\n"
    "  reload                           reload the configuration file (as SIGHUP does)\n"
    "  metrics                          the counters, in the Prometheus text format\n"
    "  quota USER                       the user's usage (bytes, files) and limits, and the\n"
    "                                   state of the last rescan (anonymous: the drop box)\n"
    "  quota --rescan USER              recount the user's files as that user (files that\n"
    "                                   arrived other than by upload), wait for the count (at\n"
    "                                   most 2 minutes) and show the result\n"
    "\n"
    "Options:\n"
    "  --socket PATH   the control socket (default /run/wardenftpd/ctl)\n"
    "  --config FILE   take control_socket from this configuration file\n"
    "  --json          print JSON instead of a table\n"
    "  --help          this text\n"
    "  --version       the version\n"
    "\n"
    "Exit status: 0 done; 1 the daemon refused or nothing matched; 2 usage; 3 no daemon answered.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "wardenftpd-ctl: %s (wardenftpd-ctl --help lists the commands)\n", message.c_str());
  return kExitUsage;
}

// "90", "90s", "15m", "2h", "7d" -> seconds (at most ~136 years; 0 is refused).
bool parse_duration(std::string_view text, std::uint32_t& seconds) {
  std::uint64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; text.remove_suffix(1); break;
      case 'm': unit = 60; text.remove_suffix(1); break;
      case 'h': unit = 3600; text.remove_suffix(1); break;
      case 'd': unit = 86400; text.remove_suffix(1); break;
      default: break;
    }
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 0xffffffffull / unit) {
    return false;
  }
  seconds = static_cast<std::uint32_t>(value * unit);
  return true;
}

// One request, one answer: 0 with `response` filled (ok or not), or the exit status.
int exchange_response(const std::string& path, const wftpd::ControlRequest& request,
                      wftpd::ControlResponse& answer) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    std::fprintf(stderr, "wardenftpd-ctl: socket path too long: %s\n", path.c_str());
    return kExitUsage;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  wftpd::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    std::fprintf(stderr, "wardenftpd-ctl: socket: %s\n", std::strerror(errno));
    return kExitUnreachable;
  }
  const timeval timeout{30, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    std::fprintf(stderr, "wardenftpd-ctl: connect(%s): %s (is wardenftpd running, with this control_socket?)\n",
                 path.c_str(), std::strerror(errno));
    return kExitUnreachable;
  }
  // A daemon that refuses the peer answers before reading the request: a failed write is not
  // the end, the answer may be waiting.
  auto sent = wftpd::write_all(fd.get(), wftpd::encode_control_request(request));
  const std::string send_error = sent ? std::string() : sent.error().message;
  wftpd::ControlFrameReader reader(wftpd::kMaxControlResponse);
  char buffer[65536];
  for (;;) {
    auto body = reader.next();
    if (!body) {
      std::fprintf(stderr, "wardenftpd-ctl: bad answer: %s\n", body.error().message.c_str());
      return kExitUnreachable;
    }
    if (*body) {
      auto response = wftpd::decode_control_response(**body);
      if (!response) {
        std::fprintf(stderr, "wardenftpd-ctl: bad answer: %s\n", response.error().message.c_str());
        return kExitUnreachable;
      }
      answer = std::move(*response);
      return 0;
    }
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "wardenftpd-ctl: the daemon closed the connection without an answer%s%s%s%s\n",
                   n < 0 ? ": " : "", n < 0 ? std::strerror(errno) : "",
                   send_error.empty() ? "" : "; sending the request: ", send_error.c_str());
      return kExitUnreachable;
    }
    reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

int print_response(const wftpd::ControlResponse& response, bool json) {
  if (!response.ok) {
    std::fprintf(stderr, "wardenftpd-ctl: %s\n", response.message.c_str());
    return kExitRefused;
  }
  const std::string out = json ? wftpd::render_control_json(response) : wftpd::render_control_text(response);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int exchange(const std::string& path, const wftpd::ControlRequest& request, bool json) {
  wftpd::ControlResponse response;
  const int status = exchange_response(path, request, response);
  return status != 0 ? status : print_response(response, json);
}

// quota --rescan: the listener starts the count and answers at once (it never waits for a
// walk); the tool asks again until the user's rescan column no longer says "running".
int rescan_and_wait(const std::string& path, wftpd::ControlRequest request, bool json) {
  wftpd::ControlResponse response;
  int status = exchange_response(path, request, response);
  if (status != 0 || !response.ok) return status != 0 ? status : print_response(response, json);
  request.rescan = false;
  for (int attempt = 0; attempt < 1200; ++attempt) {
    status = exchange_response(path, request, response);
    if (status != 0 || !response.ok) return status != 0 ? status : print_response(response, json);
    std::size_t column = 0;
    while (column < response.columns.size() && response.columns[column].name != "rescan") ++column;
    const bool running = !response.rows.empty() && column < response.rows[0].size() &&
                         response.rows[0][column] == "running";
    if (!running) return print_response(response, json);
    ::usleep(100000);
  }
  std::fprintf(stderr, "wardenftpd-ctl: the rescan did not finish within 2 minutes\n");
  return kExitRefused;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed connection is an error to report, not a reason to die
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string socket_path = kDefaultSocket;
  bool json = false;
  std::size_t i = 0;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    if (args[i] == "--help") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (args[i] == "--version") {
      std::printf("wardenftpd-ctl %s\n", WARDENFTPD_VERSION);
      return 0;
    }
    if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--socket" && i + 1 < args.size()) {
      socket_path = args[++i];
    } else if (args[i] == "--config" && i + 1 < args.size()) {
      const std::string file = args[++i];
      wftpd::UniqueFd config_fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
      if (!config_fd) {
        std::fprintf(stderr, "wardenftpd-ctl: open(%s): %s\n", file.c_str(), std::strerror(errno));
        return kExitUsage;
      }
      auto text = wftpd::read_whole_fd(config_fd.get(), 1u << 20);
      auto config = text ? wftpd::parse_config(*text, file) : wftpd::Result<wftpd::Config>(text.error());
      if (!config) {
        std::fprintf(stderr, "wardenftpd-ctl: %s\n", config.error().message.c_str());
        return kExitUsage;
      }
      if (config->control_socket.empty()) {
        std::fprintf(stderr, "wardenftpd-ctl: %s sets no control_socket\n", args[i].c_str());
        return kExitUsage;
      }
      socket_path = config->control_socket;
    } else {
      return usage_error("unknown option " + args[i]);
    }
  }
  if (i == args.size()) return usage_error("no command");
  const std::string command = args[i++];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  wftpd::ControlRequest request;
  // Options after the command: --json anywhere, --for with ban, --user/--client with kick.
  std::erase_if(rest, [&](const std::string& arg) { return arg == "--json" && (json = true); });
  const auto no_arguments = [&](wftpd::ControlCommand which) {
    request.command = which;
    return rest.empty();
  };
  if (command == "who") {
    if (!no_arguments(wftpd::ControlCommand::kWho)) return usage_error("who takes no arguments");
  } else if (command == "bans") {
    if (!no_arguments(wftpd::ControlCommand::kBans)) return usage_error("bans takes no arguments");
  } else if (command == "status") {
    if (!no_arguments(wftpd::ControlCommand::kStatus)) return usage_error("status takes no arguments");
  } else if (command == "reload") {
    if (!no_arguments(wftpd::ControlCommand::kReload)) return usage_error("reload takes no arguments");
  } else if (command == "metrics") {
    if (!no_arguments(wftpd::ControlCommand::kMetrics)) return usage_error("metrics takes no arguments");
  } else if (command == "kick") {
    request.command = wftpd::ControlCommand::kKick;
    if (rest.size() == 1 && !rest[0].starts_with("--")) {
      request.selector = wftpd::KickSelector::kSession;
      request.argument = rest[0];
    } else if (rest.size() == 2 && rest[0] == "--user") {
      request.selector = wftpd::KickSelector::kUser;
      request.argument = rest[1];
    } else if (rest.size() == 2 && rest[0] == "--client") {
      request.selector = wftpd::KickSelector::kClient;
      request.argument = rest[1];
    } else {
      return usage_error("kick SESSION | --user NAME | --client ADDR[/PREFIX]");
    }
  } else if (command == "ban") {
    request.command = wftpd::ControlCommand::kBan;
    if (rest.size() == 1) {
      request.argument = rest[0];
    } else if (rest.size() == 3 && rest[1] == "--for") {
      request.argument = rest[0];
      if (!parse_duration(rest[2], request.seconds)) return usage_error("bad duration '" + rest[2] + "'");
    } else {
      return usage_error("ban ADDR[/PREFIX] [--for DURATION]");
    }
  } else if (command == "quota") {
    request.command = wftpd::ControlCommand::kQuota;
    if (rest.size() == 1 && !rest[0].starts_with("--")) {
      request.argument = rest[0];
    } else if (rest.size() == 2 && rest[0] == "--rescan") {
      request.rescan = true;
      request.argument = rest[1];
    } else {
      return usage_error("quota [--rescan] USER");
    }
  } else if (command == "unban") {
    request.command = wftpd::ControlCommand::kUnban;
    if (rest.size() != 1) return usage_error("unban ADDR[/PREFIX]");
    request.argument = rest[0];
  } else {
    return usage_error("unknown command '" + command + "'");
  }
  if (request.argument.size() > wftpd::kMaxControlArgument) return usage_error("argument too long");
  if (request.rescan) return rescan_and_wait(socket_path, request, json);
  return exchange(socket_path, request, json);
}
