// The listener's control-socket commands (wardenftpd-ctl), its metrics and the ban state file.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "priv/listener_internal.hpp"

namespace wftpd {
namespace listener_internal {

// ---- The control socket (wardenftpd-ctl)

Result<void> Listener::open_control_socket() {
  if (config_.control_socket.empty()) {
    control_ = ControlSocket();
    return ok_result();
  }
  if (control_.active() && control_.path() == config_.control_socket) return ok_result();
  auto opened = ControlSocket::open(config_.control_socket, control_gid_);
  if (!opened) return make_error("control socket: " + opened.error().message);
  control_ = std::move(*opened);
  log_info("control socket " + config_.control_socket + " (root" +
           (control_gid_ ? " and group " + config_.control_group : std::string()) + ")");
  return ok_result();
}

void Listener::serve_control(const ControlSocket::Request& request) {
  metrics_.control_request();
  const std::string who = "uid " + std::to_string(request.peer.uid) + " (pid " +
                          std::to_string(request.peer.pid) + ")";
  ControlResponse response;
  const auto now = std::chrono::steady_clock::now();
  switch (request.request.command) {
    case ControlCommand::kWho: {
      std::vector<const SessionRecord*> records;
      for (const auto& [pid, session] : sessions_) records.push_back(&session.record);
      response = who_table(records, now);
      break;
    }
    case ControlCommand::kKick: response = control_kick(request); break;
    case ControlCommand::kBan: response = control_ban(request); break;
    case ControlCommand::kUnban: response = control_unban(request); break;
    case ControlCommand::kBans: response = control_bans(); break;
    case ControlCommand::kStatus: response = control_status(); break;
    case ControlCommand::kReload: {
      log_info("reload asked for on the control socket by " + who);
      notifier_.reloading();
      auto reloaded = reload();
      notifier_.ready(status_text());
      response.ok = reloaded.ok();
      response.message = reloaded ? "configuration reloaded from " + config_path_
                                  : "reload refused, the current configuration is kept: " +
                                        reloaded.error().message;
      break;
    }
    case ControlCommand::kMetrics: response.text = metrics_text(); break;
    case ControlCommand::kQuota: response = control_quota(request); break;
  }
  control_.respond(request.connection, response);
}

ControlResponse Listener::control_kick(const ControlSocket::Request& request) {
  ControlResponse response;
  auto selection = KickSelection::from(request.request);
  if (!selection) return ControlResponse{false, selection.error().message, {}, {}, {}};
  const std::string who = "uid " + std::to_string(request.peer.uid) + " (pid " +
                          std::to_string(request.peer.pid) + ")";
  std::size_t kicked = 0;
  for (const auto& [pid, session] : sessions_) {
    if (!selection->matches(session.record)) continue;
    // The monitor's children die with it (PR_SET_PDEATHSIG); reap_children() collects it.
    if (::kill(pid, SIGTERM) != 0) {
      log_warning(system_error("kill(monitor " + std::to_string(pid) + ")", errno).message);
      continue;
    }
    ++kicked;
    log_connection(LogLevel::kWarning, session.id, session.client,
                   "session " + std::to_string(session.id) + " (user " +
                       (session.record.logged_in() ? "'" + escape_for_log(session.record.user) + "'" : std::string("-")) +
                       ") ended by " + who + " on the control socket");
  }
  response.ok = kicked > 0;
  response.message = kicked > 0 ? "ended " + std::to_string(kicked) + (kicked == 1 ? " session" : " sessions")
                                : "no session matched";
  return response;
}

ControlResponse Listener::control_ban(const ControlSocket::Request& request) {
  const auto& text = request.request.argument;
  const std::optional<BanList::Clock::duration> duration =
      request.request.seconds == 0 ? std::nullopt
                                   : std::optional<BanList::Clock::duration>(std::chrono::seconds(request.request.seconds));
  auto banned = bans_.ban(text, duration, std::chrono::steady_clock::now());
  if (!banned) return ControlResponse{false, banned.error().message, {}, {}, {}};
  const std::string prefix = AddressPrefix::parse(text)->text();
  const std::string how_long = duration ? "for " + std::to_string(request.request.seconds) + " s" : "until unbanned";
  log_warning("banning " + prefix + " " + how_long + ": asked for by uid " + std::to_string(request.peer.uid) +
              " (pid " + std::to_string(request.peer.pid) + ") on the control socket");
  metrics_.ban_started(BanList::Origin::kManual);
  ban_state_changed();
  // Sessions already open from there go on; `kick --client` ends them.
  std::size_t open = 0;
  const auto parsed = AddressPrefix::parse(text);
  for (const auto& [pid, session] : sessions_) {
    if (parsed && parsed->contains(session.record.client)) ++open;
  }
  return ControlResponse{true,
                         "banned " + prefix + " " + how_long +
                             (open > 0 ? "; " + std::to_string(open) +
                                             " open session(s) from there go on (end them with kick --client)"
                                       : std::string()),
                         {}, {}, {}};
}

ControlResponse Listener::control_unban(const ControlSocket::Request& request) {
  const std::size_t lifted = bans_.unban(request.request.argument, std::chrono::steady_clock::now());
  if (lifted == 0) return ControlResponse{false, "no ban of " + request.request.argument, {}, {}, {}};
  log_warning("ban of " + escape_for_log(request.request.argument) + " lifted by uid " +
              std::to_string(request.peer.uid) + " (pid " + std::to_string(request.peer.pid) +
              ") on the control socket");
  ban_state_changed();
  return ControlResponse{true, "lifted the ban of " + request.request.argument, {}, {}, {}};
}

ControlResponse Listener::control_bans() const {
  ControlResponse response;
  response.columns = {{"prefix", false}, {"origin", false}, {"remaining", true}, {"until", false}};
  const auto wall = unix_now();
  for (const auto& entry : bans_.entries(std::chrono::steady_clock::now())) {
    const auto left = entry.remaining
                          ? std::optional<long long>(std::chrono::ceil<std::chrono::seconds>(*entry.remaining).count())
                          : std::nullopt;
    response.rows.push_back({entry.prefix, entry.origin == BanList::Origin::kAutomatic ? "automatic" : "manual",
                             left ? std::to_string(*left) : "-",
                             left ? utc_time_text(wall + *left) : "forever"});
  }
  return response;
}

ControlResponse Listener::control_status() const {
  ControlResponse response;
  std::size_t logged_in = 0;
  for (const auto& [pid, session] : sessions_) logged_in += session.record.logged_in() ? 1 : 0;
  response.columns = {{"version", false},        {"started", false},
                      {"uptime", true},          {"sessions", true},
                      {"logged_in", true},       {"max_clients", true},
                      {"max_per_ip", true},      {"connect_rate_per_ip", true},
                      {"ban_after_failures", true}, {"ban_window", true},
                      {"ban_time", true},        {"bans", true},
                      {"config", false},         {"reloaded", false}};
  response.rows.push_back({WARDENFTPD_VERSION, utc_time_text(start_unix_), std::to_string(unix_now() - start_unix_),
                           std::to_string(sessions_.size()), std::to_string(logged_in),
                           std::to_string(config_.max_clients), std::to_string(config_.max_per_ip),
                           std::to_string(config_.connect_rate_per_ip),
                           std::to_string(config_.ban_after_failures), std::to_string(config_.ban_window),
                           std::to_string(config_.ban_time),
                           std::to_string(bans_.bans_in_force(std::chrono::steady_clock::now())), config_path_,
                           last_reload_unix_ == 0 ? "never" : utc_time_text(last_reload_unix_)});
  return response;
}

std::string Listener::metrics_text() const {
  ServerMetrics::Gauges gauges;
  gauges.sessions_open = sessions_.size();
  for (const auto& [pid, session] : sessions_) gauges.sessions_logged_in += session.record.logged_in() ? 1 : 0;
  gauges.bans_in_force = bans_.bans_in_force(std::chrono::steady_clock::now());
  gauges.start_time_unix = start_unix_;
  gauges.last_reload_unix = last_reload_unix_;
  return metrics_.render(gauges);
}

// node_exporter's textfile collector reads *.prom files whole: written beside, then renamed.
void Listener::write_metrics_textfile() {
  next_metrics_write_ = std::chrono::steady_clock::now() + std::chrono::seconds(config_.metrics_interval);
  const std::string& path = config_.metrics_textfile;
  const std::string temporary = path + ".new";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) {
    log_warning(system_error("metrics_textfile: open(" + temporary + ")", errno).message);
    return;
  }
  ::fchmod(fd.get(), 0644);
  auto written = write_all(fd.get(), metrics_text());
  if (!written) {
    log_warning("metrics_textfile: " + written.error().message);
    return;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    log_warning(system_error("metrics_textfile: rename(" + temporary + ", " + path + ")", errno).message);
  }
}

// ---- Bans across restarts

void Listener::load_ban_state() {
  if (config_.ban_state_file.empty()) return;
  auto text = read_ban_state(config_.ban_state_file);
  if (!text) {
    log_error("ban_state_file: " + text.error().message + "; starting without the saved bans");
    return;
  }
  auto stored = parse_ban_state(*text, unix_now());
  if (!stored) {
    log_error("ban_state_file " + config_.ban_state_file + ": " + stored.error().message +
              "; starting without the saved bans");
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  const auto wall = unix_now();
  for (const auto& ban : *stored) {
    const std::optional<BanList::Clock::duration> left =
        ban.until ? std::optional<BanList::Clock::duration>(std::chrono::seconds(*ban.until - wall)) : std::nullopt;
    const auto key = ban.origin == BanList::Origin::kAutomatic ? client_key_of(ban.prefix) : std::nullopt;
    if (key) {
      bans_.restore_automatic(*key, ban.prefix, *left, now);
    } else if (auto restored = bans_.ban(ban.prefix, left, now); !restored) {
      log_warning("ban_state_file: " + ban.prefix + ": " + restored.error().message);
    }
  }
  if (!stored->empty()) {
    log_info("restored " + std::to_string(stored->size()) + " ban(s) from " + config_.ban_state_file);
  }
}

void Listener::ban_state_changed() {
  if (ban_saves_.changed(std::chrono::steady_clock::now())) save_ban_state();
}

void Listener::save_ban_state() {
  ban_saves_.written(std::chrono::steady_clock::now());
  if (config_.ban_state_file.empty()) return;
  const std::string text =
      format_ban_state(bans_.entries(std::chrono::steady_clock::now()), std::chrono::system_clock::now());
  auto written = write_ban_state(config_.ban_state_file, text);
  if (!written) log_error("ban_state_file: " + written.error().message + " (the bans in force still apply)");
}

}  // namespace listener_internal
}  // namespace wftpd
