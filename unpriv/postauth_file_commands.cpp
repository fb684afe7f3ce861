// PostauthSession: file management (MKD RMD DELE RNFR RNTO SITE MFMT) and information (STAT SIZE
// MDTM MLSD MLST), plus REST and the trivial replies.
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
#include "unpriv/postauth_engine.hpp"
#include "unpriv/session_filesystem.hpp"

namespace wftpd {

PostauthSession::Next PostauthSession::cmd_site(const FtpCommand& command) {
  const std::string& argument = command.argument;
  const auto space = argument.find(' ');
  const std::string sub = to_ascii_upper(argument.substr(0, space));
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
    // The class's local_umask is a floor: a user can take more bits away, never give back
    // what the operator took.
    const unsigned effective = mask | policy_.local_umask;
    ::umask(static_cast<mode_t>(effective));
    char text[8];
    std::snprintf(text, sizeof(text), "%04o", effective);
    reply(200, std::string("UMASK set to ") + text +
                   (effective != mask ? " (the class's local_umask stays in it)" : ""));
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
    FileError error;
    // SECURITY: never setuid, setgid or sticky bits, whatever the client asks: change_mode()
    // refuses a mode with any of them (550) and leaves the file as it is.
    if (path == "/" || !fs_.change_mode(path, static_cast<mode_t>(mode), error)) {
      reply(550, "SITE CHMOD failed: " + (path == "/" ? std::string("not allowed.") : error.reply_text));
      return Next::kContinue;
    }
    reply(200, "SITE CHMOD command ok.");
    return Next::kContinue;
  }
  reply(504, "Unknown SITE command.");
  return Next::kContinue;
}

namespace {

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

}  // namespace

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
  FileError error;
  if (path == "/" || !fs_.set_modification_time(path, when, error)) {
    reply(550, "MFMT failed: " + (path == "/" ? std::string("not allowed.") : error.reply_text));
    return Next::kContinue;
  }
  reply(213, "Modify=" + format_mdtm(when) + "; " + std::string(base_name(path)));
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rein(const FtpCommand&) {
  // The logged-in session runs as the user in its own sandbox; it cannot turn back into a
  // pre-auth process. A client that wants another login reconnects. Its restart marker is
  // reset all the same: a client that sent REIN expects a clean state.
  restart_offset_ = 0;
  hash_range_.reset();
  hash_algorithm_ = kDefaultDigest;
  reply(502, "REIN not supported; reconnect to log in as another user.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_mkd(const FtpCommand& command) {
  std::string path;
  if (!resolve_new(command, path)) return Next::kContinue;
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
  const bool known = fs_.stat(path, st, error);
  if (known && S_ISDIR(st.st_mode)) {
    reply(550, "Delete operation failed: is a directory (use RMD).");
    return Next::kContinue;
  }
  if (!fs_.remove_file(path, error)) {
    reply(550, "Delete operation failed: " + error.reply_text);
    return Next::kContinue;
  }
  // The user's quota usage: one file less, and its bytes.
  if (policy_.has_quota() && known && S_ISREG(st.st_mode)) {
    QuotaUsed used;
    used.bytes_removed = std::min(static_cast<std::uint64_t>(st.st_size), kMaxByteSize);
    used.files_removed = 1;
    monitor_.quota_used(used);
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
  if (!resolve_new(command, path)) return Next::kContinue;
  FileError error;
  if (path == "/" || !fs_.rename(from, path, error)) {
    reply(550, "Rename failed: " + (path == "/" ? std::string("invalid target.") : error.reply_text));
    return Next::kContinue;
  }
  reply(250, "Rename successful.");
  return Next::kContinue;
}

PostauthSession::Next PostauthSession::cmd_rest(const FtpCommand& command) {
  hash_range_.reset();  // REST and RANG each replace the other, as in ProFTPD
  const std::string& argument = command.argument;
  unsigned long long offset = 0;
  const auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), offset);
  if (ec != std::errc() || end != argument.data() + argument.size() ||
      offset > static_cast<unsigned long long>(std::numeric_limits<off_t>::max())) {
    restart_offset_ = 0;  // the client meant to replace the marker: no older one stays
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
  std::string path;
  if (!resolve_readable(request.path, path)) return Next::kContinue;
  std::string listing;
  FileError error;
  if (!build_listing(fs_, path, request.show_hidden, false, now(), listing, error)) {
    reply_error(error);
    return Next::kContinue;
  }
  std::vector<std::string> lines = {"Status of " + std::string(base_name(path)) + ":"};
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

// RFC 3659 section 4: SIZE is the number of octets RETR would send in the current TYPE. In
// TYPE A that means counting line ends as RETR converts them (AsciiOctetCounter, which REST in
// TYPE A uses too), so the file is read: only up to ascii_size_limit bytes (default 64 MiB:
// measured about 45 ms a SIZE with the file in the page cache, the same for text, a file of
// LFs only and one without any, on a loaded 2-core test machine; from disk, the disk's read
// time on top); a bigger file gets 550 and a pointer to TYPE I.
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
  if (!ascii_) {
    reply(213, std::to_string(st.st_size));
    return Next::kContinue;
  }
  UniqueFd file;
  // O_NONBLOCK: a FIFO swapped in since the stat must not block the open.
  if (!fs_.open(path, O_RDONLY | O_NONBLOCK, 0, file, error) || ::fstat(file.get(), &st) != 0 ||
      !S_ISREG(st.st_mode)) {
    reply(550, "Could not get file size.");
    return Next::kContinue;
  }
  // SECURITY: the cost of a SIZE (which needs no data connection, so a client can repeat it at
  // will) is bounded by ascii_size_limit bytes read.
  if (static_cast<std::uint64_t>(st.st_size) > config_.ascii_size_limit) {
    reply(550, config_.ascii_size_limit == 0
                   ? std::string("SIZE in ASCII mode is off on this server: use TYPE I for the size.")
                   : "SIZE in ASCII mode is answered for files up to " +
                         std::to_string(config_.ascii_size_limit) +
                         " bytes; this one is larger: use TYPE I for its size.");
    return Next::kContinue;
  }
  const auto bytes = static_cast<std::uint64_t>(st.st_size);
  AsciiOctetCounter counter;
  auto counted = count_ascii_octets(file.get(), bytes, counter);
  if (!counted || counter.file_bytes() != static_cast<std::uint64_t>(st.st_size)) {
    if (!counted) monitor_.log(EventLevel::kWarning, "SIZE in TYPE A: " + counted.error().message);
    reply(550, "Could not get file size.");
    return Next::kContinue;
  }
  reply(213, std::to_string(counter.octets()));
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
  std::string path;
  if (!resolve_readable(command.has_argument ? command.argument : "", path)) {
    return Next::kContinue;
  }
  std::string listing;
  FileError error;
  if (!build_machine_listing(fs_, path, facts_, viewer_, listing, error)) {
    reply(550, "MLSD failed: " + error.reply_text);
    return Next::kContinue;
  }
  return send_directory_text(listing);
}

PostauthSession::Next PostauthSession::cmd_mlst(const FtpCommand& command) {
  std::string path;
  if (!resolve_readable(command.has_argument ? command.argument : "", path)) {
    return Next::kContinue;
  }
  struct stat st{};
  FileError error;
  UniqueFd parent;
  std::string entry;
  bool found = false;
  bool parent_writable = false;
  if (path == "/") {
    found = fs_.stat(path, st, error);
  } else if (fs_.open_parent(path, parent, entry, error)) {
    found = ::fstatat(parent.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    struct stat parent_stat{};
    parent_writable = ::fstat(parent.get(), &parent_stat) == 0 &&
                      (viewer_access(parent_stat, viewer_) & 2u) != 0;
  }
  if (!found || !name_is_listable(path)) {
    reply(550, "MLST failed: no such file or directory.");
    return Next::kContinue;
  }
  // RFC 3659 7.2: the entry line starts with one space; the pathname is the one asked for.
  const std::vector<std::string> lines = {
      "Listing " + path, " " + format_facts(path, st, facts_, viewer_, parent_writable), "End"};
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

}  // namespace wftpd
