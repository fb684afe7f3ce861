// PostauthSession: data connections (PASV, EPSV, PORT, EPRT) and transfers (LIST, NLST, RETR,
// STOR, APPE, STOU).
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <ctime>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "common/exit_codes.hpp"
#include "common/rate_share.hpp"
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
#include "unpriv/postauth_engine.hpp"
#include "unpriv/session_filesystem.hpp"

namespace wftpd {
namespace {

// The answer to a refused PORT, EPRT or EPSV argument; `malformed` is the 501 text.
std::string port_argument_reply(PortArgumentError error, std::string_view malformed) {
  switch (error) {
    case PortArgumentError::kMalformed:
      return format_reply(501, malformed);
    case PortArgumentError::kUnsupportedProtocol:
      return format_reply(522, "Network protocol not supported, use (1,2)");
  }
  return format_reply(501, malformed);
}

}  // namespace

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
    pending_ += port_argument_reply(request.error(), "Syntax error in EPSV argument.");
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
    pending_ += port_argument_reply(target.error(), "Illegal " + command.verb + " command.");
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

void DataConnection::close() {
  if (tls) tls->close_notify(std::chrono::seconds(2));
  tls.reset();
  socket.reset();
}

bool PostauthSession::data_connection_possible() {
  if (require_private_data_ && !tls_.prot_private) {
    reply(521, "Data connections must be encrypted: use PBSZ 0 and PROT P.");
    return false;
  }
  if (!passive_ready_) {
    reply(425, "Use PORT, EPRT, PASV or EPSV first.");
    return false;
  }
  return true;
}

bool PostauthSession::restart_position(int file, const struct stat& st, TransferPosition& position) {
  position = TransferPosition{};
  const std::uint64_t marker = restart_offset_;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (marker == 0) return true;
  if (!ascii_) {
    if (marker > size) {
      reply(554, "Restart offset is past the end of the file.");
      return false;
    }
    position.file_offset = marker;
    return true;
  }
  // TYPE A: the marker counts octets as sent, each bare LF as CRLF (as SIZE does), so the file is
  // read from its start until that many octets are counted: at most `marker` bytes and never past
  // the size it had when opened. Costs what sending the part the client already has would.
  AsciiOctetCounter counter(marker);
  if (marker / 2 <= size) {  // beyond that even a file of bare LFs is too short
    auto counted = count_ascii_octets(file, size, counter);
    if (!counted) {
      monitor_.log(EventLevel::kWarning, "REST in TYPE A: " + counted.error().message);
      reply(451, "Local error in processing.");
      return false;
    }
  }
  if (!counter.reached()) {
    reply(554, "Restart offset is past the end of the file (TYPE A counts each line end as CRLF).");
    return false;
  }
  position = TransferPosition{counter.file_bytes(), counter.after_cr(), counter.inside_line_end()};
  return true;
}

bool PostauthSession::refuse_restart(std::string_view why) {
  if (restart_offset_ == 0) return false;
  reply(554, "Restart not possible: " + std::string(why) +
                 ". The marker is cleared; send the command again.");
  return true;
}

bool PostauthSession::open_data_connection(DataPurpose purpose, UniqueFd& data) {
  if (!data_connection_possible()) return false;
  passive_ready_ = false;  // one connection per PASV/EPSV
  // Replies so far must reach the client before we block waiting for its connection.
  if (!pending_.empty()) {
    if (!control_.send(pending_)) return false;
    pending_.clear();
  }
  auto connected = monitor_.data_connect(purpose);
  if (!connected || connected->first != DataStatus::kConnected) {
    reply(425, "Failed to establish connection.");
    return false;
  }
  data = std::move(connected->second);
  return true;
}

PostauthSession::Start PostauthSession::begin_transfer(DataPurpose purpose, const std::string& mark,
                                                       DataConnection& data) {
  if (!open_data_connection(purpose, data.socket)) return Start::kFailed;
  reply(150, mark);
  if (!control_.send(pending_)) return Start::kControlLost;
  pending_.clear();
  if (!tls_.prot_private) return Start::kReady;
  bool not_resumed = false;
  auto stream = TlsStream::accept(data_tls_, data.socket.get(),
                                  std::chrono::seconds(config_.data_connection_timeout), &not_resumed);
  if (!stream) {
    if (not_resumed) {
      monitor_.log(EventLevel::kWarning,
                   "data connection refused: its TLS handshake did not resume the control "
                   "connection's TLS session (require_tls_session_reuse=yes; " +
                       stream.error().message + ")");
      reply(522, "Data connection TLS must resume the control connection's TLS session.");
      status_.data_tls_refused();
    } else {
      monitor_.log(EventLevel::kWarning, "data connection: " + stream.error().message);
      reply(522, "TLS negotiation on the data connection failed.");
    }
    data.socket.reset();
    return Start::kFailed;
  }
  data.tls = std::move(*stream);
  status_.data_tls_handshake();
  return Start::kReady;
}

std::optional<TransferPace> PostauthSession::transfer_pace(TransferDirection direction) {
  const bool download = direction == TransferDirection::kOutgoing;
  const std::uint64_t own = download ? policy_.download_rate : policy_.upload_rate;
  const std::uint64_t user = download ? policy_.user_download_rate : policy_.user_upload_rate;
  const std::uint64_t global = download ? config_.max_download_rate : config_.max_upload_rate;
  // The most this transfer may move: its limits as if it were the only transfer running.
  const std::uint64_t bound = transfer_rate_share(own, user, 1, global, 1);
  if (bound == 0) return std::nullopt;
  if (user == 0 && global == 0) return std::optional<TransferPace>(std::in_place, bound, nullptr);
  return std::optional<TransferPace>(std::in_place, bound,
                                     [this, direction] { return monitor_.rate_share(direction); });
}

void PostauthSession::log_truncated_upload(const TransferOutcome& outcome, const std::string& path) {
  if (outcome.result != TransferResult::kTruncated) return;
  monitor_.log(EventLevel::kWarning,
               "upload of '" + path + "' failed: the data connection ended without TLS "
               "close_notify after " + std::to_string(outcome.bytes) +
               " bytes (truncated; not stored as complete)");
}

void PostauthSession::report_transfer(TransferDirection direction, const std::string& path,
                                      const TransferOutcome& outcome,
                                      std::chrono::steady_clock::time_point started) {
  TransferDone done;
  done.direction = direction;
  done.ascii = ascii_;
  done.complete = outcome.result == TransferResult::kComplete;
  done.bytes = outcome.bytes;
  done.milliseconds = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
          .count());
  done.path = path.substr(0, kMaxTransferPathLength);
  monitor_.transfer_done(done);
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
    case TransferResult::kTruncated:
      reply(426, "Data connection closed without TLS close_notify; transfer incomplete.");
      return Next::kContinue;
    case TransferResult::kOverLimit:
      // RFC 959: 552 Requested file action aborted, exceeded storage allocation.
      reply(552, "Exceeded storage allocation (quota or maximum file size); the upload was not kept.");
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
  if (refuse_restart("a directory listing is made anew each time")) return Next::kContinue;
  DataConnection data;
  const Start start = begin_transfer(DataPurpose::kListing, "Here comes the directory listing.", data);
  if (start != Start::kReady) return start == Start::kFailed ? Next::kContinue : Next::kClose;
  const TransferOutcome outcome = send_text(data.channel(), listing, transfer_watch());
  data.close();
  if (outcome.result != TransferResult::kComplete) return finish_transfer(outcome, "Directory send");
  reply(226, "Directory send OK.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::send_listing(const FtpCommand& command, bool names_only) {
  const ListRequest request = parse_list_argument(command.has_argument ? command.argument : "");
  std::string path;
  if (!resolve_readable(request.path, path)) return Next::kContinue;
  std::string listing;
  FileError error;
  // NLST names of a wildcard match keep the directory part the client typed ("sub/*.txt"
  // lists "sub/a.txt"), which is what mget-style clients expect.
  const auto slash = request.path.rfind('/');
  const std::string prefix = slash == std::string::npos ? std::string() : request.path.substr(0, slash + 1);
  if (!build_listing(fs_, path, request.show_hidden, names_only, now(), listing, error, prefix)) {
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

bool PostauthSession::open_readable_file(std::string_view argument, std::string_view failed,
                                         std::string& path, UniqueFd& file, struct stat& st) {
  if (!resolve_readable(argument, path)) return false;
  FileError error;
  // O_NONBLOCK: a FIFO swapped in since the client looked must not block the open; regular
  // files ignore it.
  if (!fs_.open(path, O_RDONLY | O_NONBLOCK, 0, file, error)) {
    reply(550, std::string(failed) + ": " + error.reply_text);
    return false;
  }
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    reply(550, std::string(failed) + ": not a plain file.");
    return false;
  }
  return true;
}

PostauthSession::Next PostauthSession::cmd_retr(const FtpCommand& command) {
  std::string path;
  UniqueFd file;
  struct stat st{};
  if (!open_readable_file(command.argument, "Failed to open file", path, file, st)) {
    return Next::kContinue;
  }
  TransferPosition position;
  if (!restart_position(file.get(), st, position)) return Next::kContinue;
  if (::lseek(file.get(), static_cast<off_t>(position.file_offset), SEEK_SET) < 0) {
    reply(554, "Could not seek to the restart offset.");
    return Next::kContinue;
  }
  DataConnection data;
  const Start start = begin_transfer(DataPurpose::kFileTransfer,
                                     std::string("Opening ") + (ascii_ ? "ASCII" : "BINARY") +
                                         " mode data connection for " +
                                         std::string(base_name(path)) + " (" +
                                         std::to_string(st.st_size) + " bytes).",
                                     data);
  if (start != Start::kReady) return start == Start::kFailed ? Next::kContinue : Next::kClose;
  const auto started = std::chrono::steady_clock::now();
  status_.transfer_started(TransferDirection::kOutgoing, path);
  std::optional<TransferPace> pace = transfer_pace(TransferDirection::kOutgoing);
  const TransferOutcome outcome = send_file(data.channel(), file.get(), ascii_,
                                            transfer_watch(pace ? &*pace : nullptr),
                                            AsciiEncoder(position.after_cr));
  data.close();
  status_.transfer_ended();
  report_transfer(TransferDirection::kOutgoing, path, outcome, started);
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
// after REST write in place, as they must: STOR cuts the file where the marker lands (see
// restart_position) and writes from there; APPE takes a marker only at the end of the file.
PostauthSession::Next PostauthSession::store(const FtpCommand& command, bool append,
                                             std::string_view unique_name) {
  std::string path;
  if (!resolve_new(command, path)) return Next::kContinue;
  // Before any file is created or truncated: no upload without a way to receive it.
  if (!data_connection_possible()) return Next::kContinue;
  FileError error;
  struct stat existing{};
  const bool exists = fs_.stat(path, existing, error);
  if (exists && !S_ISREG(existing.st_mode)) {
    reply(553, "Could not create file: not a plain file.");
    return Next::kContinue;
  }
  Upload upload;
  // A drop-box upload always makes a new file (open_drop_box_upload refuses an existing one).
  upload.new_file = !exists || read_only_;
  upload.old_size = upload.new_file ? 0 : static_cast<std::uint64_t>(existing.st_size);
  switch (upload_allowance(upload)) {
    case Allowance::kGranted: break;
    case Allowance::kRefused: return Next::kContinue;
    case Allowance::kMonitorLost: return Next::kClose;
  }
  bool opened = false;
  if (read_only_) opened = open_drop_box_upload(path, append, upload);
  else if (append || restart_offset_ != 0) opened = open_in_place(path, append, exists, upload);
  else opened = open_replacement(path, upload);
  if (!opened) return Next::kContinue;
  return receive_upload(path, unique_name, exists ? &existing : nullptr, upload);
}

bool PostauthSession::open_drop_box_upload(const std::string& path, bool append, Upload& upload) {
  // The anonymous drop box: a new file directly in it, never over an existing one.
  if (append || restart_offset_ != 0 || upload_dir_.empty() || parent_path(path) != upload_dir_) {
    reply(550, "Permission denied: anonymous uploads go to " + upload_dir_ + " only.");
    return false;
  }
  FileError error;
  if (!fs_.create_new_file(path, 0666, upload.file, error)) {
    reply(553, error.error_number == EEXIST ? "File exists; uploads cannot replace files."
                                            : "Could not create file: " + error.reply_text);
    return false;
  }
  upload.kind = UploadKind::kDropBox;
  return true;
}

bool PostauthSession::open_replacement(const std::string& path, Upload& upload) {
  FileError error;
  if (!fs_.create_temporary(path, upload.temporary, error)) {
    reply(553, "Could not create file: " + error.reply_text);
    return false;
  }
  sweep_stale_uploads(upload.temporary);
  upload.kind = UploadKind::kReplace;
  return true;
}

bool PostauthSession::open_in_place(const std::string& path, bool append, bool exists, Upload& upload) {
  const unsigned long long offset = restart_offset_;
  if (offset != 0 && !exists) {
    // A marker into a file that is not there: a stale marker, never a reason to create a file
    // that starts with a hole.
    reply(554, "Restart offset is past the end of the file (it does not exist).");
    return false;
  }
  // TYPE A restart: the file is read to find where the marker lands.
  const int access = offset != 0 && ascii_ ? O_RDWR : O_WRONLY;
  const int flags = access | O_CREAT | O_NONBLOCK | (append ? O_APPEND : 0);
  FileError error;
  UniqueFd& file = upload.file;
  if (!fs_.open(path, flags, 0666, file, error)) {
    reply(553, "Could not create file: " + error.reply_text);
    return false;
  }
  struct stat st{};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    reply(553, "Could not create file: not a plain file.");
    return false;
  }
  TransferPosition& position = upload.position;
  if (!restart_position(file.get(), st, position)) return false;
  if (append && offset != 0 &&
      (position.file_offset != static_cast<std::uint64_t>(st.st_size) || position.inside_line_end)) {
    reply(554, "APPE after REST needs the restart offset to be the file's size in this TYPE; "
               "use STOR to write from the offset.");
    return false;
  }
  if (!append && (::ftruncate(file.get(), static_cast<off_t>(position.file_offset)) != 0 ||
                  ::lseek(file.get(), static_cast<off_t>(position.file_offset), SEEK_SET) < 0)) {
    reply(554, "Could not seek to the restart offset.");
    return false;
  }
  upload.start = append ? static_cast<std::uint64_t>(st.st_size) : position.file_offset;
  upload.kind = UploadKind::kInPlace;
  return true;
}

// The part every upload shares: 150, the data, the file put in place, 226 (or why not).
PostauthSession::Next PostauthSession::receive_upload(const std::string& path,
                                                      std::string_view unique_name,
                                                      const struct stat* replaced, Upload& upload) {
  DataConnection data;
  // RFC 1123 4.1.2.9: STOU names the file it creates in the preliminary reply.
  const Start start = begin_transfer(
      DataPurpose::kFileTransfer,
      unique_name.empty() ? std::string("Ok to send data.") : "FILE: " + std::string(unique_name),
      data);
  // A temporary file is discarded with `upload`. (The drop-box filter cannot unlink: a file
  // whose upload failed there stays, possibly empty; so does a new file APPE created. They
  // count as the user's.)
  if (start != Start::kReady) {
    if (upload.kind != UploadKind::kReplace) report_upload_usage(upload, upload.start, true, false);
    return start == Start::kFailed ? Next::kContinue : Next::kClose;
  }
  const auto started = std::chrono::steady_clock::now();
  status_.transfer_started(TransferDirection::kIncoming, path);
  const bool replacing = upload.kind == UploadKind::kReplace;
  const int file = replacing ? upload.temporary.fd() : upload.file.get();
  const unsigned long long write_limit =
      upload.max_end == kNoWriteLimit ? kNoWriteLimit
                                      : (upload.max_end > upload.start ? upload.max_end - upload.start : 0);
  // A TYPE A marker between a CR and its LF: the CR counts as received, the next octet decides.
  std::optional<TransferPace> pace = transfer_pace(TransferDirection::kIncoming);
  TransferOutcome outcome = receive_file(data.channel(), file, ascii_, replacing,
                                         transfer_watch(pace ? &*pace : nullptr),
                                         AsciiDecoder(upload.position.inside_line_end), write_limit);
  data.close();
  status_.transfer_ended();
  log_truncated_upload(outcome, path);
  const bool over_limit = outcome.result == TransferResult::kOverLimit;
  if (over_limit) undo_upload(upload, path);
  struct stat written{};
  const std::uint64_t final_size =
      ::fstat(file, &written) == 0 ? static_cast<std::uint64_t>(written.st_size) : upload.old_size;
  bool kept = !replacing;  // a temporary file counts only once it replaced the target
  if (outcome.result == TransferResult::kComplete) {
    const int failed = put_upload_in_place(upload, replaced);
    if (failed != 0) outcome = TransferOutcome{TransferResult::kLocalFailed, failed, outcome.bytes};
    if (replacing) kept = failed == 0;
  }
  report_upload_usage(upload, final_size, kept, over_limit);
  report_transfer(TransferDirection::kIncoming, path, outcome, started);
  return finish_transfer(outcome, "Transfer");
}

PostauthSession::Allowance PostauthSession::upload_allowance(Upload& upload) {
  std::uint64_t bytes_left = kUnlimitedAllowance;
  if (policy_.limits_uploads()) {
    auto allowance = monitor_.quota_allowance();
    if (!allowance) return Allowance::kMonitorLost;
    switch (allowance->status) {
      case QuotaStatus::kGranted:
        break;
      case QuotaStatus::kHourlyLimit:
        reply(550, "Upload refused: too many uploads from your address within an hour; try again later.");
        report_upload_usage(upload, 0, false, true);
        return Allowance::kRefused;
      case QuotaStatus::kUnavailable:
        reply(451, "Upload limits cannot be checked now; try again later.");
        return Allowance::kRefused;
    }
    if (upload.new_file && allowance->files_left == 0) {
      reply(552, "Exceeded storage allocation: no more files allowed (quota).");
      report_upload_usage(upload, 0, false, true);
      return Allowance::kRefused;
    }
    bytes_left = allowance->bytes_left;
  }
  // The file may grow to its old size plus the bytes left (what it frees counts), and never
  // beyond max_file_size.
  upload.max_end = bytes_left == kUnlimitedAllowance ? kNoWriteLimit : upload.old_size + bytes_left;
  if (policy_.max_file_size != 0) upload.max_end = std::min<unsigned long long>(upload.max_end, policy_.max_file_size);
  return Allowance::kGranted;
}

void PostauthSession::undo_upload(Upload& upload, const std::string& path) {
  monitor_.log(EventLevel::kInfo, "upload of '" + path + "' stopped at its limit (" +
                                      std::to_string(upload.max_end) + " bytes: quota or max_file_size)");
  switch (upload.kind) {
    case UploadKind::kReplace:
      upload.temporary.discard();
      return;
    case UploadKind::kInPlace:
    case UploadKind::kDropBox: {
      const std::uint64_t length = upload.kind == UploadKind::kInPlace ? upload.start : 0;
      if (::ftruncate(upload.file.get(), static_cast<off_t>(length)) != 0) {
        monitor_.log(EventLevel::kWarning, "ftruncate of an upload over its limit: " + std::string(std::strerror(errno)));
      }
      return;
    }
  }
}

void PostauthSession::report_upload_usage(const Upload& upload, std::uint64_t final_size, bool kept,
                                          bool refused) {
  if (!policy_.has_quota() && !refused) return;
  QuotaUsed used;
  used.refused = refused;
  if (kept) {
    used.bytes_added = std::min(final_size, kMaxByteSize);
    used.bytes_removed = std::min(upload.old_size, kMaxByteSize);
    used.files_added = upload.new_file ? 1 : 0;
  }
  monitor_.quota_used(used);
}

int PostauthSession::put_upload_in_place(Upload& upload, const struct stat* replaced) {
  switch (upload.kind) {
    case UploadKind::kDropBox:
    case UploadKind::kInPlace:
      // A failed close (a full disk or quota found late, NFS) is a failed upload, never 226.
      return ::close(upload.file.release()) != 0 ? errno : 0;
    case UploadKind::kReplace: {
      if (replaced != nullptr) keep_replaced_mode(upload.temporary.fd(), *replaced);
      FileError error;
      return fs_.commit(upload.temporary, error) ? 0 : error.error_number;
    }
  }
  return 0;
}

// An atomic upload replaces a file by renaming a new one over it; the new file takes the old
// one's permission bits, so an overwrite never widens or narrows access. The group is not
// copied: the post-auth child runs with no supplementary groups and no CAP_CHOWN, so the only
// group it may give a file is the user's own, which the new file already has (a file of another
// group comes back in the user's group, as any overwrite by that user would leave it).
void PostauthSession::keep_replaced_mode(int file, const struct stat& replaced) {
  // SECURITY: permission bits only (0777): never set-user-ID, set-group-ID or sticky, whatever
  // the replaced file had (the seccomp filter allows fchmod with no other bit either).
  if (::fchmod(file, replaced.st_mode & 0777) != 0) {
    monitor_.log(EventLevel::kWarning, "fchmod of an upload to the replaced file's mode: " +
                                           std::string(std::strerror(errno)));
  }
}

// A session killed during an atomic upload (kill -9, a crash) leaves its temporary file behind;
// nothing in a sandbox can clean up after SIGKILL. The next atomic upload into the same
// directory removes temporary files that no upload has written to for data_timeout + 5 s (a
// live upload writes all the time; a stalled one has been ended by then). Bounded: at most
// kSweepEntries directory entries are looked at, and each directory once per session (the
// first kMaxSweptDirectories of them), so a session storing many files into one directory
// does not read it again for every file.
void PostauthSession::sweep_stale_uploads(const TemporaryFile& beside) {
  constexpr int kSweepEntries = 4096;
  constexpr std::size_t kMaxSweptDirectories = 64;
  const std::pair<dev_t, ino_t> id = beside.directory_id();
  for (const auto& swept : swept_directories_) {
    if (swept == id) return;
  }
  if (swept_directories_.size() < kMaxSweptDirectories) swept_directories_.push_back(id);
  timespec clock{};
  ::clock_gettime(CLOCK_REALTIME, &clock);
  // Nanoseconds matter: whole seconds would make a file look up to a second younger.
  const long double stale_before = static_cast<long double>(clock.tv_sec) + clock.tv_nsec / 1e9L -
                                   static_cast<long double>(config_.data_timeout) - 5.0L;
  for (const std::string& name : fs_.remove_stale_temporaries(beside, stale_before, kSweepEntries)) {
    monitor_.log(EventLevel::kInfo, "removed the temporary file of an upload that was cut off: " + name);
  }
}

PostauthSession::Next PostauthSession::cmd_stou(const FtpCommand& command) {
  if (refuse_restart("STOU creates a new file")) return Next::kContinue;
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
                  static_cast<unsigned long long>(name_randomness() & 0xffffffffffffull));
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

}  // namespace wftpd
