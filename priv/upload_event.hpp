// An upload event: what a session's monitor tells the upload-event consumer (upload_event_socket,
// see priv/upload_event_socket.hpp) about one completed upload, as one JSON object that is one
// datagram (no newline):
//
//   {"event":"upload","session":42,"user":"demo","client":"192.0.2.1","path":"/in/a.txt",
//    "disk_path":"/srv/ftp/demo/in/a.txt","disk_path_hex":"2f7372762f...","bytes":1234,
//    "type":"binary","time":"2026-11-30T16:54:38.123Z","unix_time":1796057678}
//
// path is the file as the user sees it (absolute in the user's root), disk_path the user's root
// joined with it. Both are JSON strings escaped by json_escape (common/log_format.hpp), which is
// exact for valid UTF-8 and turns invalid bytes into U+FFFD; disk_path_hex is the on-disk path's
// exact bytes in lower-case hex, which a consumer opens. bytes is what the data connection
// carried (TYPE A: before line-end conversion; APPE and REST: the part written, not the file's
// size). Pure (no I/O, no clock), so that every field is unit-tested with hostile names.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

struct UploadEvent {
  std::string_view user;    // the login name ("anonymous" for anonymous sessions)
  std::string_view client;  // the client's address (behind a trusted proxy: the one it named)
  std::string_view root;    // the user's root: absolute and normalised (is_valid_user_root)
  std::string_view path;    // TransferDone.path: absolute in the user's root, client bytes
  std::uint64_t bytes = 0;
  bool ascii = false;
};

enum class UploadEventError : std::uint8_t {
  kPathNotNormalised,  // the reported path is "/", or has a "." or ".." component, "//", a
                       // trailing '/' or NUL
  kFieldTooLong,       // a field is longer than the monitor protocol lets it be
};

// Longest field values an event takes (what the monitor protocol bounds them to).
inline constexpr std::size_t kMaxUploadEventUser = 256;     // kMaxLoginNameLength
inline constexpr std::size_t kMaxUploadEventClient = 64;    // an IPv6 literal is at most 45 bytes
inline constexpr std::size_t kMaxUploadEventRoot = 4096;    // kMaxRootPathLength
inline constexpr std::size_t kMaxUploadEventPath = 4096;    // kMaxTransferPathLength
// Every event fits in this many bytes: each escaped byte takes at most 6 ("\u001f", "\ufffd"),
// the hex form 2, and the fixed part is under 512. The consumer's receive buffer must be at
// least this large; a socket's default send buffer (212992 bytes on Linux) holds it.
inline constexpr std::size_t kMaxUploadEventBytes =
    512 + 6 * (kMaxUploadEventUser + kMaxUploadEventClient + kMaxUploadEventPath) +
    8 * (kMaxUploadEventRoot + kMaxUploadEventPath);

// The on-disk path: `root` joined with `path`. SECURITY: the path comes from the post-auth
// child, which an attacker may control; only a normalised absolute path of a file inside the
// root (not "/" itself; no "." or ".." component, no "//", no trailing '/', no NUL byte) is
// joined, so the result names something strictly inside the root by its spelling. (Symbolic links inside the root are the consumer's
// to refuse: it opens the file without following them.)
Result<std::string, UploadEventError> upload_disk_path(std::string_view root, std::string_view path);

// The event's JSON text, at most kMaxUploadEventBytes. `session` and `time` (wall clock) are the
// sender's stamp. SECURITY: every string field is escaped here (quotes, backslashes, control
// bytes, invalid UTF-8), so no client name can end the object or add a field.
Result<std::string, UploadEventError> format_upload_event(const UploadEvent& event,
                                                          std::uint64_t session,
                                                          const timespec& time);

}  // namespace wftpd
