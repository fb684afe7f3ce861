#include "common/monitor_protocol.hpp"

namespace wftpd {
namespace {

Result<bool> decode_bool(WireReader& in) {
  auto value = in.u8();
  if (!value) return value.error();
  if (*value > 1) return make_error("boolean field out of range");
  return *value == 1;
}

// Family (4 or 6), 16 address bytes and a port: the layout PassiveReady and ActiveTarget share.
void encode_endpoint(WireWriter& out, AddressFamily family,
                     const std::array<std::uint8_t, 16>& address, std::uint16_t port) {
  out.u8(static_cast<std::uint8_t>(family));
  for (const auto byte : address) out.u8(byte);
  out.u16(port);
}

Result<void> decode_endpoint(WireReader& in, AddressFamily& family,
                             std::array<std::uint8_t, 16>& address, std::uint16_t& port) {
  auto family_value = in.u8();
  if (!family_value) return family_value.error();
  if (*family_value != 4 && *family_value != 6) return make_error("address family out of range");
  family = static_cast<AddressFamily>(*family_value);
  for (auto& byte : address) {
    auto value = in.u8();
    if (!value) return value.error();
    byte = *value;
  }
  auto port_value = in.u16();
  if (!port_value) return port_value.error();
  port = *port_value;
  return ok_result();
}

void encode_tls_state(WireWriter& out, const ControlTlsState& tls) {
  out.u8(tls.control_tls ? 1 : 0);
  out.u8(tls.pbsz_set ? 1 : 0);
  out.u8(tls.prot_private ? 1 : 0);
  out.bytes(tls.session);
}

Result<ControlTlsState> decode_tls_state(WireReader& in) {
  ControlTlsState tls;
  for (bool* field : {&tls.control_tls, &tls.pbsz_set, &tls.prot_private}) {
    auto value = decode_bool(in);
    if (!value) return value.error();
    *field = *value;
  }
  auto session = in.bytes(kMaxTlsSessionLength);
  if (!session) return session.error();
  tls.session = std::move(*session);
  // PBSZ, PROT and a TLS session exist only inside TLS.
  if (!tls.control_tls && (tls.pbsz_set || tls.prot_private || !tls.session.empty())) {
    return make_error("PBSZ/PROT/TLS session state without TLS");
  }
  return tls;
}

void encode_u64(WireWriter& out, std::uint64_t value) { out.u64(value); }

Result<std::uint64_t> decode_u64(WireReader& in) { return in.u64(); }

}  // namespace

std::string_view message_type_name(std::uint16_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kLoginRequest: return "LoginRequest";
    case MessageType::kLoginResult: return "LoginResult";
    case MessageType::kHandoff: return "Handoff";
    case MessageType::kBecomeUser: return "BecomeUser";
    case MessageType::kStandbyReady: return "StandbyReady";
    case MessageType::kStartSession: return "StartSession";
    case MessageType::kPassiveListen: return "PassiveListen";
    case MessageType::kPassiveReady: return "PassiveReady";
    case MessageType::kDataConnect: return "DataConnect";
    case MessageType::kDataReady: return "DataReady";
    case MessageType::kActiveTarget: return "ActiveTarget";
    case MessageType::kActiveReady: return "ActiveReady";
    case MessageType::kLogEvent: return "LogEvent";
    case MessageType::kTransferDone: return "TransferDone";
    case MessageType::kPamCheck: return "PamCheck";
    case MessageType::kPamVerdict: return "PamVerdict";
    case MessageType::kUserQuery: return "UserQuery";
    case MessageType::kUserAnswer: return "UserAnswer";
    case MessageType::kSignRequest: return "SignRequest";
    case MessageType::kSignResult: return "SignResult";
    case MessageType::kSessionStatus: return "SessionStatus";
    case MessageType::kQuotaQuery: return "QuotaQuery";
    case MessageType::kQuotaAllowance: return "QuotaAllowance";
    case MessageType::kQuotaUsed: return "QuotaUsed";
    case MessageType::kRateQuery: return "RateQuery";
    case MessageType::kRateAnswer: return "RateAnswer";
  }
  return "unknown";
}

Result<DecodedHeader> decode_header(std::string_view datagram) {
  WireReader in(datagram);
  auto type = in.u16();
  auto reserved = in.u16();
  auto length = in.u32();
  if (!type || !reserved || !length) return make_error("message shorter than its header");
  if (*reserved != 0) return make_error("reserved header field is not zero");
  if (*length > kMaxMonitorPayload) return make_error("payload length over the limit");
  if (*length != datagram.size() - kMonitorHeaderSize) {
    return make_error("payload length disagrees with the datagram size");
  }
  return DecodedHeader{*type, datagram.substr(kMonitorHeaderSize)};
}

void LoginRequest::encode(WireWriter& out) const {
  out.bytes(user);
  out.bytes(password);
}

Result<LoginRequest> LoginRequest::decode(WireReader& in) {
  auto user = in.bytes(kMaxLoginNameLength);
  if (!user) return user.error();
  auto password = in.bytes(kMaxPasswordLength);
  if (!password) return password.error();
  return LoginRequest{std::move(*user), std::move(*password)};
}

void LoginResult::encode(WireWriter& out) const { out.u8(static_cast<std::uint8_t>(status)); }

Result<LoginResult> LoginResult::decode(WireReader& in) {
  auto status = in.u8();
  if (!status) return status.error();
  if (*status < 1 || *status > 4) return make_error("login status out of range");
  return LoginResult{static_cast<LoginStatus>(*status)};
}

void UserQuery::encode(WireWriter& out) const { out.bytes(user); }

Result<UserQuery> UserQuery::decode(WireReader& in) {
  auto user = in.bytes(kMaxLoginNameLength);
  if (!user) return user.error();
  return UserQuery{std::move(*user)};
}

void SignRequest::encode(WireWriter& out) const {
  out.u16(static_cast<std::uint16_t>(scheme));
  out.bytes(digest);
}

Result<SignRequest> SignRequest::decode(WireReader& in) {
  auto code = in.u16();
  if (!code) return code.error();
  const auto info = describe_scheme(*code);
  if (!info) return make_error("unknown signature scheme " + std::to_string(*code));
  auto digest = in.bytes(kMaxDigestLength);
  if (!digest) return digest.error();
  if (digest->size() != info->digest_length) {
    return make_error("digest of " + std::to_string(digest->size()) + " bytes for scheme " +
                      std::to_string(*code));
  }
  return SignRequest{info->scheme, std::move(*digest)};
}

void SignResult::encode(WireWriter& out) const { out.bytes(signature); }

Result<SignResult> SignResult::decode(WireReader& in) {
  auto signature = in.bytes(kMaxSignatureLength);
  if (!signature) return signature.error();
  return SignResult{std::move(*signature)};
}

void UserAnswer::encode(WireWriter& out) const { out.u8(static_cast<std::uint8_t>(clear_login)); }

Result<UserAnswer> UserAnswer::decode(WireReader& in) {
  auto value = in.u8();
  if (!value) return value.error();
  if (*value < 1 || *value > 3) return make_error("clear-login answer out of range");
  return UserAnswer{static_cast<ClearLogin>(*value)};
}

void Handoff::encode(WireWriter& out) const {
  out.bytes(pending_input);
  encode_tls_state(out, tls);
}

Result<Handoff> Handoff::decode(WireReader& in) {
  auto pending = in.bytes(kMaxPendingInput);
  if (!pending) return pending.error();
  auto tls = decode_tls_state(in);
  if (!tls) return tls.error();
  return Handoff{std::move(*pending), *tls};
}

void BecomeUser::encode(WireWriter& out) const {
  out.bytes(name);
  out.u32(uid);
  out.u32(gid);
  out.bytes(root);
  out.u8(read_only ? 1 : 0);
  encode_session_policy(out, policy);
}

Result<BecomeUser> BecomeUser::decode(WireReader& in) {
  BecomeUser message;
  auto name = in.bytes(kMaxLoginNameLength);
  if (!name) return name.error();
  auto uid = in.u32();
  if (!uid) return uid.error();
  auto gid = in.u32();
  if (!gid) return gid.error();
  auto root = in.bytes(kMaxRootPathLength);
  if (!root) return root.error();
  auto read_only = decode_bool(in);
  if (!read_only) return read_only.error();
  message.read_only = *read_only;
  auto policy = decode_session_policy(in);
  if (!policy) return policy.error();
  message.policy = std::move(*policy);
  // SECURITY: a post-auth child never runs as root, whatever a message says.
  if (*uid == 0 || *gid == 0) return make_error("uid or gid 0 refused");
  message.name = std::move(*name);
  message.uid = *uid;
  message.gid = *gid;
  message.root = std::move(*root);
  return message;
}

void StandbyReady::encode(WireWriter& out) const {
  out.u8(ok ? 1 : 0);
  out.bytes(reason);
}

Result<StandbyReady> StandbyReady::decode(WireReader& in) {
  auto ok = decode_bool(in);
  if (!ok) return ok.error();
  auto reason = in.bytes(kMaxReasonLength);
  if (!reason) return reason.error();
  return StandbyReady{*ok, std::move(*reason)};
}

void StartSession::encode(WireWriter& out) const {
  out.bytes(pending_input);
  encode_tls_state(out, tls);
}

Result<StartSession> StartSession::decode(WireReader& in) {
  auto pending = in.bytes(kMaxPendingInput);
  if (!pending) return pending.error();
  auto tls = decode_tls_state(in);
  if (!tls) return tls.error();
  return StartSession{std::move(*pending), *tls};
}

void LogEvent::encode(WireWriter& out) const {
  out.u8(static_cast<std::uint8_t>(level));
  out.bytes(text);
}

Result<LogEvent> LogEvent::decode(WireReader& in) {
  auto level = in.u8();
  if (!level) return level.error();
  if (*level < 1 || *level > 4) return make_error("log level out of range");
  auto text = in.bytes(kMaxReasonLength);
  if (!text) return text.error();
  return LogEvent{static_cast<EventLevel>(*level), std::move(*text)};
}

void TransferDone::encode(WireWriter& out) const {
  out.u8(static_cast<std::uint8_t>(direction));
  out.u8(ascii ? 1 : 0);
  out.u8(complete ? 1 : 0);
  encode_u64(out, bytes);
  encode_u64(out, milliseconds);
  out.bytes(path);
}

Result<TransferDone> TransferDone::decode(WireReader& in) {
  TransferDone message;
  auto direction = decode_transfer_direction(in);
  if (!direction) return direction.error();
  message.direction = *direction;
  auto ascii = decode_bool(in);
  if (!ascii) return ascii.error();
  auto complete = decode_bool(in);
  if (!complete) return complete.error();
  auto bytes = decode_u64(in);
  if (!bytes) return bytes.error();
  auto milliseconds = decode_u64(in);
  if (!milliseconds) return milliseconds.error();
  // Signed 64-bit limits: what any file size or duration can be, and what the log prints.
  if (*bytes > 0x7fffffffffffffffull || *milliseconds > 0x7fffffffffffffffull) {
    return make_error("transfer size or duration out of range");
  }
  auto path = in.bytes(kMaxTransferPathLength);
  if (!path) return path.error();
  if (path->empty() || path->front() != '/') return make_error("transfer path is not absolute");
  message.ascii = *ascii;
  message.complete = *complete;
  message.bytes = *bytes;
  message.milliseconds = *milliseconds;
  message.path = std::move(*path);
  return message;
}

void PassiveListen::encode(WireWriter& out) const { out.u8(extended ? 1 : 0); }

Result<PassiveListen> PassiveListen::decode(WireReader& in) {
  auto extended = decode_bool(in);
  if (!extended) return extended.error();
  return PassiveListen{*extended};
}

void PassiveReady::encode(WireWriter& out) const {
  out.u8(static_cast<std::uint8_t>(status));
  encode_endpoint(out, family, address, port);
}

Result<PassiveReady> PassiveReady::decode(WireReader& in) {
  PassiveReady message;
  auto status = in.u8();
  if (!status) return status.error();
  if (*status < 1 || *status > 2) return make_error("passive status out of range");
  message.status = static_cast<PassiveStatus>(*status);
  auto endpoint = decode_endpoint(in, message.family, message.address, message.port);
  if (!endpoint) return endpoint.error();
  return message;
}

void DataConnect::encode(WireWriter& out) const { out.u8(static_cast<std::uint8_t>(purpose)); }

Result<DataConnect> DataConnect::decode(WireReader& in) {
  auto purpose = in.u8();
  if (!purpose) return purpose.error();
  if (*purpose < 1 || *purpose > 2) return make_error("data connection purpose out of range");
  return DataConnect{static_cast<DataPurpose>(*purpose)};
}

void DataReady::encode(WireWriter& out) const { out.u8(static_cast<std::uint8_t>(status)); }

Result<DataReady> DataReady::decode(WireReader& in) {
  auto status = in.u8();
  if (!status) return status.error();
  if (*status < 1 || *status > 4) return make_error("data status out of range");
  return DataReady{static_cast<DataStatus>(*status)};
}

void ActiveTarget::encode(WireWriter& out) const { encode_endpoint(out, family, address, port); }

Result<ActiveTarget> ActiveTarget::decode(WireReader& in) {
  ActiveTarget message;
  auto endpoint = decode_endpoint(in, message.family, message.address, message.port);
  if (!endpoint) return endpoint.error();
  return message;
}

void ActiveReady::encode(WireWriter& out) const { out.u8(static_cast<std::uint8_t>(status)); }

Result<ActiveReady> ActiveReady::decode(WireReader& in) {
  auto status = in.u8();
  if (!status) return status.error();
  if (*status < 1 || *status > 4) return make_error("active status out of range");
  return ActiveReady{static_cast<ActiveStatus>(*status)};
}

}  // namespace wftpd

namespace wftpd {

void SessionStatus::encode(WireWriter& out) const {
  out.u8(static_cast<std::uint8_t>(state));
  out.u8(static_cast<std::uint8_t>(direction));
  out.u64(bytes);
  out.u32(data_tls_handshakes);
  out.u32(data_tls_refusals);
  out.bytes(path);
}

Result<SessionStatus> SessionStatus::decode(WireReader& in) {
  SessionStatus message;
  auto state = in.u8();
  if (!state) return state.error();
  if (*state < 1 || *state > 2) return make_error("session state out of range");
  message.state = static_cast<SessionState>(*state);
  auto direction = decode_transfer_direction(in);
  if (!direction) return direction.error();
  message.direction = *direction;
  auto bytes = in.u64();
  if (!bytes) return bytes.error();
  if (*bytes > 0x7fffffffffffffffull) return make_error("transfer size out of range");
  message.bytes = *bytes;
  auto handshakes = in.u32();
  if (!handshakes) return handshakes.error();
  auto refusals = in.u32();
  if (!refusals) return refusals.error();
  message.data_tls_handshakes = *handshakes;
  message.data_tls_refusals = *refusals;
  auto path = in.bytes(kMaxStatusPathLength);
  if (!path) return path.error();
  if (message.state == SessionState::kTransfer && (path->empty() || path->front() != '/')) {
    return make_error("transfer path is not absolute");
  }
  if (message.state == SessionState::kIdle && !path->empty()) {
    return make_error("an idle session names no path");
  }
  message.path = std::move(*path);
  return message;
}

namespace {

Result<std::uint64_t> decode_allowance(WireReader& in, std::uint64_t max) {
  auto value = in.u64();
  if (!value) return value.error();
  if (*value > max && *value != kUnlimitedAllowance) return make_error("allowance out of range");
  return *value;
}

}  // namespace

void QuotaQuery::encode(WireWriter&) const {}

Result<QuotaQuery> QuotaQuery::decode(WireReader&) { return QuotaQuery{}; }

void QuotaAllowance::encode(WireWriter& out) const {
  out.u8(static_cast<std::uint8_t>(status));
  out.u64(bytes_left);
  out.u64(files_left);
}

Result<QuotaAllowance> QuotaAllowance::decode(WireReader& in) {
  QuotaAllowance message;
  auto status = in.u8();
  if (!status) return status.error();
  if (*status < 1 || *status > 3) return make_error("quota status out of range");
  message.status = static_cast<QuotaStatus>(*status);
  auto bytes = decode_allowance(in, kMaxByteSize);
  if (!bytes) return bytes.error();
  auto files = decode_allowance(in, kMaxQuotaFiles);
  if (!files) return files.error();
  message.bytes_left = *bytes;
  message.files_left = *files;
  return message;
}

void QuotaUsed::encode(WireWriter& out) const {
  out.u64(bytes_added);
  out.u64(bytes_removed);
  out.u32(files_added);
  out.u32(files_removed);
  out.u8(refused ? 1 : 0);
}

Result<QuotaUsed> QuotaUsed::decode(WireReader& in) {
  QuotaUsed message;
  auto added = in.u64();
  if (!added) return added.error();
  auto removed = in.u64();
  if (!removed) return removed.error();
  auto files_added = in.u32();
  if (!files_added) return files_added.error();
  auto files_removed = in.u32();
  if (!files_removed) return files_removed.error();
  auto refused = decode_bool(in);
  if (!refused) return refused.error();
  // One command changes one file: its size, and whether it came or went.
  if (*added > kMaxByteSize || *removed > kMaxByteSize || *files_added > 1 || *files_removed > 1) {
    return make_error("quota change out of range");
  }
  message.bytes_added = *added;
  message.bytes_removed = *removed;
  message.files_added = *files_added;
  message.files_removed = *files_removed;
  message.refused = *refused;
  return message;
}

}  // namespace wftpd

namespace wftpd {

Result<TransferDirection> decode_transfer_direction(WireReader& in) {
  auto direction = in.u8();
  if (!direction) return direction.error();
  if (*direction < 1 || *direction > 2) return make_error("transfer direction out of range");
  return static_cast<TransferDirection>(*direction);
}

void RateQuery::encode(WireWriter& out) const { out.u8(static_cast<std::uint8_t>(direction)); }

Result<RateQuery> RateQuery::decode(WireReader& in) {
  auto direction = decode_transfer_direction(in);
  if (!direction) return direction.error();
  return RateQuery{*direction};
}

void RateAnswer::encode(WireWriter& out) const { out.u64(bytes_per_second); }

Result<RateAnswer> RateAnswer::decode(WireReader& in) {
  auto rate = decode_byte_rate(in);
  if (!rate) return rate.error();
  return RateAnswer{*rate};
}

}  // namespace wftpd
