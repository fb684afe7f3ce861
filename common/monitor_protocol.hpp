// The messages that cross the monitor boundary: one struct per message, one codec for both sides.
//
// Datagram layout (SOCK_SEQPACKET, one message per datagram):
//   u16 type | u16 reserved (0) | u32 payload length | payload
// All integers big-endian; strings are u16-length-prefixed and bounded per field. Trailing bytes,
// an unknown type, a length that disagrees with the datagram or a field over its bound are errors.
#pragma once

#include <string.h>  // explicit_bzero

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/handshake_signature.hpp"
#include "common/result.hpp"
#include "common/session_policy.hpp"
#include "common/wire_codec.hpp"

namespace wftpd {

inline constexpr std::size_t kMonitorHeaderSize = 8;
inline constexpr std::size_t kMaxMonitorPayload = 16384;
inline constexpr std::size_t kMaxLoginNameLength = 256;
inline constexpr std::size_t kMaxPasswordLength = 1024;
inline constexpr std::size_t kMaxPendingInput = 8192;
inline constexpr std::size_t kMaxRootPathLength = 4096;
inline constexpr std::size_t kMaxReasonLength = 512;
inline constexpr std::size_t kMaxTlsSessionLength = 4096;
inline constexpr std::size_t kMaxTransferPathLength = 4096;
inline constexpr std::size_t kMaxStatusPathLength = 1024;
// LogEvents the monitor takes from one child in a session; one more ends the session.
inline constexpr std::uint32_t kMaxLogEventsPerChild = 200;

enum class MessageType : std::uint16_t {
  kLoginRequest = 1,    // pre-auth child -> monitor
  kLoginResult = 2,     // monitor -> pre-auth child
  kHandoff = 3,         // pre-auth child -> monitor, after an accepted login
  kBecomeUser = 4,      // monitor -> standby child
  kStandbyReady = 5,    // standby child -> monitor
  kStartSession = 6,    // monitor -> post-auth child
  kPassiveListen = 7,   // post-auth child -> monitor
  kPassiveReady = 8,    // monitor -> post-auth child
  kDataConnect = 9,     // post-auth child -> monitor
  kDataReady = 10,      // monitor -> post-auth child (carries the data socket on success)
  kActiveTarget = 11,   // post-auth child -> monitor (PORT/EPRT)
  kActiveReady = 12,    // monitor -> post-auth child
  kLogEvent = 13,       // pre-auth or post-auth child -> monitor (a line for the log)
  kTransferDone = 14,   // post-auth child -> monitor (a line for the transfer log)
  kPamCheck = 15,       // monitor -> PAM helper (common/pam_protocol.hpp)
  kPamVerdict = 16,     // PAM helper -> monitor
  kUserQuery = 17,      // pre-auth child -> monitor (USER before TLS)
  kUserAnswer = 18,     // monitor -> pre-auth child
  kSignRequest = 19,    // pre-auth child (control handshake) or post-auth child -> monitor
  kSignResult = 20,     // monitor -> the child that asked
  kSessionStatus = 21,  // post-auth child -> monitor (what `wardenftpd-ctl who` shows)
  kQuotaQuery = 22,     // post-auth child -> monitor (an upload's allowance)
  kQuotaAllowance = 23, // monitor -> post-auth child
  kQuotaUsed = 24,      // post-auth child -> monitor (what an upload or DELE changed)
  kRateQuery = 25,      // post-auth child -> monitor (a rate-limited transfer's share)
  kRateAnswer = 26,     // monitor -> post-auth child
};

std::string_view message_type_name(std::uint16_t type);

struct LoginRequest {
  static constexpr MessageType kType = MessageType::kLoginRequest;
  std::string user;
  std::string password;
  void encode(WireWriter& out) const;
  static Result<LoginRequest> decode(WireReader& in);
};

enum class LoginStatus : std::uint8_t {
  kAccepted = 1,
  kRejected = 2,       // wrong user or password; more attempts allowed
  kRejectedFinal = 3,  // wrong, and the session ends
  kUnavailable = 4,    // authenticated, but the session could not be set up
};

struct LoginResult {
  static constexpr MessageType kType = MessageType::kLoginResult;
  LoginStatus status = LoginStatus::kRejected;
  void encode(WireWriter& out) const;
  static Result<LoginResult> decode(WireReader& in);
};

// USER on a control connection without TLS (with a TLS login rule in force): which rule applies
// to this name is the monitor's decision (is it an anonymous login?), never the pre-auth
// child's, so that the rule and the login cannot disagree about a name.
struct UserQuery {
  static constexpr MessageType kType = MessageType::kUserQuery;
  std::string user;  // at most kMaxLoginNameLength bytes
  void encode(WireWriter& out) const;
  static Result<UserQuery> decode(WireReader& in);
};

enum class ClearLogin : std::uint8_t {
  kAllowed = 1,               // the login may go on without TLS
  kTlsRequired = 2,           // require_tls_login: a real account
  kAnonymousTlsRequired = 3,  // anon_require_tls: an anonymous login
};

struct UserAnswer {
  static constexpr MessageType kType = MessageType::kUserAnswer;
  ClearLogin clear_login = ClearLogin::kTlsRequired;
  void encode(WireWriter& out) const;
  static Result<UserAnswer> decode(WireReader& in);
};

// The control connection's TLS state at login, passed from the pre-auth child to the post-auth
// child. With `control_tls` the pre-auth child stays as the TLS endpoint and relays plaintext.
struct ControlTlsState {
  bool control_tls = false;   // AUTH TLS (or implicit TLS) done
  bool pbsz_set = false;      // PBSZ 0 seen
  bool prot_private = false;  // PROT P in force
  // TLS 1.2 only: the control connection's session (DER, i2d_SSL_SESSION), so that data
  // connections of clients that resume by session ID rather than by ticket (curl's OpenSSL
  // backend) can resume it. Opaque to the monitor; never holds the private key.
  std::string session;
};

struct Handoff {
  static constexpr MessageType kType = MessageType::kHandoff;
  std::string pending_input;  // control bytes the client pipelined behind PASS
  ControlTlsState tls;
  void encode(WireWriter& out) const;
  static Result<Handoff> decode(WireReader& in);
};

struct BecomeUser {
  static constexpr MessageType kType = MessageType::kBecomeUser;
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string root;
  bool read_only = false;  // anonymous: the "anonymous" filter, no write command
  SessionPolicy policy;    // the session's policy, decided by the monitor at login
  void encode(WireWriter& out) const;
  static Result<BecomeUser> decode(WireReader& in);
};

struct StandbyReady {
  static constexpr MessageType kType = MessageType::kStandbyReady;
  bool ok = false;
  std::string reason;  // why the sandbox could not be set up
  void encode(WireWriter& out) const;
  static Result<StandbyReady> decode(WireReader& in);
};

struct StartSession {
  static constexpr MessageType kType = MessageType::kStartSession;
  std::string pending_input;
  ControlTlsState tls;  // with control_tls, the control connection is the relay socket
  void encode(WireWriter& out) const;
  static Result<StartSession> decode(WireReader& in);
};

struct PassiveListen {
  static constexpr MessageType kType = MessageType::kPassiveListen;
  bool extended = false;  // EPSV rather than PASV
  void encode(WireWriter& out) const;
  static Result<PassiveListen> decode(WireReader& in);
};

enum class AddressFamily : std::uint8_t { kIpv4 = 4, kIpv6 = 6 };

enum class PassiveStatus : std::uint8_t {
  kListening = 1,
  kFailed = 2,  // no port could be bound
};

struct PassiveReady {
  static constexpr MessageType kType = MessageType::kPassiveReady;
  PassiveStatus status = PassiveStatus::kFailed;
  AddressFamily family = AddressFamily::kIpv4;
  std::array<std::uint8_t, 16> address{};  // first 4 bytes used for IPv4
  std::uint16_t port = 0;
  void encode(WireWriter& out) const;
  static Result<PassiveReady> decode(WireReader& in);
};

// What the post-auth child wants a data connection for. SECURITY: only a file transfer's
// connection permits a TransferDone (one transfer-log line); a listing's permits none.
enum class DataPurpose : std::uint8_t { kFileTransfer = 1, kListing = 2 };

struct DataConnect {
  static constexpr MessageType kType = MessageType::kDataConnect;
  DataPurpose purpose = DataPurpose::kFileTransfer;
  void encode(WireWriter& out) const;
  static Result<DataConnect> decode(WireReader& in);
};

enum class DataStatus : std::uint8_t {
  kConnected = 1,    // the data socket is attached
  kNoPassive = 2,    // no PASV/EPSV listener
  kTimedOut = 3,     // nobody (from the control peer's address) connected in time
  kFailed = 4,
};

struct DataReady {
  static constexpr MessageType kType = MessageType::kDataReady;
  DataStatus status = DataStatus::kFailed;
  void encode(WireWriter& out) const;
  static Result<DataReady> decode(WireReader& in);
};

// PORT/EPRT as the client gave it. SECURITY: the monitor accepts it only if the address is the
// control peer's and the port is not privileged, and then connects to its own copy of the peer
// address: the child never chooses where the monitor connects (no FTP bounce).
struct ActiveTarget {
  static constexpr MessageType kType = MessageType::kActiveTarget;
  AddressFamily family = AddressFamily::kIpv4;
  std::array<std::uint8_t, 16> address{};
  std::uint16_t port = 0;
  void encode(WireWriter& out) const;
  static Result<ActiveTarget> decode(WireReader& in);
};

enum class ActiveStatus : std::uint8_t {
  kAccepted = 1,
  kForeignAddress = 2,  // not the control connection's peer
  kPrivilegedPort = 3,  // below 1024
  kWrongFamily = 4,     // IPv4 target on an IPv6 control connection or the reverse
};

struct ActiveReady {
  static constexpr MessageType kType = MessageType::kActiveReady;
  ActiveStatus status = ActiveStatus::kForeignAddress;
  void encode(WireWriter& out) const;
  static Result<ActiveReady> decode(WireReader& in);
};

enum class EventLevel : std::uint8_t { kError = 1, kWarning = 2, kInfo = 3, kDebug = 4 };

// A sandboxed child has no log of its own (its stderr is /dev/null): it asks the monitor to
// write a line. The monitor escapes the text and takes at most kMaxLogEventsPerChild lines from
// a child; one more is a protocol violation that ends the session.
struct LogEvent {
  static constexpr MessageType kType = MessageType::kLogEvent;
  EventLevel level = EventLevel::kInfo;
  std::string text;  // at most kMaxReasonLength bytes
  void encode(WireWriter& out) const;
  static Result<LogEvent> decode(WireReader& in);
};

enum class TransferDirection : std::uint8_t { kIncoming = 1, kOutgoing = 2 };  // STOR / RETR
// One u8, 1 or 2: every decoder of a direction (here and in priv/session_report.cpp).
Result<TransferDirection> decode_transfer_direction(WireReader& in);

// A file transfer (RETR, STOR, APPE, STOU) ended, complete or not, after its data connection was
// opened: the post-auth child reports it for the transfer log. SECURITY: the monitor accepts at
// most one report per data connection it handed out for a file transfer, only until the child
// asks for the next data connection, and escapes the path when it writes it.
struct TransferDone {
  static constexpr MessageType kType = MessageType::kTransferDone;
  TransferDirection direction = TransferDirection::kOutgoing;
  bool ascii = false;     // TYPE A (else binary)
  bool complete = false;  // 226 sent (else aborted, cut off or failed)
  std::uint64_t bytes = 0;          // data-connection bytes moved (at most 2^63 - 1)
  std::uint64_t milliseconds = 0;   // from the data connection's start to the transfer's end
  std::string path;  // the file as the user sees it (absolute in the user's root)
  void encode(WireWriter& out) const;
  static Result<TransferDone> decode(WireReader& in);
};

// A TLS handshake needs the server's signature: the TLS endpoint (the pre-auth child for the
// control connection; the post-auth child for a data connection with
// require_tls_session_reuse=no) sends the scheme and the digest of what it signs. SECURITY: the
// decoder takes only the schemes of common/handshake_signature.hpp and a digest of exactly that
// scheme's length; whether the child may ask now (phase, count) is the monitor's request table.
struct SignRequest {
  static constexpr MessageType kType = MessageType::kSignRequest;
  SignatureScheme scheme = SignatureScheme::kEcdsaSha256;
  std::string digest;
  void encode(WireWriter& out) const;
  static Result<SignRequest> decode(WireReader& in);
};

struct SignResult {
  static constexpr MessageType kType = MessageType::kSignResult;
  std::string signature;  // empty: the monitor could not sign (the handshake fails)
  void encode(WireWriter& out) const;
  static Result<SignResult> decode(WireReader& in);
};

// What the session is doing, for the operator (`wardenftpd-ctl who`, metrics): the post-auth
// child sends it when a transfer starts, about once a second while one runs, and after a command
// at most once a second (so the operator sees the idle time). SECURITY: it describes this
// session only and decides nothing; the monitor takes a few per second (more are dropped),
// checks the counters against the data connections it handed out, and forwards it to the
// listener. The counters are this session's totals so far.
enum class SessionState : std::uint8_t { kIdle = 1, kTransfer = 2 };

struct SessionStatus {
  static constexpr MessageType kType = MessageType::kSessionStatus;
  SessionState state = SessionState::kIdle;
  TransferDirection direction = TransferDirection::kOutgoing;  // kTransfer
  std::uint64_t bytes = 0;               // kTransfer: moved so far (at most 2^63 - 1)
  std::uint32_t data_tls_handshakes = 0; // data connections that completed a TLS handshake
  std::uint32_t data_tls_refusals = 0;   // data connections refused with 522
  std::string path;  // kTransfer: the file as the user sees it (absolute, at most
                     // kMaxStatusPathLength bytes); kIdle: empty
  void encode(WireWriter& out) const;
  static Result<SessionStatus> decode(WireReader& in);
};

// Quotas (quota_bytes, quota_files, upload_files_per_hour: common/session_policy.hpp). Before an
// upload the post-auth child asks for its allowance; the monitor asks the listener, which keeps
// every user's usage and every client's uploads of the last hour. SECURITY: the child enforces
// the answer while it writes, so quotas bound honest clients through an honest child; a
// compromised child can skip the question or lie in QuotaUsed (SECURITY.md, "Quotas"): the
// file system's own quotas are the limit for it.
struct QuotaQuery {
  static constexpr MessageType kType = MessageType::kQuotaQuery;
  void encode(WireWriter& out) const;
  static Result<QuotaQuery> decode(WireReader& in);
};

enum class QuotaStatus : std::uint8_t {
  kGranted = 1,      // the upload may start, within bytes_left and files_left
  kHourlyLimit = 2,  // upload_files_per_hour: this client may start no upload now
  kUnavailable = 3,  // the listener did not answer (or there is none): no upload
};

// No limit on bytes or files.
inline constexpr std::uint64_t kUnlimitedAllowance = ~std::uint64_t{0};

struct QuotaAllowance {
  static constexpr MessageType kType = MessageType::kQuotaAllowance;
  QuotaStatus status = QuotaStatus::kUnavailable;
  std::uint64_t bytes_left = 0;  // at most kMaxByteSize, or kUnlimitedAllowance
  std::uint64_t files_left = 0;  // at most kMaxQuotaFiles, or kUnlimitedAllowance
  void encode(WireWriter& out) const;
  static Result<QuotaAllowance> decode(WireReader& in);
};

// What one upload (complete or not) or DELE changed in the user's files: bytes and files added
// and removed (a STOR over a file: the new size added, the old removed). `refused`: the upload
// was refused or stopped by a quota or upload limit (counted for the metrics).
struct QuotaUsed {
  static constexpr MessageType kType = MessageType::kQuotaUsed;
  std::uint64_t bytes_added = 0;    // at most kMaxByteSize
  std::uint64_t bytes_removed = 0;  // at most kMaxByteSize
  std::uint32_t files_added = 0;    // at most 1
  std::uint32_t files_removed = 0;  // at most 1
  bool refused = false;
  void encode(WireWriter& out) const;
  static Result<QuotaUsed> decode(WireReader& in);
};

// A file transfer limited by a rate its session shares with others (user_download_rate,
// max_download_rate, ...) asks for its share of it when it starts and every 250 ms while it
// runs (unpriv/transfer_pace.hpp). SECURITY: the answer only slows the child's own transfer,
// which enforces it (a compromised child ignores it: SECURITY.md). The monitor counts a transfer
// as running for the listener only while it has a file transfer's data connection out.
struct RateQuery {
  static constexpr MessageType kType = MessageType::kRateQuery;
  TransferDirection direction = TransferDirection::kOutgoing;
  void encode(WireWriter& out) const;
  static Result<RateQuery> decode(WireReader& in);
};

struct RateAnswer {
  static constexpr MessageType kType = MessageType::kRateAnswer;
  std::uint64_t bytes_per_second = 0;  // 0: no share known (the child keeps its own bound)
  void encode(WireWriter& out) const;
  static Result<RateAnswer> decode(WireReader& in);
};

struct DecodedHeader {
  std::uint16_t type = 0;
  std::string_view payload;
};

// Splits a datagram into header and payload, checking the length and reserved fields.
Result<DecodedHeader> decode_header(std::string_view datagram);

// SECURITY: some messages carry a secret (LoginRequest and PamCheck a password, StartSession
// a TLS session). The body is built in one buffer with room for the largest payload, so that
// growing never leaves a copy in freed memory, and is wiped; the datagram, allocated once, is
// the only copy left, the sender's to wipe (MonitorChannel::send does).
template <class Message>
std::string encode_message(const Message& message) {
  WireWriter body;
  body.reserve(kMaxMonitorPayload);
  message.encode(body);
  std::string payload = body.take();
  WireWriter out;
  out.reserve(kMonitorHeaderSize + payload.size());
  out.u16(static_cast<std::uint16_t>(Message::kType));
  out.u16(0);
  out.u32(static_cast<std::uint32_t>(payload.size()));
  std::string datagram = out.take();
  datagram += payload;
  ::explicit_bzero(payload.data(), payload.size());
  return datagram;
}

// Decodes a payload whose header said Message::kType; rejects trailing bytes.
template <class Message>
Result<Message> decode_payload(std::string_view payload) {
  WireReader in(payload);
  auto message = Message::decode(in);
  if (!message) return message.error();
  if (!in.at_end()) return make_error("trailing bytes after message");
  return message;
}

}  // namespace wftpd
