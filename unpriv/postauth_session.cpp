#include "unpriv/postauth_session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <ctime>
#include <unistd.h>

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "common/exit_codes.hpp"
#include "unpriv/active_argument.hpp"
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
#include "unpriv/session_filesystem.hpp"

namespace wftpd {
namespace {

constexpr std::uint32_t kMaxOverlongLines = 3;

class PostauthSession {
 public:
  PostauthSession(const Config& config, ControlConnection& control, MonitorClient& monitor,
                  SessionFilesystem& fs, bool read_only)
      : config_(config),
        control_(control),
        monitor_(monitor),
        fs_(fs),
        read_only_(read_only),
        upload_dir_(read_only ? config.anon_upload_dir : std::string()) {}

  int run();

 private:
  enum class Next { kContinue, kClose };
  using Handler = Next (PostauthSession::*)(const FtpCommand&);
  struct CommandRule {
    std::string_view verb;
    bool needs_argument;
    Handler handler;
    bool writes = false;  // refused in read-only (anonymous) sessions
  };
  static const std::array<CommandRule, 44> kCommands;

  Next dispatch(const FtpCommand& command);
  void reply(int code, std::string_view text) { pending_ += format_reply(code, text); }
  void reply_error(const FileError& error) { reply(error.reply_code, error.reply_text); }
  bool resolve(const FtpCommand& command, std::string& path);
  // True (and 550 answered) for a path inside the anonymous drop box.
  bool hidden_in_drop_box(const std::string& path);
  bool open_data_connection(UniqueFd& data);
  Next finish_transfer(const TransferOutcome& outcome, std::string_view what);
  TransferWatch transfer_watch() {
    return TransferWatch{control_.fd(), [this] { return control_.abort_requested(); },
                         [this] { return control_.input_backlogged(); },
                         std::chrono::seconds(config_.data_timeout)};
  }

  Next cmd_user(const FtpCommand&);
  Next cmd_pass(const FtpCommand&);
  Next cmd_quit(const FtpCommand&);
  Next cmd_syst(const FtpCommand&);
  Next cmd_feat(const FtpCommand&);
  Next cmd_help(const FtpCommand&);
  Next cmd_noop(const FtpCommand&);
  Next cmd_opts(const FtpCommand&);
  Next cmd_pwd(const FtpCommand&);
  Next cmd_cwd(const FtpCommand&);
  Next cmd_cdup(const FtpCommand&);
  Next cmd_type(const FtpCommand&);
  Next cmd_mode(const FtpCommand&);
  Next cmd_stru(const FtpCommand&);
  Next cmd_pasv(const FtpCommand&);
  Next cmd_epsv(const FtpCommand&);
  Next cmd_list(const FtpCommand&);
  Next cmd_nlst(const FtpCommand&);
  Next cmd_retr(const FtpCommand&);
  Next cmd_stor(const FtpCommand&);
  Next cmd_size(const FtpCommand&);
  Next cmd_mdtm(const FtpCommand&);
  Next cmd_abor(const FtpCommand&);
  Next cmd_allo(const FtpCommand&);
  Next cmd_acct(const FtpCommand&);
  Next cmd_active(const FtpCommand&);
  Next cmd_mkd(const FtpCommand&);
  Next cmd_rmd(const FtpCommand&);
  Next cmd_dele(const FtpCommand&);
  Next cmd_rnfr(const FtpCommand&);
  Next cmd_rnto(const FtpCommand&);
  Next cmd_appe(const FtpCommand&);
  Next cmd_rest(const FtpCommand&);
  Next cmd_stat(const FtpCommand&);
  Next cmd_mlsd(const FtpCommand&);
  Next cmd_mlst(const FtpCommand&);
  Next store(const FtpCommand& command, bool append, std::string_view unique_name = {});
  Next cmd_stou(const FtpCommand&);
  Next cmd_site(const FtpCommand&);
  Next cmd_mfmt(const FtpCommand&);
  Next cmd_rein(const FtpCommand&);
  Next send_listing(const FtpCommand& command, bool names_only);
  Next send_directory_text(const std::string& listing);

  const Config& config_;
  ControlConnection& control_;
  MonitorClient& monitor_;
  SessionFilesystem& fs_;
  const bool read_only_;
  const std::string upload_dir_;  // the anonymous drop box; empty when there is none
  std::string pending_;  // replies not yet written
  std::string cwd_ = "/";
  bool ascii_ = true;    // RFC 959: TYPE A is the default
  bool passive_ready_ = false;
  bool epsv_all_ = false;
  std::uint32_t overlong_lines_ = 0;
  int exit_code_ = kExitNormal;
  std::string rename_from_;      // set by RNFR, consumed by the next command
  unsigned long long restart_offset_ = 0;  // set by REST, consumed by the next command
  FactSet facts_;                          // OPTS MLST
  FactViewer viewer_{::getuid(), ::getgid()};
};

const std::array<PostauthSession::CommandRule, 44> PostauthSession::kCommands = {{
    {"USER", false, &PostauthSession::cmd_user},
    {"PASS", false, &PostauthSession::cmd_pass},
    {"QUIT", false, &PostauthSession::cmd_quit},
    {"SYST", false, &PostauthSession::cmd_syst},
    {"FEAT", false, &PostauthSession::cmd_feat},
    {"HELP", false, &PostauthSession::cmd_help},
    {"NOOP", false, &PostauthSession::cmd_noop},
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
    {"LIST", false, &PostauthSession::cmd_list},
    {"NLST", false, &PostauthSession::cmd_nlst},
    {"RETR", true, &PostauthSession::cmd_retr},
    {"STOR", true, &PostauthSession::cmd_stor, true},
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
    {"APPE", true, &PostauthSession::cmd_appe, true},
    {"REST", true, &PostauthSession::cmd_rest},
    {"STAT", false, &PostauthSession::cmd_stat},
    {"MLSD", false, &PostauthSession::cmd_mlsd},
    {"MLST", false, &PostauthSession::cmd_mlst},
    {"STOU", false, &PostauthSession::cmd_stou, true},
    {"SITE", true, &PostauthSession::cmd_site},
    {"MFMT", true, &PostauthSession::cmd_mfmt, true},
    {"REIN", false, &PostauthSession::cmd_rein},
}};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::time_t now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec;
}

PostauthSession::Next PostauthSession::dispatch(const FtpCommand& command) {
  // RFC 959: RNTO must come right after RNFR, and REST applies to the very next transfer.
  if (command.verb != "RNTO") {
    const bool keep = command.verb == "RNFR";
    if (!keep) rename_from_.clear();
  }
  if (command.verb != "REST" && command.verb != "RETR" && command.verb != "STOR" &&
      command.verb != "APPE") {
    restart_offset_ = 0;
  }
  for (const auto& rule : kCommands) {
    if (rule.verb != command.verb) continue;
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
    return (this->*rule.handler)(command);
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

bool PostauthSession::hidden_in_drop_box(const std::string& path) {
  // SECURITY: what was dropped in the anonymous drop box is never listed or read back.
  if (upload_dir_.empty()) return false;
  if (path != upload_dir_ && !path.starts_with(upload_dir_ + "/")) return false;
  reply(550, "Permission denied: the upload directory cannot be read.");
  return true;
}

bool PostauthSession::resolve(const FtpCommand& command, std::string& path) {
  auto resolved = resolve_path(cwd_, command.argument);
  if (!resolved) {
    reply(553, "File name not allowed.");
    return false;
  }
  path = std::move(*resolved);
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

PostauthSession::Next PostauthSession::cmd_quit(const FtpCommand&) {
  reply(221, "Goodbye.");
  return Next::kClose;
}

PostauthSession::Next PostauthSession::cmd_syst(const FtpCommand&) {
  reply(215, "UNIX Type: L8");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_feat(const FtpCommand&) {
  pending_ += feature_reply(describe_facts(facts_));
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_help(const FtpCommand&) {
  pending_ += help_reply();
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_noop(const FtpCommand&) {
  reply(200, "NOOP ok.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_opts(const FtpCommand& command) {
  const std::string argument = upper(command.argument);
  if (argument == "UTF8 ON" || argument == "UTF-8 ON") {
    reply(200, "Always in UTF8 mode.");
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
  const std::string argument = upper(command.argument);
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
  const std::string argument = upper(command.argument);
  if (argument == "S") reply(200, "Mode set to S.");
  else if (argument == "B" || argument == "C" || argument == "Z") reply(504, "Only stream mode is supported.");
  else reply(501, "Unrecognised MODE.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_stru(const FtpCommand& command) {
  const std::string argument = upper(command.argument);
  if (argument == "F") reply(200, "Structure set to F.");
  else if (argument == "R" || argument == "P") reply(504, "Only file structure is supported.");
  else reply(501, "Unrecognised STRU.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_pasv(const FtpCommand&) {
  if (epsv_all_) {
    reply(501, "PASV not allowed after EPSV ALL.");
    return Next::kContinue;
  }
  auto ready = monitor_.passive_listen(false);
  if (!ready) return Next::kClose;
  if (ready->status != PassiveStatus::kListening) {
    reply(425, "Can't open passive connection.");
    return Next::kContinue;
  }
  if (ready->family != AddressFamily::kIpv4) {
    reply(425, "PASV needs an IPv4 control connection; use EPSV.");
    return Next::kContinue;
  }
  passive_ready_ = true;
  pending_ += format_pasv_reply({ready->address[0], ready->address[1], ready->address[2],
                                 ready->address[3]},
                                ready->port);
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_epsv(const FtpCommand& command) {
  auto request = parse_epsv_argument(command.argument);
  if (!request) {
    const std::string& message = request.error().message;
    if (message.starts_with("522")) reply(522, "Network protocol not supported, use (1,2)");
    else reply(501, "Syntax error in EPSV argument.");
    return Next::kContinue;
  }
  if (*request == EpsvRequest::kAll) {
    epsv_all_ = true;
    reply(200, "EPSV ALL ok.");
    return Next::kContinue;
  }
  auto ready = monitor_.passive_listen(true);
  if (!ready) return Next::kClose;
  const bool ipv4 = ready->family == AddressFamily::kIpv4;
  if ((*request == EpsvRequest::kIpv4 && !ipv4) || (*request == EpsvRequest::kIpv6 && ipv4)) {
    reply(522, ipv4 ? "Network protocol not supported, use (1)" : "Network protocol not supported, use (2)");
    return Next::kContinue;
  }
  if (ready->status != PassiveStatus::kListening) {
    reply(425, "Can't open passive connection.");
    return Next::kContinue;
  }
  passive_ready_ = true;
  pending_ += format_epsv_reply(ready->port);
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_active(const FtpCommand& command) {
  if (epsv_all_) {
    reply(501, command.verb + " not allowed after EPSV ALL.");
    return Next::kContinue;
  }
  passive_ready_ = false;
  auto target = command.verb == "PORT" ? parse_port_argument(command.argument)
                                       : parse_eprt_argument(command.argument);
  if (!target) {
    if (target.error().message.starts_with("522")) {
      reply(522, "Network protocol not supported, use (1,2)");
    } else {
      reply(501, "Illegal " + command.verb + " command.");
    }
    return Next::kContinue;
  }
  auto status = monitor_.active_target(*target);
  if (!status) return Next::kClose;
  switch (*status) {
    case ActiveStatus::kAccepted:
      passive_ready_ = true;
      reply(200, command.verb + " command successful. Consider using PASV.");
      return Next::kContinue;
    case ActiveStatus::kForeignAddress:
      reply(504, "Active connections only to the address of the control connection.");
      return Next::kContinue;
    case ActiveStatus::kPrivilegedPort:
      reply(504, "Active connections only to ports 1024 and above.");
      return Next::kContinue;
    case ActiveStatus::kWrongFamily:
      reply(522, command.verb == "PORT" ? "Network protocol not supported, use EPRT"
                                        : "Network protocol not supported, use (1,2)");
      return Next::kContinue;
  }
  return Next::kClose;
}

bool PostauthSession::open_data_connection(UniqueFd& data) {
  if (!passive_ready_) {
    reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    return false;
  }
  passive_ready_ = false;  // one connection per PASV/EPSV
  // Replies so far must reach the client before we block waiting for its connection.
  if (!pending_.empty()) {
    if (!control_.send(pending_)) return false;
    pending_.clear();
  }
  auto connected = monitor_.data_connect();
  if (!connected || connected->first != DataStatus::kConnected) {
    reply(425, "Failed to establish connection.");
    return false;
  }
  data = std::move(connected->second);
  return true;
}

PostauthSession::Next PostauthSession::finish_transfer(const TransferOutcome& outcome,
                                                       std::string_view what) {
  switch (outcome.result) {
    case TransferResult::kComplete:
      reply(226, std::string(what) + " complete.");
      return Next::kContinue;
    case TransferResult::kPeerFailed:
      reply(426, "Connection closed; transfer aborted.");
      if (outcome.error_number == ETIMEDOUT) {
        // A stalled transfer ends the session (the monitor logs why, from the exit code).
        reply(421, "Data connection stalled, closing control connection.");
        exit_code_ = kExitDataTimeout;
        return Next::kClose;
      }
      return Next::kContinue;
    case TransferResult::kAborted:
      // RFC 959 4.1.3: the aborted command gets 426, then ABOR itself gets 226.
      reply(426, "Transfer aborted.");
      reply(226, "ABOR successful.");
      return Next::kContinue;
    case TransferResult::kLocalFailed: {
      const FileError error = file_error_from_errno(outcome.error_number);
      if (error.reply_code == 452 || error.reply_code == 552) reply(error.reply_code, error.reply_text);
      else reply(451, "Local error in processing.");
      return Next::kContinue;
    }
  }
  return Next::kContinue;
}

// Sends a listing (LIST, NLST, MLSD) over a new data connection: 150, the text, 226.
PostauthSession::Next PostauthSession::send_directory_text(const std::string& listing) {
  UniqueFd data;
  if (!open_data_connection(data)) return Next::kContinue;
  reply(150, "Here comes the directory listing.");
  if (!control_.send(pending_)) return Next::kClose;
  pending_.clear();
  const TransferOutcome outcome = send_text(data.get(), listing, transfer_watch());
  data.reset();
  if (outcome.result != TransferResult::kComplete) return finish_transfer(outcome, "Directory send");
  reply(226, "Directory send OK.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::send_listing(const FtpCommand& command, bool names_only) {
  const ListRequest request = parse_list_argument(command.has_argument ? command.argument : "");
  auto path = resolve_path(cwd_, request.path);
  if (!path) {
    reply(553, "File name not allowed.");
    return Next::kContinue;
  }
  if (hidden_in_drop_box(*path)) return Next::kContinue;
  std::string listing;
  FileError error;
  // NLST names of a wildcard match keep the directory part the client typed ("sub/*.txt"
  // lists "sub/a.txt"), which is what mget-style clients expect.
  const auto slash = request.path.rfind('/');
  const std::string prefix = slash == std::string::npos ? std::string() : request.path.substr(0, slash + 1);
  if (!build_listing(fs_, *path, request.show_hidden, names_only, now(), listing, error, prefix)) {
    reply_error(error);
    return Next::kContinue;
  }
  return send_directory_text(listing);
}

PostauthSession::Next PostauthSession::cmd_list(const FtpCommand& command) {
  return send_listing(command, false);
}

PostauthSession::Next PostauthSession::cmd_nlst(const FtpCommand& command) {
  return send_listing(command, true);
}

PostauthSession::Next PostauthSession::cmd_retr(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  if (hidden_in_drop_box(path)) return Next::kContinue;
  UniqueFd file;
  FileError error;
  if (!fs_.open(path, O_RDONLY | O_NONBLOCK, 0, file, error)) {
    reply(550, "Failed to open file: " + error.reply_text);
    return Next::kContinue;
  }
  struct stat st{};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    reply(550, "Failed to open file: not a plain file.");
    return Next::kContinue;
  }
  // O_NONBLOCK only kept a FIFO from blocking the open; regular files ignore it.
  const unsigned long long offset = std::exchange(restart_offset_, 0);
  if (offset > static_cast<unsigned long long>(st.st_size)) {
    reply(554, "Restart offset is past the end of the file.");
    return Next::kContinue;
  }
  if (offset != 0 && ::lseek(file.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
    reply(554, "Could not seek to the restart offset.");
    return Next::kContinue;
  }
  UniqueFd data;
  if (!open_data_connection(data)) return Next::kContinue;
  reply(150, std::string("Opening ") + (ascii_ ? "ASCII" : "BINARY") +
                 " mode data connection for " + std::string(base_name(path)) + " (" +
                 std::to_string(st.st_size) + " bytes).");
  if (!control_.send(pending_)) return Next::kClose;
  pending_.clear();
  const TransferOutcome outcome = send_file(data.get(), file.get(), ascii_, transfer_watch());
  data.reset();
  return finish_transfer(outcome, "Transfer");
}

PostauthSession::Next PostauthSession::cmd_stor(const FtpCommand& command) {
  return store(command, false);
}

PostauthSession::Next PostauthSession::cmd_appe(const FtpCommand& command) {
  return store(command, true);
}

// STOR writes a temporary file next to the target and renames it into place only when the
// upload completed, so an interrupted upload never destroys the existing file. APPE and a STOR
// after REST write in place, as they must.
PostauthSession::Next PostauthSession::store(const FtpCommand& command, bool append,
                                             std::string_view unique_name) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  const unsigned long long offset = std::exchange(restart_offset_, 0);
  FileError error;
  struct stat existing{};
  const bool exists = fs_.stat(path, existing, error);
  if (exists && !S_ISREG(existing.st_mode)) {
    reply(553, "Could not create file: not a plain file.");
    return Next::kContinue;
  }
  if (read_only_) {
    // The anonymous drop box: a new file directly in it, never over an existing one.
    if (append || offset != 0 || upload_dir_.empty() || parent_path(path) != upload_dir_) {
      reply(550, "Permission denied: anonymous uploads go to " + upload_dir_ + " only.");
      return Next::kContinue;
    }
    UniqueFd file;
    if (!fs_.create_new_file(path, 0666, file, error)) {
      reply(553, error.error_number == EEXIST ? "File exists; uploads cannot replace files."
                                              : "Could not create file: " + error.reply_text);
      return Next::kContinue;
    }
    UniqueFd data;
    if (!open_data_connection(data)) return Next::kContinue;
    if (unique_name.empty()) reply(150, "Ok to send data.");
    else reply(150, "FILE: " + std::string(unique_name));
    if (!control_.send(pending_)) return Next::kClose;
    pending_.clear();
    const TransferOutcome outcome =
        receive_file(data.get(), file.get(), ascii_, false, transfer_watch());
    data.reset();
    return finish_transfer(outcome, "Transfer");
  }
  const bool atomic = !append && offset == 0;
  UniqueFd parent;
  std::string entry;
  std::string temp_name;
  UniqueFd file;
  if (atomic) {
    if (!fs_.open_parent(path, parent, entry, error)) {
      reply(553, "Could not create file: " + error.reply_text);
      return Next::kContinue;
    }
    std::uint64_t random = 0;
    if (::getrandom(&random, sizeof(random), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(random))) {
      random = static_cast<std::uint64_t>(now());
    }
    char name[40];
    std::snprintf(name, sizeof(name), ".wftpd-upload-%016llx", static_cast<unsigned long long>(random));
    temp_name = name;
    const int fd = ::openat(parent.get(), temp_name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
      reply(553, "Could not create file: " + file_error_from_errno(errno).reply_text);
      return Next::kContinue;
    }
    file.reset(fd);
  } else {
    const int flags = O_WRONLY | O_CREAT | O_NONBLOCK | (append ? O_APPEND : 0);
    if (!fs_.open(path, flags, 0666, file, error)) {
      reply(553, "Could not create file: " + error.reply_text);
      return Next::kContinue;
    }
    struct stat st{};
    if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      reply(553, "Could not create file: not a plain file.");
      return Next::kContinue;
    }
    if (!append && (::ftruncate(file.get(), static_cast<off_t>(offset)) != 0 ||
                    ::lseek(file.get(), static_cast<off_t>(offset), SEEK_SET) < 0)) {
      reply(554, "Could not seek to the restart offset.");
      return Next::kContinue;
    }
  }
  const auto discard_temp = [&] {
    if (atomic) ::unlinkat(parent.get(), temp_name.c_str(), 0);
  };
  UniqueFd data;
  if (!open_data_connection(data)) {
    discard_temp();
    return Next::kContinue;
  }
  // RFC 1123 4.1.2.9: STOU names the file it creates in the preliminary reply.
  if (unique_name.empty()) reply(150, "Ok to send data.");
  else reply(150, "FILE: " + std::string(unique_name));
  if (!control_.send(pending_)) {
    discard_temp();
    return Next::kClose;
  }
  pending_.clear();
  TransferOutcome outcome =
      receive_file(data.get(), file.get(), ascii_, atomic, transfer_watch());
  data.reset();
  if (outcome.result == TransferResult::kComplete && atomic && ::fsync(file.get()) != 0) {
    outcome = TransferOutcome{TransferResult::kLocalFailed, errno, outcome.bytes};
  }
  if (outcome.result == TransferResult::kComplete && ::close(file.release()) != 0) {
    outcome = TransferOutcome{TransferResult::kLocalFailed, errno, outcome.bytes};
  }
  if (outcome.result == TransferResult::kComplete && atomic &&
      ::renameat(parent.get(), temp_name.c_str(), parent.get(), entry.c_str()) != 0) {
    outcome = TransferOutcome{TransferResult::kLocalFailed, errno, outcome.bytes};
  }
  if (outcome.result != TransferResult::kComplete) discard_temp();
  return finish_transfer(outcome, "Transfer");
}

std::uint64_t random_u64() {
  std::uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(value))) {
    value = static_cast<std::uint64_t>(now());
  }
  return value;
}

PostauthSession::Next PostauthSession::cmd_stou(const FtpCommand& command) {
  std::string directory = cwd_;
  std::string base = "file";
  if (command.has_argument && !command.argument.empty()) {
    std::string path;
    if (!resolve(command, path)) return Next::kContinue;
    directory = parent_path(path);
    base = std::string(base_name(path));
  }
  // A name nobody uses yet; a bounded number of tries.
  for (int attempt = 0; attempt < 8; ++attempt) {
    char suffix[24];
    std::snprintf(suffix, sizeof(suffix), ".%012llx",
                  static_cast<unsigned long long>(random_u64() & 0xffffffffffffull));
    const std::string name = base + suffix;
    const std::string path = (directory == "/" ? "" : directory) + "/" + name;
    struct stat st{};
    FileError error;
    if (fs_.stat(path, st, error)) continue;
    const FtpCommand stor{"STOR", path, true};
    return store(stor, false, name);
  }
  reply(553, "Could not find a unique file name.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_site(const FtpCommand& command) {
  const std::string& argument = command.argument;
  const auto space = argument.find(' ');
  const std::string sub = upper(argument.substr(0, space));
  const std::string rest = space == std::string::npos ? std::string() : argument.substr(space + 1);
  if (sub == "HELP") {
    reply(214, "SITE commands: CHMOD UMASK HELP");
    return Next::kContinue;
  }
  if (sub == "UMASK") {
    if (rest.empty()) {
      const mode_t current = ::umask(0);
      ::umask(current);
      char text[8];
      std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(current));
      reply(200, std::string("Your current UMASK is ") + text);
      return Next::kContinue;
    }
    if (read_only_) {
      reply(550, "Permission denied.");
      return Next::kContinue;
    }
    unsigned mask = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), mask, 8);
    if (ec != std::errc() || end != rest.data() + rest.size() || mask > 0777) {
      reply(501, "SITE UMASK needs an octal mask.");
      return Next::kContinue;
    }
    ::umask(static_cast<mode_t>(mask));
    char text[8];
    std::snprintf(text, sizeof(text), "%04o", mask);
    reply(200, std::string("UMASK set to ") + text);
    return Next::kContinue;
  }
  if (sub == "CHMOD") {
    if (read_only_) {
      reply(550, "Permission denied.");
      return Next::kContinue;
    }
    const auto mode_end = rest.find(' ');
    unsigned mode = 0;
    const std::string mode_text = rest.substr(0, mode_end);
    const auto [end, ec] =
        std::from_chars(mode_text.data(), mode_text.data() + mode_text.size(), mode, 8);
    if (mode_end == std::string::npos || mode_text.empty() || ec != std::errc() ||
        end != mode_text.data() + mode_text.size() || mode > 07777) {
      reply(501, "Usage: SITE CHMOD <octal mode> <file>");
      return Next::kContinue;
    }
    std::string path;
    if (!resolve(FtpCommand{"SITE", rest.substr(mode_end + 1), true}, path)) return Next::kContinue;
    UniqueFd parent;
    std::string entry;
    FileError error;
    // SECURITY: never setuid, setgid or sticky bits, whatever the client asks.
    const mode_t allowed = static_cast<mode_t>(mode & 0777);
    if (path == "/" || !fs_.open_parent(path, parent, entry, error) ||
        ::fchmodat(parent.get(), entry.c_str(), allowed, 0) != 0) {
      if (path != "/" && error.reply_text.empty()) error = file_error_from_errno(errno);
      reply(550, "SITE CHMOD failed: " + (error.reply_text.empty() ? std::string("not allowed.") : error.reply_text));
      return Next::kContinue;
    }
    reply(200, "SITE CHMOD command ok.");
    return Next::kContinue;
  }
  reply(504, "Unknown SITE command.");
  return Next::kContinue;
}

// "YYYYMMDDHHMMSS" (RFC 3659 time-val, UTC, fraction not accepted) to seconds since the epoch.
bool parse_time_val(std::string_view text, std::time_t& out) {
  if (text.size() != 14) return false;
  int fields[6];
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  std::size_t at = 0;
  for (int i = 0; i < 6; ++i) {
    const auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + widths[i], fields[i]);
    if (ec != std::errc() || end != text.data() + at + widths[i]) return false;
    at += static_cast<std::size_t>(widths[i]);
  }
  if (fields[0] < 1970 || fields[1] < 1 || fields[1] > 12 || fields[2] < 1 || fields[2] > 31 ||
      fields[3] > 23 || fields[4] > 59 || fields[5] > 60) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = fields[0] - 1900;
  tm.tm_mon = fields[1] - 1;
  tm.tm_mday = fields[2];
  tm.tm_hour = fields[3];
  tm.tm_min = fields[4];
  tm.tm_sec = fields[5];
  out = ::timegm(&tm);  // UTC: no time zone file is consulted
  return out != static_cast<std::time_t>(-1);
}

PostauthSession::Next PostauthSession::cmd_mfmt(const FtpCommand& command) {
  const auto space = command.argument.find(' ');
  std::time_t when = 0;
  if (space == std::string::npos || !parse_time_val(std::string_view(command.argument).substr(0, space), when)) {
    reply(501, "Usage: MFMT YYYYMMDDHHMMSS path");
    return Next::kContinue;
  }
  std::string path;
  if (!resolve(FtpCommand{"MFMT", command.argument.substr(space + 1), true}, path)) {
    return Next::kContinue;
  }
  UniqueFd parent;
  std::string entry;
  FileError error;
  const timespec times[2] = {{0, UTIME_OMIT}, {when, 0}};
  if (path == "/" || !fs_.open_parent(path, parent, entry, error) ||
      ::utimensat(parent.get(), entry.c_str(), times, 0) != 0) {
    if (error.reply_text.empty()) error = file_error_from_errno(errno);
    reply(550, "MFMT failed: " + error.reply_text);
    return Next::kContinue;
  }
  reply(213, "Modify=" + format_mdtm(when) + "; " + std::string(base_name(path)));
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rein(const FtpCommand&) {
  // The logged-in session runs as the user in its own sandbox; it cannot turn back into a
  // pre-auth process. A client that wants another login reconnects.
  reply(502, "REIN not supported; reconnect to log in as another user.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_mkd(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  FileError error;
  if (!fs_.make_directory(path, error)) {
    reply(550, "Create directory operation failed: " + error.reply_text);
    return Next::kContinue;
  }
  reply(257, quote_pathname(path) + " created");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rmd(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  FileError error;
  if (path == "/" || !fs_.remove_directory(path, error)) {
    reply(550, "Remove directory operation failed: " +
                   (path == "/" ? std::string("it is the root.") : error.reply_text));
    return Next::kContinue;
  }
  reply(250, "Remove directory operation successful.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_dele(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  struct stat st{};
  FileError error;
  if (fs_.stat(path, st, error) && S_ISDIR(st.st_mode)) {
    reply(550, "Delete operation failed: is a directory (use RMD).");
    return Next::kContinue;
  }
  if (!fs_.remove_file(path, error)) {
    reply(550, "Delete operation failed: " + error.reply_text);
    return Next::kContinue;
  }
  reply(250, "Delete operation successful.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rnfr(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  struct stat st{};
  FileError error;
  UniqueFd parent;
  std::string entry;
  if (path == "/" || !fs_.open_parent(path, parent, entry, error) ||
      ::fstatat(parent.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    rename_from_.clear();
    reply(550, "RNFR command failed: no such file or directory.");
    return Next::kContinue;
  }
  rename_from_ = path;
  reply(350, "Ready for RNTO.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rnto(const FtpCommand& command) {
  if (rename_from_.empty()) {
    reply(503, "RNFR required first.");
    return Next::kContinue;
  }
  const std::string from = std::exchange(rename_from_, std::string());
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  FileError error;
  if (path == "/" || !fs_.rename(from, path, error)) {
    reply(550, "Rename failed: " + (path == "/" ? std::string("invalid target.") : error.reply_text));
    return Next::kContinue;
  }
  reply(250, "Rename successful.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rest(const FtpCommand& command) {
  const std::string& argument = command.argument;
  unsigned long long offset = 0;
  const auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), offset);
  if (ec != std::errc() || end != argument.data() + argument.size() ||
      offset > static_cast<unsigned long long>(std::numeric_limits<off_t>::max())) {
    reply(501, "REST needs a byte offset.");
    return Next::kContinue;
  }
  restart_offset_ = offset;
  reply(350, "Restarting at " + std::to_string(offset) + ". Send STORE or RETRIEVE.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_stat(const FtpCommand& command) {
  if (!command.has_argument || command.argument.empty()) {
    const std::vector<std::string> lines = {
        "FTP server status:",
        std::string(" TYPE: ") + (ascii_ ? "ASCII" : "BINARY") + ", MODE: Stream, STRU: File",
        std::string(" Data connection: ") + (passive_ready_ ? "passive port open" : "none"),
        "End of status"};
    pending_ += format_multiline_reply(211, lines);
    return Next::kContinue;
  }
  // STAT PATH: the listing on the control connection (RFC 959), each line indented so that
  // no listing line can look like a reply.
  const ListRequest request = parse_list_argument(command.argument);
  auto path = resolve_path(cwd_, request.path);
  if (!path) {
    reply(553, "File name not allowed.");
    return Next::kContinue;
  }
  if (hidden_in_drop_box(*path)) return Next::kContinue;
  std::string listing;
  FileError error;
  if (!build_listing(fs_, *path, request.show_hidden, false, now(), listing, error)) {
    reply_error(error);
    return Next::kContinue;
  }
  std::vector<std::string> lines = {"Status of " + std::string(base_name(*path)) + ":"};
  std::size_t start = 0;
  while (start < listing.size() && lines.size() < kMaxListingEntries) {
    std::size_t end = listing.find("\r\n", start);
    if (end == std::string::npos) end = listing.size();
    lines.push_back(" " + listing.substr(start, end - start));
    start = end + 2;
  }
  lines.push_back("End of status");
  pending_ += format_multiline_reply(213, lines);
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_size(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  if (hidden_in_drop_box(path)) return Next::kContinue;
  struct stat st{};
  FileError error;
  if (!fs_.stat(path, st, error)) {
    reply(550, "Could not get file size.");
    return Next::kContinue;
  }
  if (!S_ISREG(st.st_mode)) {
    reply(550, "Could not get file size: not a plain file.");
    return Next::kContinue;
  }
  // RFC 3659 4.1: in TYPE A the size would have to count converted line ends; refuse rather
  // than lie.
  if (ascii_) {
    reply(550, "SIZE not allowed in ASCII mode.");
    return Next::kContinue;
  }
  reply(213, std::to_string(st.st_size));
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_mdtm(const FtpCommand& command) {
  std::string path;
  if (!resolve(command, path)) return Next::kContinue;
  if (hidden_in_drop_box(path)) return Next::kContinue;
  struct stat st{};
  FileError error;
  if (!fs_.stat(path, st, error) || !S_ISREG(st.st_mode)) {
    reply(550, "Could not get file modification time.");
    return Next::kContinue;
  }
  reply(213, format_mdtm(st.st_mtime));
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_mlsd(const FtpCommand& command) {
  auto path = resolve_path(cwd_, command.has_argument ? command.argument : "");
  if (!path) {
    reply(553, "File name not allowed.");
    return Next::kContinue;
  }
  if (hidden_in_drop_box(*path)) return Next::kContinue;
  std::string listing;
  FileError error;
  if (!build_machine_listing(fs_, *path, facts_, viewer_, listing, error)) {
    reply(550, "MLSD failed: " + error.reply_text);
    return Next::kContinue;
  }
  return send_directory_text(listing);
}

PostauthSession::Next PostauthSession::cmd_mlst(const FtpCommand& command) {
  auto path = resolve_path(cwd_, command.has_argument ? command.argument : "");
  if (!path) {
    reply(553, "File name not allowed.");
    return Next::kContinue;
  }
  if (hidden_in_drop_box(*path)) return Next::kContinue;
  struct stat st{};
  FileError error;
  UniqueFd parent;
  std::string entry;
  bool found = false;
  bool parent_writable = false;
  if (*path == "/") {
    found = fs_.stat(*path, st, error);
  } else if (fs_.open_parent(*path, parent, entry, error)) {
    found = ::fstatat(parent.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    struct stat parent_stat{};
    parent_writable = ::fstat(parent.get(), &parent_stat) == 0 &&
                      (viewer_access(parent_stat, viewer_) & 2u) != 0;
  }
  if (!found || !name_is_listable(*path)) {
    reply(550, "MLST failed: no such file or directory.");
    return Next::kContinue;
  }
  // RFC 3659 7.2: the entry line starts with one space; the pathname is the one asked for.
  const std::vector<std::string> lines = {
      "Listing " + *path, " " + format_facts(*path, st, facts_, viewer_, parent_writable), "End"};
  pending_ += format_multiline_reply(250, lines);
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_abor(const FtpCommand&) {
  reply(225, "No transfer to ABOR.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_allo(const FtpCommand&) {
  reply(202, "ALLO command ignored.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_acct(const FtpCommand&) {
  reply(202, "ACCT not needed.");
  return Next::kContinue;
}

int PostauthSession::run() {
  reply(230, "Login successful.");
  for (;;) {
    if (!pending_.empty()) {
      if (!control_.send(pending_)) return 0;
      pending_.clear();
    }
    auto input = control_.next_line();
    if (!input || input->status == ControlConnection::Status::kClosed) return 0;
    if (input->status == ControlConnection::Status::kTimeout) {
      (void)control_.send(format_reply(421, "Timeout, closing control connection."));
      return kExitIdleTimeout;
    }
    if (input->status == ControlConnection::Status::kTooLong) {
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

}  // namespace

int run_postauth(const Config& config, const std::string& /*user_name*/, bool read_only,
                 int control_fd, int monitor_fd) {
  MonitorClient monitor(monitor_fd);
  auto start = monitor.await_start();
  if (!start) return 1;
  auto fs = SessionFilesystem::open_root(read_only);
  if (!fs) return 1;
  ControlConnection control(control_fd, std::chrono::seconds(config.idle_timeout));
  control.feed(start->pending_input);
  PostauthSession session(config, control, monitor, *fs, read_only);
  return session.run();
}

}  // namespace wftpd
