// The listener's quota keeping (priv/quota_usage.hpp): the monitors' questions before an
// upload and their reports after one, the usage files in quota_dir, and
// `wardenftpd-ctl quota [--rescan] USER` (priv/quota_rescan.hpp).
#include <signal.h>
#include <unistd.h>

#include "common/account_files.hpp"
#include "common/users_file.hpp"
#include "priv/listener_internal.hpp"
#include "priv/state_file.hpp"

namespace wftpd {
namespace listener_internal {
namespace {

constexpr std::size_t kMaxUsageFileBytes = 4096;
constexpr std::size_t kMaxRescanStates = 1000;

std::string usage_text(std::uint64_t value, std::uint64_t limit) {
  return limit == 0 ? "-" : std::to_string(value);
}

}  // namespace

void Listener::send_notice(Session& session, const ListenerNotice& notice, std::string_view what) {
  if (!session.report) return;
  const std::string frame = encode_notice(notice);
  if (::send(session.report.get(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
      static_cast<ssize_t>(frame.size())) {
    log_connection(LogLevel::kWarning, session.id, session.client,
                   system_error("send(" + std::string(what) + ")", errno).message);
  }
}

std::string Listener::quota_file_path(const std::string& user) const {
  return config_.quota_dir + "/" + quota_file_name(user);
}

const QuotaUsage* Listener::quota_usage_of(const std::string& user) {
  if (const QuotaUsage* known = quotas_.find(user)) return known;
  QuotaUsage usage;
  if (!config_.quota_dir.empty()) {
    auto directory = prepare_private_directory(config_.quota_dir);
    auto text = directory ? read_root_state_file(quota_file_path(user), kMaxUsageFileBytes)
                          : Result<std::string>(directory.error());
    if (!text) {
      log_error("quota_dir: " + text.error().message + "; uploads of user '" + escape_for_log(user) +
                "' under a quota are refused until it is fixed");
      return nullptr;
    }
    if (!text->empty()) {
      auto parsed = parse_quota_usage(*text);
      if (!parsed) {
        log_error("quota_dir: " + quota_file_path(user) + ": " + parsed.error().message +
                  "; uploads under a quota are refused until it is fixed (or recounted with "
                  "wardenftpd-ctl quota --rescan)");
        return nullptr;
      }
      usage = *parsed;
    }
  }
  if (!quotas_.set(user, usage, false)) {
    log_error("quota: usage of more than " + std::to_string(QuotaLedger::kMaxUsers) +
              " users in memory; uploads of user '" + escape_for_log(user) + "' under a quota are refused");
    return nullptr;
  }
  return quotas_.find(user);
}

void Listener::answer_quota_query(Session& session, const SessionReport& query) {
  ListenerNotice answer;
  answer.type = NoticeType::kQuotaAnswer;
  // The user is the one this socket's monitor reported at login; a question before one gets no.
  if (session.record.logged_in()) {
    const QuotaUsage* usage = query.wants_usage ? quota_usage_of(session.record.user) : nullptr;
    answer.usage_known = usage != nullptr;
    if (usage != nullptr) {
      answer.used_bytes = usage->bytes;
      answer.used_files = usage->files;
    }
    // `granted` is the hour's answer. Without the usage the monitor refuses the upload anyway
    // (fail closed), so it is not counted against the hour.
    answer.granted = (query.wants_usage && !answer.usage_known) ||
                     upload_starts_.try_start(session.client_key, query.uploads_per_hour,
                                              std::chrono::steady_clock::now());
  }
  send_notice(session, answer, "quota answer");
}

void Listener::apply_quota_used(Session& session, const SessionReport& used) {
  if (!session.record.logged_in()) return;
  const std::string& user = session.record.user;
  if (quota_usage_of(user) == nullptr) return;  // logged when it could not be read
  quotas_.apply(user, QuotaDelta{used.bytes_added, used.bytes_removed, used.files_added, used.files_removed});
  if (quota_saves_.changed(std::chrono::steady_clock::now())) save_quota_usage();
}

void Listener::save_quota_usage() {
  quota_saves_.written(std::chrono::steady_clock::now());
  if (config_.quota_dir.empty()) {
    (void)quotas_.take_dirty();
    return;
  }
  auto directory = prepare_private_directory(config_.quota_dir);
  for (const auto& user : quotas_.take_dirty()) {
    const QuotaUsage* usage = quotas_.find(user);
    if (usage == nullptr) continue;
    auto written = directory ? write_state_file(quota_file_path(user), format_quota_usage(user, *usage))
                             : Result<void>(directory.error());
    if (!written) {
      log_error("quota_dir: " + written.error().message);
      // Kept for the next attempt; the pacer waits its interval before it.
      quotas_.mark_dirty(user);
      (void)quota_saves_.changed(std::chrono::steady_clock::now());
    }
  }
}

// Whose files `user` are, as the sessions see them: anonymous (the drop box), a virtual user
// (users_file), or a system account (/etc/passwd, read directly: never NSS). The class is for
// the limits shown.
Result<Listener::QuotaAccount> Listener::find_quota_account(const std::string& user) const {
  QuotaAccount found;
  found.rescan.user = user;
  if (user == "anonymous") {
    if (!config_.anonymous_enable) return make_error("anonymous FTP is not enabled");
    found.anonymous = true;
    found.rescan.uid = config_.anon_uid;
    found.rescan.gid = config_.anon_gid;
    found.rescan.root = config_.anon_root;
    found.rescan.directory = config_.anon_upload_dir.empty() ? "/" : config_.anon_upload_dir;
    return found;
  }
  if (!is_valid_user_name(user)) return make_error("'" + user + "' is not a user name");
  auto users = read_users_file(config_.users_file);
  if (users) {
    const VirtualUser* virtual_user = find_user(*users, user);
    if (virtual_user != nullptr) {
      found.rescan.uid = virtual_user->uid;
      found.rescan.gid = virtual_user->gid;
      found.rescan.root = virtual_user->root;
      found.user_class = virtual_user->user_class;
    }
    const bool known = virtual_user != nullptr;
    wipe_hashes(*users);
    if (known) return found;
  }
  if (!config_.pam_enable) return make_error("no user '" + user + "' in users_file");
  auto passwd = read_account_file(AccountFiles{}.passwd);
  if (!passwd) return passwd.error();
  auto entry = find_passwd_entry(*passwd, user, AccountFiles{}.passwd);
  if (!entry) return entry.error();
  if (!*entry) return make_error("no user '" + user + "' in users_file or /etc/passwd");
  found.rescan.uid = (*entry)->uid;
  found.rescan.gid = (*entry)->gid;
  found.rescan.root = (*entry)->home;
  return found;
}

ControlResponse Listener::control_quota(const ControlSocket::Request& request) {
  const std::string& user = request.request.argument;
  auto account = find_quota_account(user);
  if (!account) return ControlResponse{false, account.error().message, {}, {}, {}};
  auto policy = effective_policy(config_, user, account->user_class, account->anonymous);
  if (!policy) return ControlResponse{false, policy.error().message, {}, {}, {}};
  if (request.request.rescan) {
    if (rescan_) {
      return ControlResponse{false, "a rescan (of '" + rescan_->user + "') is running; ask again when it is done",
                             {}, {}, {}};
    }
    auto started = start_rescan(account->rescan, RescanLimits{});
    if (!started) return ControlResponse{false, "rescan: " + started.error().message, {}, {}, {}};
    log_info("quota rescan of user '" + escape_for_log(user) + "' (" + account->rescan.root +
             (account->rescan.directory == "/" ? std::string() : account->rescan.directory) + ") started by uid " +
             std::to_string(request.peer.uid) + " on the control socket");
    rescan_ = RunningRescan{started->pid, std::move(started->answer), user, {},
                            std::chrono::steady_clock::now() + RescanLimits{}.max_time + std::chrono::seconds(10),
                            false};
    if (rescan_states_.size() >= kMaxRescanStates) rescan_states_.erase(rescan_states_.begin());
    rescan_states_[user] = "running";
  }
  const QuotaUsage* usage = quota_usage_of(user);
  ControlResponse response;
  response.columns = {{"user", false},          {"class", false},        {"bytes", true},
                      {"quota_bytes", true},    {"files", true},         {"quota_files", true},
                      {"max_file_size", true},  {"upload_files_per_hour", true}, {"rescan", false}};
  const auto state = rescan_states_.find(user);
  response.rows.push_back({user, policy->class_name, usage ? std::to_string(usage->bytes) : "-",
                           usage_text(policy->quota_bytes, policy->quota_bytes),
                           usage ? std::to_string(usage->files) : "-",
                           usage_text(policy->quota_files, policy->quota_files),
                           usage_text(policy->max_file_size, policy->max_file_size),
                           usage_text(policy->upload_files_per_hour, policy->upload_files_per_hour),
                           state == rescan_states_.end() ? "-" : state->second});
  return response;
}

void Listener::read_rescan() {
  if (!rescan_) return;
  char buffer[256];
  for (;;) {
    const ssize_t n = ::read(rescan_->answer.get(), buffer, sizeof(buffer));
    if (n > 0) {
      rescan_->text.append(buffer, static_cast<std::size_t>(n));
      if (rescan_->text.size() > 200) return finish_rescan("failed: answer too long");
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    break;  // end of file: the walker is done
  }
  auto totals = parse_rescan_answer(rescan_->text);
  if (!totals) return finish_rescan("failed: the walker could not become the user or open the directory");
  const std::string user = rescan_->user;
  if (!quotas_.set(user, totals->usage, true)) return finish_rescan("failed: too many users in memory");
  if (quota_saves_.changed(std::chrono::steady_clock::now())) save_quota_usage();
  finish_rescan(totals->complete ? "complete" : "incomplete");
}

void Listener::finish_rescan(const std::string& state) {
  if (!rescan_) return;
  if (!rescan_->reaped) ::kill(rescan_->pid, SIGKILL);  // reaped by reap_children()
  const std::string user = rescan_->user;
  const QuotaUsage* usage = quotas_.find(user);
  log_info("quota rescan of user '" + escape_for_log(user) + "': " + state +
           (usage != nullptr && !state.starts_with("failed") ? "; " + std::to_string(usage->bytes) + " bytes in " +
                                                       std::to_string(usage->files) + " files"
                                                 : std::string()));
  rescan_states_[user] = state;
  rescan_.reset();
}

void Listener::check_rescan_deadline(std::chrono::steady_clock::time_point now) {
  if (rescan_ && now >= rescan_->deadline) finish_rescan("failed: time limit");
}

}  // namespace listener_internal
}  // namespace wftpd
