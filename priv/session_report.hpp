// What a session monitor tells the listener, on the report socket the listener made for that one
// session (descriptor 7 of the monitor; a SOCK_SEQPACKET pair): login results (the throttle and
// automatic bans), what the session is doing (`wardenftpd-ctl who`), what it counted (metrics),
// and questions the listener answers on the same socket (notices, below).
//
// Frame: u8 type | u16 payload length | payload; integers big-endian, strings u16-prefixed and
// bounded per field; a frame is at most kMaxReportFrame bytes and is one message on the
// non-blocking socket, sent whole or not at all. SECURITY: the listener decodes these with the
// same strictness as the monitor protocol; a monitor can only describe the session the socket
// belongs to (the frames name no session), and the listener bounds how many it takes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"
#include "priv/login_policy.hpp"

namespace wftpd {

inline constexpr std::size_t kReportHeaderSize = 3;
inline constexpr std::size_t kMaxReportPayload = 1400;
inline constexpr std::size_t kMaxReportFrame = kReportHeaderSize + kMaxReportPayload;

enum class ReportType : std::uint8_t {
  kLoginFailed = 1,
  kLoginAccepted = 2,
  kStatus = 3,        // the post-auth child's SessionStatus, as the monitor checked it
  kTransferDone = 4,  // a file transfer ended (bytes for the metrics)
  kEvent = 5,         // something to count
  // A login that max_sessions_per_user limits asks for a place among the user's sessions; the
  // listener answers with a kClaimAnswer notice, and a granted place counts until the session
  // ends.
  kClaimSession = 6,
  // Quotas (common/session_policy.hpp): an upload's question, answered with a kQuotaAnswer
  // notice (the user's usage, and whether the client may start another upload this hour, which
  // counts it); and what an upload or DELE changed. Both are about the user whose login this
  // socket reported (kLoginAccepted): the frames name no user.
  kQuotaQuery = 7,
  kQuotaUsed = 8,
  // A file transfer that a shared rate limit applies to (the user's, the server's) started, or
  // ended; a start asks for a kRateShare notice (priv/rate_share.hpp, the listener's side).
  kRateDemand = 9,
};

// What the listener sends a monitor, on the same socket and in the same framing (type,
// length, payload): answers to the reports that ask, and rate shares, which come whenever the
// set of running transfers changes (the monitor reads them in its loop: priv/listener_link.hpp).
enum class NoticeType : std::uint8_t {
  kClaimAnswer = 1,
  kQuotaAnswer = 2,
  kRateShare = 3,
};

struct ListenerNotice {
  NoticeType type = NoticeType::kClaimAnswer;
  // kClaimAnswer: a place was granted. kQuotaAnswer: the client may start an upload (within
  // upload_files_per_hour), and the usage below is known.
  bool granted = false;
  bool usage_known = false;       // kQuotaAnswer: false when the user's usage file is unreadable
  std::uint64_t used_bytes = 0;   // kQuotaAnswer: at most kMaxByteSize
  std::uint64_t used_files = 0;   // kQuotaAnswer: at most kMaxQuotaFiles
  // kRateShare: the session's running transfer in `direction` may move this many bytes/s
  // (0: no limit from the shared rates).
  TransferDirection direction = TransferDirection::kOutgoing;
  std::uint64_t rate = 0;
};

std::string encode_notice(const ListenerNotice& notice);
// One whole frame (the socket keeps message boundaries).
Result<ListenerNotice> decode_notice(std::string_view frame);

enum class ReportEvent : std::uint8_t {
  kControlTlsHandshake = 1,  // the control connection completed a full TLS handshake
  kSandboxViolation = 2,     // a child of the session was stopped by its seccomp filter
  kUploadEventDropped = 3,   // an upload event could not be delivered to its consumer
  kQuotaRefused = 4,         // an upload was refused or stopped by a quota or upload limit
};

struct SessionReport {
  ReportType type = ReportType::kEvent;
  // kLoginFailed, kLoginAccepted: the backend that decided (none: refused before one was chosen).
  std::optional<LoginBackend> backend;
  bool throttled = false;  // kLoginFailed: answered after a delay for earlier failures
  std::string user;        // kLoginAccepted, kClaimSession: at most kMaxLoginNameLength bytes
  std::uint32_t limit = 0;  // kClaimSession: the user's max_sessions_per_user (1 or more)
  std::string user_class{kDefaultClassName};  // kLoginAccepted: the session's class
  // kQuotaQuery: the session's upload_files_per_hour (0: none), and whether it needs the usage.
  std::uint32_t uploads_per_hour = 0;
  bool wants_usage = false;
  // kQuotaUsed: what changed (each at most kMaxByteSize bytes, kMaxQuotaFiles files).
  std::uint64_t bytes_added = 0;
  std::uint64_t bytes_removed = 0;
  std::uint64_t files_added = 0;
  std::uint64_t files_removed = 0;
  // kStatus: the state; its TLS counters are the increments since the previous kStatus.
  SessionStatus status;
  // kTransferDone, kRateDemand.
  TransferDirection direction = TransferDirection::kOutgoing;
  // kRateDemand: a transfer started (else ended), and the session's own rate and its user's
  // rate in that direction, bytes/s (0: none; at most kMaxByteRate).
  bool active = false;
  std::uint64_t session_rate = 0;
  std::uint64_t user_rate = 0;
  bool complete = false;
  std::uint64_t bytes = 0;
  ReportEvent event = ReportEvent::kControlTlsHandshake;  // kEvent
};

std::string encode_report(const SessionReport& report);

// Takes the pipe's bytes as they come and gives back whole frames. Holds at most one partial
// frame; a malformed frame is an error after which the reader is of no further use.
class ReportReader {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame, nothing when more bytes are needed, or an error.
  Result<std::optional<SessionReport>> next();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

Result<SessionReport> decode_report(ReportType type, std::string_view payload);

}  // namespace wftpd
