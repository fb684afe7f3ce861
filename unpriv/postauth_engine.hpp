// The post-auth FTP session engine, shared by the files that implement its commands
// (postauth_session.cpp: dispatch and session basics; postauth_transfers.cpp: data connections
// and transfers; postauth_file_commands.cpp: file management and information). Internal to
// unpriv/ (and the fuzz harness fuzz/fuzz_postauth_engine.cpp): the entry point is run_postauth()
// in postauth_session.hpp.
#pragma once

#include <sys/stat.h>

#include <array>
#include <memory>
#include <optional>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.hpp"
#include "common/config.hpp"
#include "common/exit_codes.hpp"
#include "common/unique_fd.hpp"
#include "unpriv/ascii_transfer.hpp"
#include "unpriv/common_commands.hpp"
#include "unpriv/control_connection.hpp"
#include "unpriv/data_transfer.hpp"
#include "unpriv/file_digest.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/hash_command.hpp"
#include "unpriv/machine_listing.hpp"
#include "unpriv/monitor_client.hpp"
#include "unpriv/reply.hpp"
#include "unpriv/session_filesystem.hpp"
#include "unpriv/status_reporter.hpp"
#include "common/tls_stream.hpp"

namespace wftpd {

inline constexpr std::uint32_t kMaxOverlongLines = 3;

std::time_t now();

// An open data connection: the socket and, under PROT P, its TLS stream.
struct DataConnection {
  UniqueFd socket;
  std::unique_ptr<TlsStream> tls;
  DataChannel channel() const { return DataChannel{socket.get(), tls.get()}; }
  // Ends the connection: close_notify first under TLS (so the client can tell a complete
  // download from a cut one), then the socket.
  void close();
};

class PostauthSession {
 public:
  // `policy`: the session's own, as the monitor decided it at login (BecomeUser).
  PostauthSession(const Config& config, const SessionPolicy& policy, ControlChannel& control,
                  PostauthMonitor& monitor, SessionFilesystem& fs, bool read_only,
                  SSL_CTX* data_tls = nullptr, ControlTlsState tls = {})
      : config_(config),
        policy_(policy),
        control_(control),
        monitor_(monitor),
        fs_(fs),
        read_only_(read_only),
        upload_dir_(read_only ? config.anon_upload_dir : std::string()),
        data_tls_(data_tls),
        tls_(tls),
        require_private_data_(data_tls != nullptr &&
                              (read_only ? config.anon_require_tls : config.require_tls_data)),
        hash_budget_(config.hash_max_bytes, config.hash_bytes_per_second,
                     std::chrono::steady_clock::now()) {}

  int run();

 private:
  enum class Next { kContinue, kClose };
  using Handler = Next (PostauthSession::*)(const FtpCommand&);
  // What a command does to the restart marker that REST set.
  enum class Marker {
    kKeeps,   // the marker stays for a later transfer (PASV, EPSV, TYPE, SIZE, CWD, ...)
    kUsesUp,  // a transfer command: the marker is gone after it, whatever its answer
  };
  struct CommandRule {
    std::string_view verb;
    bool needs_argument;
    Handler handler;
    bool writes = false;  // refused in read-only (anonymous) sessions
    Marker marker = Marker::kKeeps;
  };
  static const std::array<CommandRule, 51> kCommands;

  Next dispatch(const FtpCommand& command);
  Next run_rule(const CommandRule& rule, const FtpCommand& command);
  // True (and 550 answered, and logged) when the session's policy lacks the permission
  // `command` needs.
  bool refused_by_permissions(const FtpCommand& command);
  void reply(int code, std::string_view text) { pending_ += format_reply(code, text); }
  void reply_error(const FileError& error) { reply(error.reply_code, error.reply_text); }
  bool resolve(const FtpCommand& command, std::string& path);
  // True (and 550 answered) for a path inside the anonymous drop box.
  bool hidden_in_drop_box(const std::string& path);
  // resolve_path() for a command that reads: 553 for a bad name, 550 inside the drop box.
  bool resolve_readable(std::string_view argument, std::string& path);
  // The regular file a reading command (RETR, HASH) names: resolve_readable(), then opened
  // read-only. False with the refusal answered: 550 "`failed`: why" for a missing or unreadable
  // file and for anything but a regular file (directory, FIFO, device).
  bool open_readable_file(std::string_view argument, std::string_view failed, std::string& path,
                          UniqueFd& file, struct stat& st);
  // resolve(), and the name rules for a new file or directory (553).
  bool resolve_new(const FtpCommand& command, std::string& path);
  bool refused_by_name_rules(const std::string& path);
  // Where the restart marker lands in the open regular file `file` (`st` its fstat) in the
  // current TYPE: TYPE I, the byte offset; TYPE A, the octet count of the converted stream
  // (scanned, at most marker bytes). False (554 answered) when it is past the end.
  bool restart_position(int file, const struct stat& st, TransferPosition& position);
  // 554 and true when the restart marker is set: for transfers that cannot honour it.
  bool refuse_restart(std::string_view why);
  bool open_data_connection(DataPurpose purpose, UniqueFd& data);
  // 521 (TLS required) or 425 (no PASV/PORT yet) is answered when false; consumes nothing.
  bool data_connection_possible();
  enum class Start { kReady, kFailed, kControlLost };
  // Opens the data connection, announces the transfer with 150 `mark`, and under PROT P runs
  // the TLS handshake (after the 150: clients start TLS when they see it). `purpose` tells the
  // monitor whether a transfer report (report_transfer) will follow: only for kFileTransfer.
  Start begin_transfer(DataPurpose purpose, const std::string& mark, DataConnection& data);
  Next finish_transfer(const TransferOutcome& outcome, std::string_view what);
  void log_truncated_upload(const TransferOutcome& outcome, const std::string& path);
  // Tells the monitor (for the transfer log) how a file transfer that got its data connection
  // ended; `complete` when 226 is the answer.
  void report_transfer(TransferDirection direction, const std::string& path,
                       const TransferOutcome& outcome,
                       std::chrono::steady_clock::time_point started);
  // How an upload reaches its file.
  enum class UploadKind {
    kDropBox,  // a new file in the anonymous drop box, written directly
    kReplace,  // STOR: a temporary file, committed over the target once complete
    kInPlace,  // APPE, or STOR after REST: the target itself, from where the marker lands
  };
  struct Upload {
    UploadKind kind = UploadKind::kReplace;
    UniqueFd file;              // kDropBox, kInPlace
    TemporaryFile temporary;    // kReplace
    TransferPosition position;  // kInPlace
    // Quotas: the size of the file the command replaces or extends (0: a new file), whether it
    // creates one, where its writes start, and the size the file may not grow beyond.
    std::uint64_t old_size = 0;
    bool new_file = false;
    std::uint64_t start = 0;
    unsigned long long max_end = kNoWriteLimit;
  };
  enum class Allowance { kGranted, kRefused, kMonitorLost };
  // Asks the monitor for the upload's allowance under the session's quota and upload limits,
  // and sets upload.max_end (with max_file_size); answers the refusal (550, 552 or 451).
  Allowance upload_allowance(Upload& upload);
  // The upload went over its limit: the file as it was before the command (STOR: the
  // temporary file goes, the old file stays; APPE, STOR after REST: cut back to where the
  // writes started; drop box: emptied, as the drop box's filter cannot unlink).
  void undo_upload(Upload& upload, const std::string& path);
  // Tells the monitor what the upload changed (for the user's quota usage).
  void report_upload_usage(const Upload& upload, std::uint64_t final_size, bool kept, bool refused);
  // Each answers the refusal and returns false, or fills `upload`.
  bool open_drop_box_upload(const std::string& path, bool append, Upload& upload);
  bool open_replacement(const std::string& path, Upload& upload);
  bool open_in_place(const std::string& path, bool append, bool exists, Upload& upload);
  // `replaced`: the file a STOR replaces, if there is one (its mode is kept).
  Next receive_upload(const std::string& path, std::string_view unique_name,
                      const struct stat* replaced, Upload& upload);
  // After a complete transfer: 0, or the errno of what failed in putting the file in place.
  int put_upload_in_place(Upload& upload, const struct stat* replaced);
  void sweep_stale_uploads(const TemporaryFile& beside);
  void keep_replaced_mode(int file, const struct stat& replaced);
  int serve();  // run() without the last status
  TransferWatch transfer_watch(TransferPace* pace = nullptr) {
    return TransferWatch{control_.fd(), [this] { return control_.abort_requested(); },
                         [this] { return control_.input_backlogged(); },
                         std::chrono::seconds(config_.data_timeout),
                         [this](unsigned long long bytes) { status_.progress(bytes); }, pace};
  }
  // The rate limit of a file transfer in `direction` (the policy's download_rate or upload_rate,
  // user_*_rate, the server's max_*_rate), or none: then the transfer reads no clock.
  std::optional<TransferPace> transfer_pace(TransferDirection direction);

  CommonSession common_session(std::string_view mlst_facts);
  // A command of common_commands.hpp, answered with this session's TLS state.
  template <CommonHandler handler>
  Next common(const FtpCommand& command);
  Next cmd_user(const FtpCommand&);
  Next cmd_pass(const FtpCommand&);
  Next cmd_syst(const FtpCommand&);
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
  Next cmd_auth(const FtpCommand&);
  Next cmd_clnt(const FtpCommand&);
  // postauth_hash.cpp: HASH, RANG and OPTS HASH (draft-bryan-ftpext-hash-02).
  Next cmd_hash(const FtpCommand&);
  Next cmd_rang(const FtpCommand&);
  void opts_hash(std::string_view argument);
  // FEAT's HASH list for this session; empty when HASH is off.
  std::string hash_feature() const;
  Next send_listing(const FtpCommand& command, bool names_only);
  Next send_directory_text(const std::string& listing);

  const Config& config_;
  const SessionPolicy& policy_;
  ControlChannel& control_;
  PostauthMonitor& monitor_;
  StatusReporter status_{monitor_};
  SessionFilesystem& fs_;
  const bool read_only_;
  const std::string upload_dir_;  // the anonymous drop box; empty when there is none
  std::string pending_;  // replies not yet written
  std::string cwd_ = "/";
  bool ascii_ = true;    // RFC 959: TYPE A is the default
  bool passive_ready_ = false;
  bool epsv_all_ = false;
  std::uint32_t overlong_lines_ = 0;
  bool client_named_ = false;  // CLNT is logged once per session phase
  int exit_code_ = kExitNormal;
  std::string rename_from_;      // set by RNFR, consumed by the next command
  // Set by REST; kept until a transfer command (Marker::kUsesUp) uses it up, or REIN. TYPE I:
  // a byte offset; TYPE A: an octet count of the converted stream (RFC 3659 section 5).
  unsigned long long restart_offset_ = 0;
  std::vector<std::pair<dev_t, ino_t>> swept_directories_;  // see sweep_stale_uploads
  FactSet facts_;                          // OPTS MLST
  FactViewer viewer_{::getuid(), ::getgid()};
  SSL_CTX* data_tls_;                 // null: no TLS on this server
  ControlTlsState tls_;               // from the pre-auth child, then PBSZ/PROT here
  const bool require_private_data_;   // require_tls_data (anon_require_tls) in force
  DigestAlgorithm hash_algorithm_ = kDefaultDigest;  // OPTS HASH
  // Set by RANG; used up by the next HASH whatever its answer, refused (and cleared) by a
  // transfer command, replaced by REST. Never set together with restart_offset_.
  std::optional<OctetRange> hash_range_;
  HashBudget hash_budget_;
};

}  // namespace wftpd
