// The monitor's request table (MonitorDispatcher::dispatch) driven by fake children: arbitrary
// sequences of datagrams from the pre-auth and the post-auth child (well-formed messages of
// every type built from the input, raw datagrams, descriptors where none belong, closed
// channels, timeouts), with the real codec and the real LoginPolicy, and fake ports: nothing
// forks, listens, connects, sleeps or reads a file.
//
// Input: a flags byte for the configuration (anonymous_enable, pam_enable, tls_enable,
// require_tls_login, anon_require_tls, xferlog, user_deny of "mallory"), a second one (bit 0:
// require_tls_session_reuse=no, bit 1: upload_event_socket set), then steps; each step is an op byte (bit 0: sender, bits 1-4:
// what, bit 7: attach a descriptor) and its fields.
//
// Checked after every step: the hand-off goes in order (BecomeUser only for credentials a fake
// backend accepted, at most once; LoginResult accepted only after StandbyReady{ok}; StartSession
// only after Handoff, at most once); nothing of the post-auth phase (listening, connecting,
// transfer log) happens before StartSession; no more TransferDone lines than data connections
// handed out for file transfers, and never more than one permitted at a time; an upload event
// only with upload_event_socket set, for a TransferDone of a complete incoming transfer, at most
// one per TransferDone, its text bounded, one line of JSON, its on-disk path inside the logged-in
// account's root; no more refusals
// than max_login_attempts; the UserQuery answer is the policy's; signatures (SignRequest): only
// with tls_enable, the pre-auth child's only in the pre-auth phase and at most
// kMaxControlSignatures, the post-auth child's only with require_tls_session_reuse=no and never
// more than the data connections handed out; once dispatch() ends the session, the harness
// stops.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <iterator>
#include <string>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/monitor_channel.hpp"
#include "common/monitor_protocol.hpp"
#include "fuzz/fuzz_check.hpp"
#include "priv/login_policy.hpp"
#include "priv/monitor_dispatch.hpp"
#include "priv/upload_event.hpp"

namespace {

using namespace wftpd;

class FakePorts final : public MonitorPorts {
 public:
  Result<void> send(Child to, const std::string& datagram, int attached_fd) override {
    auto header = decode_header(datagram);
    FUZZ_CHECK(header.ok());
    const auto type = static_cast<MessageType>(header->type);
    // Only DataReady{kConnected} carries a descriptor.
    FUZZ_CHECK(attached_fd < 0 || type == MessageType::kDataReady);
    switch (type) {
      case MessageType::kBecomeUser: {
        auto become = decode_payload<BecomeUser>(header->payload);
        FUZZ_CHECK(become.ok() && become->uid != 0 && become->gid != 0);
        FUZZ_CHECK(to == Child::kPostauth && !become_sent);
        // Anonymous logins take any password; every other account was accepted by a backend.
        if (become->read_only) FUZZ_CHECK(anonymous_enabled && become->uid == 20099);
        else FUZZ_CHECK(accepted_credentials);
        become_sent = true;
        break;
      }
      case MessageType::kLoginResult: {
        FUZZ_CHECK(to == Child::kPreauth);
        auto result = decode_payload<LoginResult>(header->payload);
        FUZZ_CHECK(result.ok());
        if (result->status == LoginStatus::kAccepted) {
          FUZZ_CHECK(become_sent && standby_ok && !accepted_sent);
          accepted_sent = true;
        }
        if (result->status == LoginStatus::kRejected || result->status == LoginStatus::kRejectedFinal) {
          ++refusals;
        }
        break;
      }
      case MessageType::kStartSession:
        FUZZ_CHECK(to == Child::kPostauth && accepted_sent && handoff_seen && !started);
        started = true;
        break;
      case MessageType::kUserAnswer: {
        auto answer = decode_payload<UserAnswer>(header->payload);
        FUZZ_CHECK(to == Child::kPreauth && answer.ok() && answer->clear_login == expected_answer);
        break;
      }
      case MessageType::kPassiveReady:
      case MessageType::kActiveReady:
      case MessageType::kDataReady:
        FUZZ_CHECK(to == Child::kPostauth && started);
        break;
      case MessageType::kQuotaAllowance: {
        // An allowance decodes, and without the listener's answer is never a grant.
        auto allowance = decode_payload<QuotaAllowance>(header->payload);
        FUZZ_CHECK(to == Child::kPostauth && started && allowance.ok());
        if (quota_questions % 3 == 0 && quota_questions != 0 && asked_this_time) {
          FUZZ_CHECK(allowance->status == QuotaStatus::kUnavailable);
        }
        asked_this_time = false;
        break;
      }
      case MessageType::kRateAnswer: {
        auto answer = decode_payload<RateAnswer>(header->payload);
        FUZZ_CHECK(to == Child::kPostauth && started && answer.ok());
        break;
      }
      case MessageType::kSignResult: {
        // Only after the fake key signed, to the child that asked (the post-auth one once
        // the session started).
        auto result = decode_payload<SignResult>(header->payload);
        FUZZ_CHECK(result.ok() && !result->signature.empty() && signatures > 0);
        FUZZ_CHECK(to == (started ? Child::kPostauth : Child::kPreauth));
        break;
      }
      default:
        FUZZ_CHECK(false && "the monitor sent a message it never sends");
    }
    return ok_result();
  }
  void linger(Child) override {}
  void stop_preauth() override { FUZZ_CHECK(accepted_sent); }
  bool knows_virtual_user(std::string_view name) override { return name == "alice"; }
  LoginDecision check_virtual_user(std::string_view name, std::string_view password) override {
    LoginDecision decision;
    decision.accepted = name == "alice" && password == "secret";
    decision.user = decision.accepted ? &alice : nullptr;
    decision.log_reason = decision.accepted ? "" : "wrong password";
    accepted_credentials = accepted_credentials || decision.accepted;
    return decision;
  }
  Result<PamVerdict> check_pam(const PamCheck& check) override {
    FUZZ_CHECK(pam_enabled && check.user != "alice");
    PamVerdict verdict;
    if (check.user == "pamuser" && check.password == "pw") {
      verdict.outcome = PamOutcome::kAccepted;
      verdict.account = "pamuser";
      verdict.uid = verdict.gid = 30001;
      verdict.home = "/home/pamuser";
      accepted_credentials = true;
    } else if (check.user == "broken") {
      return make_error("PAM helper closed its socket");
    } else {
      verdict.outcome = PamOutcome::kAuthenticationFailed;
    }
    return verdict;
  }
  void end_login_phase() override {}
  std::chrono::steady_clock::time_point now() override { return {}; }
  void sleep_until(std::chrono::steady_clock::time_point) override {}
  // Whatever the monitor reports must survive the listener's decoder whole.
  void report(const wftpd::SessionReport& report) override {
    const std::string frame = wftpd::encode_report(report);
    FUZZ_CHECK(frame.size() <= wftpd::kMaxReportFrame);
    wftpd::ReportReader reader;
    reader.feed(frame);
    auto decoded = reader.next();
    FUZZ_CHECK(decoded && *decoded && (*decoded)->type == report.type && reader.buffered() == 0);
    // A child can make the listener count no more TLS handshakes or refusals than it was handed
    // data connections.
    if (report.type == wftpd::ReportType::kRateDemand) {
      // Only the end of the one transfer the listener counts for this session.
      FUZZ_CHECK(!report.active && demand_running);
      demand_running = false;
    }
    if (report.type == wftpd::ReportType::kStatus) {
      reported_handshakes += report.status.data_tls_handshakes;
      reported_refusals += report.status.data_tls_refusals;
      FUZZ_CHECK(reported_handshakes <= all_connections && reported_refusals <= all_connections);
    }
    // One file's change at most per report, and only after login.
    if (report.type == wftpd::ReportType::kQuotaUsed) {
      FUZZ_CHECK(started && report.files_added <= 1 && report.files_removed <= 1);
      FUZZ_CHECK(report.bytes_added <= wftpd::kMaxByteSize && report.bytes_removed <= wftpd::kMaxByteSize);
    }
  }
  // The listener's answer, as varied as the names the input logs in with.
  bool claim_user_session(std::string_view user, std::uint32_t limit) override {
    FUZZ_CHECK(!user.empty() && limit > 0);
    return user.size() % 2 == 0;
  }
  // The listener's quota answer, as varied as the limits asked about; never before login.
  std::optional<wftpd::ListenerNotice> ask_quota(std::uint32_t uploads_per_hour, bool wants_usage) override {
    FUZZ_CHECK(started);
    FUZZ_CHECK(uploads_per_hour != 0 || wants_usage);
    asked_this_time = true;
    if (++quota_questions % 3 == 0) return std::nullopt;
    wftpd::ListenerNotice answer;
    answer.type = wftpd::NoticeType::kQuotaAnswer;
    answer.granted = quota_questions % 2 == 0;
    answer.usage_known = wants_usage;
    answer.used_bytes = quota_questions * 1000;
    answer.used_files = quota_questions;
    return answer;
  }
  std::uint64_t quota_questions = 0;
  bool asked_this_time = false;
  // SECURITY: the listener counts at most one running transfer per session, and only one the
  // monitor handed a file transfer's data connection out for.
  std::uint64_t start_rate_demand(const wftpd::SessionReport& demand) override {
    FUZZ_CHECK(started && demand.type == wftpd::ReportType::kRateDemand && demand.active);
    FUZZ_CHECK(!demand_running && ++demands <= connections);
    demand_running = true;
    wftpd::ReportReader reader;
    reader.feed(wftpd::encode_report(demand));
    auto decoded = reader.next();
    FUZZ_CHECK(decoded && *decoded && (*decoded)->active && (*decoded)->user_rate == demand.user_rate);
    return demand.session_rate / 2;
  }
  std::uint64_t rate_share(wftpd::TransferDirection) override {
    FUZZ_CHECK(demand_running);
    return 1;
  }
  bool demand_running = false;
  std::uint32_t demands = 0;
  std::uint64_t reported_handshakes = 0;
  std::uint64_t reported_refusals = 0;
  PassiveReady passive_listen() override {
    FUZZ_CHECK(started);
    PassiveReady ready;
    ready.status = PassiveStatus::kListening;
    ready.port = 40000;
    return ready;
  }
  void close_passive() override { FUZZ_CHECK(started); }
  ActiveStatus set_active_target(const ActiveTarget& target) override {
    FUZZ_CHECK(started);
    return target.port >= 1024 ? ActiveStatus::kAccepted : ActiveStatus::kPrivilegedPort;
  }
  void clear_active_target() override { FUZZ_CHECK(started); }
  DataStatus open_data_connection(UniqueFd& connection) override {
    FUZZ_CHECK(started);
    if ((++connects & 1) == 0) return DataStatus::kTimedOut;
    connection.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (requested_purpose == DataPurpose::kFileTransfer) ++connections;
    ++all_connections;
    return DataStatus::kConnected;
  }
  Result<std::string> sign_handshake(const SignRequest& request) override {
    ++signatures;
    // The fake key is an EC key: an RSA scheme is what a lying child would send.
    const auto info = describe_scheme(static_cast<std::uint16_t>(request.scheme));
    FUZZ_CHECK(info.has_value() && request.digest.size() == info->digest_length);
    if (info->family != KeyFamily::kEc) return make_error("scheme does not fit the key");
    return std::string(70, '\x30');
  }
  bool keeps_transfer_log() const override { return xferlog; }
  void append_transfer_log(const std::string& line) override {
    FUZZ_CHECK(started && !line.empty() && line.back() == '\n');
    FUZZ_CHECK(line.find('\n') == line.size() - 1);
  }

  void publish_upload(const UploadEvent& event) override {
    FUZZ_CHECK(started && upload_events);
    ++uploads_published;
    FUZZ_CHECK(event.root == "/srv/alice" || event.root == "/srv/ftp" || event.root == "/home/pamuser");
    // What the live port does with it: the formatter, with hostile paths.
    auto text = format_upload_event(event, 42, timespec{1796057678, 123000000});
    auto disk_path = upload_disk_path(event.root, event.path);
    FUZZ_CHECK(text.ok() == disk_path.ok());
    if (!text) return;
    FUZZ_CHECK(disk_path->starts_with(std::string(event.root) + "/"));
    FUZZ_CHECK(disk_path->find("/../") == std::string::npos && !disk_path->ends_with("/.."));
    FUZZ_CHECK(text->size() <= kMaxUploadEventBytes && text->front() == '{' && text->back() == '}');
    for (const char c : *text) {
      FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    }
  }

  VirtualUser alice{"alice", "", 20001, 20001, "/srv/alice", ""};
  bool pam_enabled = false;
  bool anonymous_enabled = false;
  bool xferlog = false;
  bool upload_events = false;
  std::uint32_t uploads_published = 0;
  bool accepted_credentials = false;
  bool become_sent = false;
  bool standby_ok = false;
  bool accepted_sent = false;
  bool handoff_seen = false;
  bool started = false;
  ClearLogin expected_answer = ClearLogin::kAllowed;
  std::uint32_t refusals = 0;
  std::uint32_t connects = 0;
  std::uint32_t connections = 0;  // handed out for file transfers
  std::uint32_t all_connections = 0;  // handed out for anything
  std::uint32_t signatures = 0;
  DataPurpose requested_purpose = DataPurpose::kFileTransfer;  // of the DataConnect being handled
};

std::string field(fuzz::Input& in) { return std::string(in.take(in.byte() % 40)); }

// A datagram for step `what`, built from the input; empty for the non-message events.
std::string make_datagram(unsigned what, fuzz::Input& in, FakePorts& ports, const LoginPolicy& policy) {
  switch (what) {
    case 0: return std::string(in.take(in.byte()));  // raw bytes: header and all
    case 1: {
      static const char* const kNames[] = {"alice", "anonymous", "pamuser", "broken", "mallory", "Anonymous"};
      const std::uint8_t pick = in.byte();
      LoginRequest request{pick < 192 ? kNames[pick % 6] : field(in), pick % 2 ? "secret" : "pw"};
      return encode_message(request);
    }
    case 2: {
      UserQuery query{field(in)};
      ports.expected_answer = policy.clear_login(query.user);
      return encode_message(query);
    }
    case 3: return encode_message(LogEvent{static_cast<EventLevel>(1 + in.byte() % 4), field(in)});
    case 4: return encode_message(StandbyReady{(in.byte() & 1) != 0, field(in)});
    case 5: {
      Handoff handoff;
      handoff.pending_input = field(in);
      handoff.tls.control_tls = (in.byte() & 1) != 0;
      return encode_message(handoff);
    }
    case 6: return encode_message(PassiveListen{(in.byte() & 1) != 0});
    case 7: {
      ActiveTarget target;
      target.port = in.integer<std::uint16_t>();
      return encode_message(target);
    }
    case 8: {
      DataConnect connect{(in.byte() & 1) ? DataPurpose::kListing : DataPurpose::kFileTransfer};
      ports.requested_purpose = connect.purpose;
      return encode_message(connect);
    }
    case 12: {
      static constexpr std::uint16_t kCodes[] = {0x0401, 0x0501, 0x0601, 0x0403, 0x0503,
                                                 0x0603, 0x0804, 0x0805, 0x0806};
      const auto info = describe_scheme(kCodes[in.byte() % std::size(kCodes)]);
      return encode_message(SignRequest{info->scheme, std::string(info->digest_length, 'd')});
    }
    case 9: {
      TransferDone done;
      const std::uint8_t bits = in.byte();
      done.direction = (bits & 1) ? TransferDirection::kIncoming : TransferDirection::kOutgoing;
      done.complete = (bits & 2) != 0;
      done.bytes = in.integer<std::uint32_t>();
      done.path = "/" + field(in);
      return encode_message(done);
    }
    case 13: {
      SessionStatus status;
      status.state = (in.byte() & 1) ? SessionState::kTransfer : SessionState::kIdle;
      if (status.state == SessionState::kTransfer) status.path = "/" + field(in);
      status.bytes = in.integer<std::uint32_t>();
      status.data_tls_handshakes = in.byte();
      status.data_tls_refusals = in.byte();
      return encode_message(status);
    }
    case 14: return encode_message(QuotaQuery{});
    case 15: {
      QuotaUsed used;
      const std::uint8_t bits = in.byte();
      used.bytes_added = (bits & 1) ? in.integer<std::uint64_t>() : in.integer<std::uint32_t>();
      used.bytes_removed = (bits & 2) ? in.integer<std::uint64_t>() : in.integer<std::uint32_t>();
      used.files_added = (bits >> 2) & 3;
      used.files_removed = (bits >> 4) & 3;
      used.refused = (bits & 64) != 0;
      return encode_message(used);
    }
    case 16:
      return encode_message(RateQuery{(in.byte() & 1) ? TransferDirection::kIncoming
                                                      : TransferDirection::kOutgoing});
    default: return {};
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  set_log_level(LogLevel::kDebug);  // every log line is built (and escaped) like in production
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t flags = in.byte();
  Config config;
  config.anonymous_enable = (flags & 1) != 0;
  config.anon_uid = config.anon_gid = 20099;
  config.anon_root = "/srv/ftp";
  config.pam_enable = (flags & 2) != 0;
  config.tls_enable = (flags & 4) != 0;
  config.require_tls_login = (flags & 8) != 0;
  config.anon_require_tls = (flags & 16) != 0;
  config.xferlog_enable = (flags & 32) != 0;
  if ((flags & 64) != 0) config.user_deny = {"mallory"};
  const std::uint8_t more_flags = in.byte();
  config.require_tls_session_reuse = (more_flags & 1) == 0;
  if ((more_flags & 2) != 0) config.upload_event_socket = "/run/wardenftpd-upload-scan/events";
  // Classes: alice's (from the users file) limits her sessions, so the monitor asks the fake
  // listener for a place; its networks hold the client or not.
  if ((more_flags & 4) != 0) {
    UserClass limited{"limited", config.policy};
    limited.policy.class_name = "limited";
    limited.policy.max_sessions_per_user = 1;
    limited.policy.permissions = static_cast<std::uint32_t>(Permission::kRead);
    limited.policy.allow_networks = {(more_flags & 8) != 0 ? "192.0.2.0/24" : "198.51.100.0/24"};
    config.classes.push_back(std::move(limited));
  }
  if ((more_flags & 16) != 0) config.policy.quota_bytes = 1u << 20;
  if ((more_flags & 32) != 0) config.policy.upload_files_per_hour = 3;
  if ((more_flags & 64) != 0) config.max_download_rate = 1 << 20;
  if ((more_flags & 128) != 0) config.max_upload_rate = 1 << 20;
  const LoginPolicy policy(config);
  FakePorts ports;
  ports.pam_enabled = config.pam_enable;
  if ((more_flags & 4) != 0) ports.alice.user_class = "limited";
  ports.anonymous_enabled = config.anonymous_enable;
  ports.xferlog = config.xferlog_enable;
  ports.upload_events = !config.upload_event_socket.empty();
  MonitorDispatcher dispatcher(config, ports, "192.0.2.1", flags >> 7);
  std::uint32_t transfers = 0;
  std::uint32_t control_signatures = 0;
  std::uint32_t data_signatures = 0;
  for (int steps = 0; steps < 64 && !in.empty(); ++steps) {
    const std::uint8_t op = in.byte();
    const Child from = (op & 1) ? Child::kPostauth : Child::kPreauth;
    // 0..16: the request kinds of make_datagram, and 10 (closed) and 11 (timeout).
    const unsigned what = (((op >> 1) & 0x0f) | ((op & 0x40) != 0 ? 0x10 : 0)) % 17;
    Step step = Step::kContinue;
    if (what == 10) {
      step = dispatcher.on_closed(from, (op & 0x80) ? "broken" : "");
    } else if (what == 11) {
      step = dispatcher.on_timeout();
    } else {
      const std::string datagram = make_datagram(what, in, ports, policy);
      auto header = decode_header(datagram);
      if (!header) continue;  // the channel would have refused it before dispatch
      ReceivedMessage message;
      message.type = header->type;
      message.payload = std::string(header->payload);
      if ((op & 0x80) != 0) message.attached_fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      // What the message claims, noted before the dispatcher acts on it (it answers inside).
      if (message.type == static_cast<std::uint16_t>(MessageType::kStandbyReady)) {
        auto ready = decode_payload<StandbyReady>(message.payload);
        if (ready && ready->ok) ports.standby_ok = true;
      }
      if (message.type == static_cast<std::uint16_t>(MessageType::kHandoff)) ports.handoff_seen = true;
      bool complete_upload = false;
      if (message.type == static_cast<std::uint16_t>(MessageType::kTransferDone)) {
        auto done = decode_payload<TransferDone>(message.payload);
        complete_upload = done && done->complete && done->direction == TransferDirection::kIncoming;
      }
      const std::uint32_t permits_before = dispatcher.permits(Permit::kTransferDone);
      const Phase phase_before = dispatcher.phase();
      const std::uint32_t signatures_before = ports.signatures;
      const std::uint32_t uploads_before = ports.uploads_published;
      step = dispatcher.dispatch(from, message);
      if (ports.uploads_published != uploads_before) {
        FUZZ_CHECK(ports.uploads_published == uploads_before + 1 && complete_upload);
      }
      if (ports.signatures != signatures_before) {
        // SECURITY: the signing oracle's rules.
        FUZZ_CHECK(config.tls_enable);
        if (from == Child::kPreauth) {
          FUZZ_CHECK(phase_before == Phase::kPreauth);
          FUZZ_CHECK(++control_signatures <= kMaxControlSignatures);
        } else {
          FUZZ_CHECK(phase_before == Phase::kPostauth && !config.require_tls_session_reuse);
          FUZZ_CHECK(++data_signatures <= ports.all_connections);
        }
      }
      if (step == Step::kContinue && message.type == static_cast<std::uint16_t>(MessageType::kTransferDone)) {
        FUZZ_CHECK(permits_before > 0);
        ++transfers;
      }
    }
    FUZZ_CHECK(transfers <= ports.connections);
    FUZZ_CHECK(dispatcher.permits(Permit::kTransferDone) <= 1);
    FUZZ_CHECK(ports.refusals <= config.max_login_attempts);
    FUZZ_CHECK(!ports.started || dispatcher.phase() == Phase::kPostauth);
    if (step == Step::kEndSession) break;
  }
  return 0;
}
