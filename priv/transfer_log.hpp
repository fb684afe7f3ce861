// The transfer log (xferlog_enable): one line per file transfer in the wu-ftpd xferlog format,
// which log analysers read:
//
//   current-time transfer-time remote-host file-size filename transfer-type special-action-flag
//   direction access-mode username service-name authentication-method authenticated-user-id
//   completion-status
//
//   Mon Nov 30 16:54:38 2026 1 192.0.2.1 5 /pub/a\x20b.txt b _ o r alice ftp 0 * c
//
// The listener opens the file (it is root and unconfined) and hands it to every monitor; the
// monitor writes the lines from the TransferDone reports of its post-auth child, which it checks.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

enum class AccessMode { kReal, kAnonymous, kGuest };

struct TransferLogEntry {
  std::time_t now = 0;                 // when the transfer ended
  std::uint64_t milliseconds = 0;      // how long it took
  std::string_view remote_host;        // the client's address
  TransferDone transfer;               // direction, bytes, path, type, completion
  AccessMode access = AccessMode::kReal;
  std::string_view user;               // the login name
};

// One xferlog line, ending in '\n'. Times are UTC (monitors read no time zone files).
// transfer-time is in whole seconds, rounded up, at least 1 (as wu-ftpd writes it).
// SECURITY: the file name and user name are client bytes: a space (the field separator), a
// backslash, control bytes and every byte >= 0x7f become \xHH, so the line keeps its 18
// whitespace-separated fields and one line per transfer, and the name can be decoded exactly.
std::string format_transfer_log_line(const TransferLogEntry& entry);

// xferlog's escaping of one field (exposed for tests): see above.
std::string escape_xferlog_field(std::string_view text);

// Whether `path` may be the transfer log: its directory a real directory owned by root and not
// writable by others, and the file, if it exists, a regular file (not a symlink) owned by root.
// Checked by validate_config() and again by open_transfer_log() when it opens the file.
Result<void> check_transfer_log_location(const std::string& path);

// Opens `path` for appending (created 0640 if missing). SECURITY: the directory must be a real
// directory owned by root and not writable by others, and the file (not a symlink) a regular
// file owned by root, so no unprivileged user can point the daemon's writes elsewhere.
Result<UniqueFd> open_transfer_log(const std::string& path);

}  // namespace wftpd
