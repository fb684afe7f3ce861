#include "unpriv/postauth_session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <ctime>
#include <unistd.h>

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "common/ascii.hpp"
#include "common/exit_codes.hpp"
#include "common/io.hpp"
#include "unpriv/active_argument.hpp"
#include "unpriv/common_commands.hpp"
#include "unpriv/control_connection.hpp"
#include "unpriv/data_transfer.hpp"
#include "unpriv/directory_listing.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/ftp_path.hpp"
#include "unpriv/ftp_verbs.hpp"
#include "unpriv/listing.hpp"
#include "unpriv/machine_listing.hpp"
#include "unpriv/monitor_client.hpp"
#include "unpriv/passive_reply.hpp"
#include "unpriv/reply.hpp"
#include "unpriv/postauth_engine.hpp"
#include "unpriv/session_filesystem.hpp"

namespace wftpd {

CommonSession PostauthSession::common_session(std::string_view mlst_facts) {
  return {data_tls_ != nullptr, require_private_data_, mlst_facts, tls_};
}

template <CommonHandler handler>
PostauthSession::Next PostauthSession::common(const FtpCommand& command) {
  const std::string facts = describe_facts(facts_);
  const std::string hash = hash_feature();
  CommonSession session = common_session(facts);
  session.hash_feature = hash;
  CommonReply reply = handler(command.argument, session);
  pending_ += reply.text;
  return reply.ends_session ? Next::kClose : Next::kContinue;
}

const std::array<PostauthSession::CommandRule, 51> PostauthSession::kCommands = {{
    {"USER", false, &PostauthSession::cmd_user},
    {"PASS", false, &PostauthSession::cmd_pass},
    {"QUIT", false, &PostauthSession::common<quit_command>},
    {"SYST", false, &PostauthSession::cmd_syst},
    {"FEAT", false, &PostauthSession::common<feat_command>},
    {"HELP", false, &PostauthSession::common<help_command>},
    {"NOOP", false, &PostauthSession::common<noop_command>},
    {"OPTS", true, &PostauthSession::cmd_opts},
    {"PWD", false, &PostauthSession::cmd_pwd},
    {"XPWD", false, &PostauthSession::cmd_pwd},
    {"CWD", true, &PostauthSession::cmd_cwd},
    {"XCWD", true, &PostauthSession::cmd_cwd},
    {"CDUP", false, &PostauthSession::cmd_cdup},
    {"XCUP", false, &PostauthSession::cmd_cdup},
    {"TYPE", true, &PostauthSession::cmd_type},
    {"MODE", true, &PostauthSession::cmd_mode},
    {"STRU", true, &PostauthSession::cmd_stru},
    {"PASV", false, &PostauthSession::cmd_pasv},
    {"EPSV", false, &PostauthSession::cmd_epsv},
    {"LIST", false, &PostauthSession::cmd_list, false, Marker::kUsesUp},
    {"NLST", false, &PostauthSession::cmd_nlst, false, Marker::kUsesUp},
    {"RETR", true, &PostauthSession::cmd_retr, false, Marker::kUsesUp},
    {"STOR", true, &PostauthSession::cmd_stor, true, Marker::kUsesUp},
    {"SIZE", true, &PostauthSession::cmd_size},
    {"MDTM", true, &PostauthSession::cmd_mdtm},
    {"ABOR", false, &PostauthSession::cmd_abor},
    {"ALLO", false, &PostauthSession::cmd_allo},
    {"ACCT", false, &PostauthSession::cmd_acct},
    {"MKD", true, &PostauthSession::cmd_mkd, true},
    {"XMKD", true, &PostauthSession::cmd_mkd, true},
    {"RMD", true, &PostauthSession::cmd_rmd, true},
    {"XRMD", true, &PostauthSession::cmd_rmd, true},
    {"DELE", true, &PostauthSession::cmd_dele, true},
    {"RNFR", true, &PostauthSession::cmd_rnfr, true},
    {"RNTO", true, &PostauthSession::cmd_rnto, true},
    {"APPE", true, &PostauthSession::cmd_appe, true, Marker::kUsesUp},
    {"REST", true, &PostauthSession::cmd_rest},
    {"STAT", false, &PostauthSession::cmd_stat},
    {"MLSD", false, &PostauthSession::cmd_mlsd, false, Marker::kUsesUp},
    {"MLST", false, &PostauthSession::cmd_mlst},
    {"STOU", false, &PostauthSession::cmd_stou, true, Marker::kUsesUp},
    {"SITE", true, &PostauthSession::cmd_site},
    {"MFMT", true, &PostauthSession::cmd_mfmt, true},
    {"REIN", false, &PostauthSession::cmd_rein},
    {"AUTH", false, &PostauthSession::cmd_auth},
    {"PBSZ", false, &PostauthSession::common<pbsz_command>},
    {"PROT", false, &PostauthSession::common<prot_command>},
    {"CCC", false, &PostauthSession::common<ccc_command>},
    {"CLNT", false, &PostauthSession::cmd_clnt},
    {"HASH", true, &PostauthSession::cmd_hash},
    {"RANG", false, &PostauthSession::cmd_rang},  // its own 501: a bad RANG resets the range
}};

std::time_t now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec;
}

// The restart marker (REST STREAM, RFC 3659 section 5) stays across every command that does not
// transfer data -- PASV, EPSV, PORT, EPRT, TYPE, MODE, STRU, SIZE, CWD, ... -- because clients
// send REST before or after their data-port command and TYPE, as vsftpd, Pure-FTPd and ProFTPD
// allow. The next transfer command uses it up, whatever its answer: a RETR or STOR that fails
// (425 no data connection, 550 no such file, 554 marker past the end) leaves no marker behind
// to shift a later, unrelated transfer; a client that retries sends REST again, as every client
// does. RETR and STOR honour it; APPE only where it equals the file's length (then appending is
// the same thing), STOU, LIST, NLST and MLSD refuse a marker with 554 rather than ignore it.
PostauthSession::Next PostauthSession::dispatch(const FtpCommand& command) {
  // RFC 959: RNTO must come right after RNFR.
  if (command.verb != "RNTO") {
    const bool keep = command.verb == "RNFR";
    if (!keep) rename_from_.clear();
  }
  for (const auto& rule : kCommands) {
    if (rule.verb != command.verb) continue;
    if (rule.marker == Marker::kUsesUp && hash_range_) {
      // RANG here selects bytes for HASH only (FEAT has no "RANG STREAM"): a transfer it
      // precedes is refused rather than sent whole where the client asked for a part.
      hash_range_.reset();
      reply(554, "RANG applies to HASH only on this server; the range is cleared.");
      return Next::kContinue;
    }
    const Next next = run_rule(rule, command);
    if (rule.marker == Marker::kUsesUp) restart_offset_ = 0;
    return next;
  }
  if (command.verb == "PORT" || command.verb == "EPRT") return cmd_active(command);
  if (command.verb == "HOST") {
    reply(503, "HOST must come before USER.");
    return Next::kContinue;
  }
  if (is_known_verb(command.verb)) {
    reply(502, "Command not implemented.");
  } else {
    reply(500, "Unknown command.");
  }
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::run_rule(const CommandRule& rule, const FtpCommand& command) {
  // SECURITY: read-only sessions refuse every writing command here; their seccomp filter
  // ("anonymous") has no writing system call either.
  const bool drop_box_upload =
      !upload_dir_.empty() && (command.verb == "STOR" || command.verb == "STOU");
  if (rule.writes && read_only_ && !drop_box_upload) {
    reply(550, "Permission denied.");
    return Next::kContinue;
  }
  if (rule.needs_argument && (!command.has_argument || command.argument.empty())) {
    reply(501, "Syntax error in parameters or arguments.");
    return Next::kContinue;
  }
  if (refused_by_permissions(command)) return Next::kContinue;
  return (this->*rule.handler)(command);
}

namespace {

// The permission a command needs (common/session_policy.hpp), if any.
std::optional<Permission> required_permission(const FtpCommand& command) {
  const std::string_view verb = command.verb;
  if (verb == "RETR" || verb == "HASH") return Permission::kRead;
  if (verb == "STOR" || verb == "APPE" || verb == "STOU") return Permission::kWrite;
  if (verb == "DELE") return Permission::kDelete;
  if (verb == "RNFR" || verb == "RNTO") return Permission::kRename;
  if (verb == "MKD" || verb == "XMKD") return Permission::kMkdir;
  if (verb == "RMD" || verb == "XRMD") return Permission::kRmdir;
  if (verb == "MFMT") return Permission::kMfmt;
  if (verb == "LIST" || verb == "NLST" || verb == "MLSD" || verb == "MLST") return Permission::kList;
  if (verb == "STAT" && command.has_argument && !command.argument.empty()) return Permission::kList;
  if (verb == "SITE") {
    std::string sub = command.argument.substr(0, command.argument.find(' '));
    for (char& c : sub) c = ascii_upper(c);
    if (sub == "CHMOD") return Permission::kChmod;
  }
  return std::nullopt;
}

}  // namespace

bool PostauthSession::refused_by_permissions(const FtpCommand& command) {
  const auto needed = required_permission(command);
  if (!needed || policy_.permits(*needed)) return false;
  monitor_.log(EventLevel::kInfo, command.verb + " refused by class '" + policy_.class_name +
                                      "': permissions lack " + std::string(permission_name(*needed)));
  reply(550, "Permission denied.");
  return true;
}

bool PostauthSession::hidden_in_drop_box(const std::string& path) {
  // SECURITY: what was dropped in the anonymous drop box is never listed or read back.
  if (upload_dir_.empty()) return false;
  if (path != upload_dir_ && !path.starts_with(upload_dir_ + "/")) return false;
  reply(550, "Permission denied: the upload directory cannot be read.");
  return true;
}

bool PostauthSession::resolve_readable(std::string_view argument, std::string& path) {
  auto resolved = resolve_path(cwd_, argument);
  if (!resolved) {
    reply(553, "File name not allowed.");
    return false;
  }
  if (refused_by_name_rules(*resolved)) return false;
  if (hidden_in_drop_box(*resolved)) return false;
  path = std::move(*resolved);
  return true;
}

bool PostauthSession::resolve(const FtpCommand& command, std::string& path) {
  auto resolved = resolve_path(cwd_, command.argument);
  if (!resolved) {
    reply(553, "File name not allowed.");
    return false;
  }
  if (refused_by_name_rules(*resolved)) return false;
  path = std::move(*resolved);
  return true;
}

bool PostauthSession::resolve_new(const FtpCommand& command, std::string& path) {
  if (!resolve(command, path)) return false;
  const std::string_view name = base_name(path);
  if (const auto rule = fs_.name_rules().new_name_refusal(name)) {
    monitor_.log(EventLevel::kInfo, command.verb + " refused by " + *rule);
    reply(553, "File name not allowed.");
    return false;
  }
  return true;
}

// SECURITY: every path a command names passes here (resolve, resolve_readable, resolve_new):
// deny_names and hide_names hold for every command, whatever it does with the path.
bool PostauthSession::refused_by_name_rules(const std::string& path) {
  const auto rule = fs_.name_rules().access_refusal(path);
  if (!rule) return false;
  monitor_.log(EventLevel::kInfo, "'" + path.substr(0, 256) + "' refused by " + *rule);
  reply(550, "Permission denied.");
  return true;
}

PostauthSession::Next PostauthSession::cmd_user(const FtpCommand&) {
  reply(530, "Can't change to another user.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_pass(const FtpCommand&) {
  reply(503, "Already logged in.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_syst(const FtpCommand&) {
  reply(215, "UNIX Type: L8");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_auth(const FtpCommand&) {
  const std::string refusal = auth_refusal(common_session({}));
  if (!refusal.empty()) pending_ += refusal;
  else reply(503, "AUTH TLS must come before USER.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_clnt(const FtpCommand& command) {
  if (!client_named_) {
    monitor_.log(EventLevel::kInfo, "client software (CLNT): " + clnt_log_text(command.argument));
  }
  client_named_ = true;
  reply(200, "Noted.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_opts(const FtpCommand& command) {
  const std::string argument = to_ascii_upper(command.argument);
  if (argument == "UTF8 ON" || argument == "UTF-8 ON") {
    reply(200, "Always in UTF8 mode.");
  } else if (argument == "HASH" || argument.starts_with("HASH ")) {
    opts_hash(std::string_view(command.argument).substr(std::min<std::size_t>(argument.size(), 5)));
  } else if (argument == "MLST" || argument.starts_with("MLST ")) {
    facts_ = parse_mlst_options(argument.size() > 5 ? std::string_view(command.argument).substr(5)
                                                    : std::string_view());
    reply(200, "MLST OPTS " + selected_facts(facts_));
  } else {
    reply(501, "Option not understood.");
  }
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_pwd(const FtpCommand&) {
  reply(257, quote_pathname(cwd_) + " is the current directory");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_cwd(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  FileError error;
  if (!fs_.can_enter_directory(path, error)) {
    reply(550, "Failed to change directory: " + error.reply_text);
    return Next::kContinue;
  }
  cwd_ = path;
  reply(250, "Directory successfully changed.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_cdup(const FtpCommand&) {
  FtpCommand up{"CWD", "..", true};
  return cmd_cwd(up);
}

PostauthSession::Next PostauthSession::cmd_type(const FtpCommand& command) {
  const std::string argument = to_ascii_upper(command.argument);
  if (argument == "I" || argument == "L 8") {
    ascii_ = false;
    reply(200, "Switching to Binary mode.");
  } else if (argument == "A" || argument == "A N") {
    ascii_ = true;
    reply(200, "Switching to ASCII mode.");
  } else if (argument == "E" || argument == "E N" || argument == "A T" || argument == "A C" ||
             argument.starts_with("L ")) {
    reply(504, "Command not implemented for that parameter.");
  } else {
    reply(501, "Unrecognised TYPE command.");
  }
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_mode(const FtpCommand& command) {
  const std::string argument = to_ascii_upper(command.argument);
  if (argument == "S") reply(200, "Mode set to S.");
  else if (argument == "B" || argument == "C" || argument == "Z") reply(504, "Only stream mode is supported.");
  else reply(501, "Unrecognised MODE.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_stru(const FtpCommand& command) {
  const std::string argument = to_ascii_upper(command.argument);
  if (argument == "F") reply(200, "Structure set to F.");
  else if (argument == "R" || argument == "P") reply(504, "Only file structure is supported.");
  else reply(501, "Unrecognised STRU.");
  return Next::kContinue;
}

int PostauthSession::run() {
  const int code = serve();
  status_.flush();
  return code;
}

int PostauthSession::serve() {
  reply(230, "Login successful.");
  for (;;) {
    if (!pending_.empty()) {
      if (!control_.send(pending_)) return 0;
      pending_.clear();
    }
    status_.command_done();  // after the reply left: the operator's idle time starts now
    // Counts held back by the once-a-second rule go out when the client pauses.
    if (status_.unsent()) control_.call_if_quiet(status_.next_due(), [this] { status_.flush(); });
    auto input = control_.next_line();
    if (!input || input->status == ControlChannel::Status::kClosed) return 0;
    if (input->status == ControlChannel::Status::kTimeout) {
      (void)control_.send(format_reply(421, "Timeout, closing control connection."));
      return kExitIdleTimeout;
    }
    if (input->status == ControlChannel::Status::kTooLong) {
      reply(500, "Command line too long.");
      if (++overlong_lines_ >= kMaxOverlongLines) {
        reply(421, "Too many over-long command lines, closing control connection.");
        (void)control_.send(pending_);
        return 0;
      }
      continue;
    }
    auto command = parse_command(input->line);
    if (!command) {
      if (input->line.find('\0') != std::string::npos) reply(501, "Syntax error in parameters or arguments.");
      else reply(500, "Syntax error, command unrecognized.");
      continue;
    }
    if (dispatch(*command) == Next::kClose) {
      if (!pending_.empty()) (void)control_.send(pending_);
      return exit_code_;
    }
  }
}

int run_postauth(const Config& config, const BecomeUser& user, ChildSetup& setup) {
  MonitorClient monitor(setup.monitor_fd);
  if (!setup.enter_sandbox({})) return kExitSandboxFailed;
  auto start = monitor.await_start();
  if (!start) return 1;
  // TLS sessions: the client's socket stays with the pre-auth child (the TLS endpoint); this
  // child reads and writes plaintext on the relay socket.
  int control_fd = setup.control_fd;
  SslCtxPtr data_tls;
  if (start->tls.control_tls) {
    if (setup.relay_fd < 0 || !config.tls_enable || setup.ticket_keys == nullptr) return 1;
    // Made only for a session whose control connection is TLS (PROT P needs AUTH TLS first,
    // and AUTH is refused after login), and inside the sandbox: OpenSSL was set up by the
    // monitor before it forked (prepare_tls_library), so this needs no file and no privilege.
    // A plain session on a TLS server thus carries no data context (about 250 KiB).
    // SECURITY: no key here, ever. With require_tls_session_reuse (the default) the context
    // can only resume the control session; otherwise full handshakes sign through the monitor,
    // which allows one signature per data connection it handed out.
    RemoteSigner* signer = config.require_tls_session_reuse ? nullptr : &monitor;
    const std::string no_chain;
    const std::string& chain = setup.certificate_chain != nullptr ? *setup.certificate_chain : no_chain;
    auto ctx = make_data_context(config, chain, signer, *setup.ticket_keys);
    if (!ctx) {
      monitor.log(EventLevel::kError, "data connection TLS context: " + ctx.error().message);
      return 1;
    }
    data_tls = std::move(*ctx);
    ::close(setup.control_fd);
    control_fd = setup.relay_fd;
  } else if (setup.relay_fd >= 0) {
    ::close(setup.relay_fd);
  }
  if (data_tls && !start->tls.session.empty()) {
    auto added = add_resumable_session(data_tls.get(), start->tls.session);
    if (!added) monitor.log(EventLevel::kWarning, "control TLS session not usable on data "
                                                  "connections: " + added.error().message);
  }
  auto fs = SessionFilesystem::open_root(user.read_only);
  if (!fs) return 1;
  // SECURITY: the session's own policy, as the monitor decided it; never read from the
  // configuration here.
  fs->set_name_rules(NameRules(user.policy));
  ControlConnection control(control_fd, std::chrono::seconds(config.idle_timeout));
  control.feed(start->pending_input);
  PostauthSession session(config, user.policy, control, monitor, *fs, user.read_only, data_tls.get(),
                          start->tls);
  return session.run();
}

}  // namespace wftpd
