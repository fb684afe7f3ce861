#include "common/monitor_protocol.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/monitor_channel.hpp"

namespace wftpd {
namespace {

template <class Message>
Result<Message> round_trip(const Message& message) {
  const std::string datagram = encode_message(message);
  auto header = decode_header(datagram);
  if (!header) return header.error();
  if (header->type != static_cast<std::uint16_t>(Message::kType)) return make_error("type");
  return decode_payload<Message>(header->payload);
}

TEST(MonitorProtocol, LoginRequestRoundTrips) {
  auto decoded = round_trip(LoginRequest{"alice", std::string("pa\0ss", 5)});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->user, "alice");
  EXPECT_EQ(decoded->password, std::string("pa\0ss", 5));
}

TEST(MonitorProtocol, PassiveReadyRoundTrips) {
  PassiveReady ready;
  ready.status = PassiveStatus::kListening;
  ready.family = AddressFamily::kIpv6;
  ready.address[15] = 1;
  ready.port = 50123;
  auto decoded = round_trip(ready);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->port, 50123);
  EXPECT_EQ(decoded->address[15], 1);
  EXPECT_EQ(decoded->family, AddressFamily::kIpv6);
}

TEST(MonitorProtocol, TrailingBytesAreRejected) {
  std::string datagram = encode_message(LoginResult{LoginStatus::kAccepted});
  datagram += 'x';
  // Header length now disagrees with the datagram.
  EXPECT_FALSE(decode_header(datagram).ok());
  // Even with a consistent header, an extra payload byte is refused.
  const std::string handoff = encode_message(Handoff{"ab", {}});
  auto header = decode_header(handoff);
  ASSERT_TRUE(header.ok());
  std::string payload(header->payload);
  payload += 'x';
  EXPECT_FALSE(decode_payload<Handoff>(payload).ok());
}

TEST(MonitorProtocol, LengthFieldOverTheBoundIsRejectedBeforeCopying) {
  // A user name field claiming 60000 bytes.
  std::string payload = "\xea\x60";
  payload += std::string(10, 'a');
  EXPECT_FALSE(decode_payload<LoginRequest>(payload).ok());
}

TEST(MonitorProtocol, TruncatedFieldIsRejected) {
  const std::string payload("\x00\x05" "ab", 4);
  EXPECT_FALSE(decode_payload<LoginRequest>(payload).ok());
}

TEST(MonitorProtocol, NonZeroReservedHeaderFieldIsRejected) {
  std::string datagram = encode_message(DataConnect{});
  datagram[3] = 1;
  EXPECT_FALSE(decode_header(datagram).ok());
}

TEST(MonitorProtocol, ShortHeaderIsRejected) {
  EXPECT_FALSE(decode_header(std::string("\x00\x01\x00", 3)).ok());
}

TEST(MonitorProtocol, OutOfRangeEnumsAreRejected) {
  EXPECT_FALSE(decode_payload<LoginResult>(std::string("\x00", 1)).ok());
  EXPECT_FALSE(decode_payload<LoginResult>(std::string("\x05", 1)).ok());
  EXPECT_FALSE(decode_payload<PassiveListen>(std::string("\x02", 1)).ok());
  EXPECT_FALSE(decode_payload<DataReady>(std::string("\x09", 1)).ok());
}

TEST(MonitorProtocol, DataConnectSaysWhatTheConnectionIsFor) {
  for (const DataPurpose purpose : {DataPurpose::kFileTransfer, DataPurpose::kListing}) {
    auto decoded = round_trip(DataConnect{purpose});
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->purpose, purpose);
  }
  EXPECT_FALSE(decode_payload<DataConnect>(std::string()).ok());
  EXPECT_FALSE(decode_payload<DataConnect>(std::string("\x00", 1)).ok());
  EXPECT_FALSE(decode_payload<DataConnect>(std::string("\x03", 1)).ok());
  EXPECT_FALSE(decode_payload<DataConnect>(std::string("\x01\x00", 2)).ok());
}

TEST(MonitorProtocol, BecomeUserRefusesRoot) {
  EXPECT_FALSE(round_trip(BecomeUser{"root", 0, 0, "/", false, {}}).ok());
  EXPECT_FALSE(round_trip(BecomeUser{"x", 1000, 0, "/srv", false, {}}).ok());
  EXPECT_TRUE(round_trip(BecomeUser{"x", 1000, 1000, "/srv", false, {}}).ok());
}

TEST(MonitorProtocol, BecomeUserCarriesTheSessionsPolicy) {
  SessionPolicy policy;
  policy.class_name = "partners";
  policy.permissions = static_cast<std::uint32_t>(Permission::kRead) |
                       static_cast<std::uint32_t>(Permission::kList);
  policy.local_umask = 077;
  policy.deny_names = {"*.php", ".htaccess"};
  policy.hide_names = {".*"};
  policy.upload_name_max_bytes = 100;
  policy.upload_names_plain = false;
  policy.utf8_names_only = true;
  policy.quota_bytes = 1ull << 40;
  policy.quota_files = 5000;
  policy.max_file_size = 1ull << 30;
  policy.upload_files_per_hour = 60;
  auto decoded = round_trip(BecomeUser{"x", 1000, 1000, "/srv", false, policy});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->policy.class_name, "partners");
  EXPECT_EQ(decoded->policy.permissions, policy.permissions);
  EXPECT_EQ(decoded->policy.local_umask, 077u);
  EXPECT_EQ(decoded->policy.deny_names, policy.deny_names);
  EXPECT_EQ(decoded->policy.hide_names, policy.hide_names);
  EXPECT_EQ(decoded->policy.upload_name_max_bytes, 100u);
  EXPECT_FALSE(decoded->policy.upload_names_plain);
  EXPECT_TRUE(decoded->policy.utf8_names_only);
  EXPECT_EQ(decoded->policy.quota_bytes, 1ull << 40);
  EXPECT_EQ(decoded->policy.quota_files, 5000u);
  EXPECT_EQ(decoded->policy.max_file_size, 1ull << 30);
  EXPECT_EQ(decoded->policy.upload_files_per_hour, 60u);
  // What the configuration parser would refuse is refused on the wire too.
  using Break = void (*)(SessionPolicy&);
  for (Break broken : std::initializer_list<Break>{[](SessionPolicy& p) { p.permissions = 1u << 20; },
                      [](SessionPolicy& p) { p.local_umask = 01000; },
                      [](SessionPolicy& p) { p.class_name = "bad name"; },
                      [](SessionPolicy& p) { p.deny_names = {"a/b"}; },
                      [](SessionPolicy& p) { p.upload_name_max_bytes = 0; },
                      [](SessionPolicy& p) { p.quota_bytes = kMaxByteSize + 1; },
                      [](SessionPolicy& p) { p.max_file_size = ~0ull; },
                      [](SessionPolicy& p) { p.quota_files = kMaxQuotaFiles + 1; },
                      [](SessionPolicy& p) { p.upload_files_per_hour = kMaxUploadsPerHour + 1; }}) {
    SessionPolicy bad;
    broken(bad);
    EXPECT_FALSE(round_trip(BecomeUser{"x", 1000, 1000, "/srv", false, bad}).ok());
  }
}

TEST(MonitorProtocol, QuotaMessagesRoundTripWithinTheirBounds) {
  EXPECT_TRUE(round_trip(QuotaQuery{}).ok());
  auto allowance = round_trip(QuotaAllowance{QuotaStatus::kGranted, 1234, kUnlimitedAllowance});
  ASSERT_TRUE(allowance.ok()) << allowance.error().message;
  EXPECT_EQ(allowance->status, QuotaStatus::kGranted);
  EXPECT_EQ(allowance->bytes_left, 1234u);
  EXPECT_EQ(allowance->files_left, kUnlimitedAllowance);
  EXPECT_FALSE(round_trip(QuotaAllowance{static_cast<QuotaStatus>(4), 0, 0}).ok());
  EXPECT_FALSE(round_trip(QuotaAllowance{QuotaStatus::kGranted, kMaxByteSize + 1, 0}).ok());
  EXPECT_FALSE(round_trip(QuotaAllowance{QuotaStatus::kGranted, 0, kMaxQuotaFiles + 1}).ok());

  QuotaUsed used;
  used.bytes_added = 500;
  used.bytes_removed = 200;
  used.files_added = 1;
  used.refused = true;
  auto decoded = round_trip(used);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->bytes_added, 500u);
  EXPECT_EQ(decoded->bytes_removed, 200u);
  EXPECT_EQ(decoded->files_added, 1u);
  EXPECT_EQ(decoded->files_removed, 0u);
  EXPECT_TRUE(decoded->refused);
  // One command changes one file, of at most kMaxByteSize bytes: a child cannot claim more.
  for (auto broken : std::initializer_list<void (*)(QuotaUsed&)>{
           [](QuotaUsed& u) { u.files_added = 2; }, [](QuotaUsed& u) { u.files_removed = 7; },
           [](QuotaUsed& u) { u.bytes_added = kMaxByteSize + 1; },
           [](QuotaUsed& u) { u.bytes_removed = ~0ull; }}) {
    QuotaUsed bad;
    broken(bad);
    EXPECT_FALSE(round_trip(bad).ok());
  }
  EXPECT_FALSE(decode_payload<QuotaQuery>(std::string("\x00", 1)).ok());  // trailing byte
}

TEST(MonitorProtocol, HandoffCarriesTheControlTlsState) {
  auto decoded = round_trip(Handoff{"PWD\r\n", {true, true, true, "\x30\x01"}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->pending_input, "PWD\r\n");
  EXPECT_TRUE(decoded->tls.control_tls);
  EXPECT_TRUE(decoded->tls.pbsz_set);
  EXPECT_TRUE(decoded->tls.prot_private);
  EXPECT_EQ(decoded->tls.session, "\x30\x01");
  auto partial = round_trip(Handoff{"", {true, true, false, ""}});
  ASSERT_TRUE(partial.ok());
  EXPECT_TRUE(partial->tls.pbsz_set);
  EXPECT_FALSE(partial->tls.prot_private);
}

TEST(MonitorProtocol, StartSessionCarriesTheControlTlsState) {
  auto decoded = round_trip(StartSession{"LIST\r\n", {true, false, false, ""}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->pending_input, "LIST\r\n");
  EXPECT_TRUE(decoded->tls.control_tls);
  EXPECT_FALSE(decoded->tls.pbsz_set);
  EXPECT_FALSE(decoded->tls.prot_private);
  auto clear = round_trip(StartSession{"", {}});
  ASSERT_TRUE(clear.ok());
  EXPECT_FALSE(clear->tls.control_tls);
}

// Payload of a Handoff or StartSession: empty pending input, the three TLS flags, then the
// TLS session (u16 length + bytes).
std::string tls_state_payload(std::uint8_t control_tls, std::uint8_t pbsz, std::uint8_t prot,
                              std::string_view session = {}) {
  return std::string("\x00\x00", 2) + static_cast<char>(control_tls) + static_cast<char>(pbsz) +
         static_cast<char>(prot) + static_cast<char>(session.size() >> 8) +
         static_cast<char>(session.size() & 0xff) + std::string(session);
}

TEST(MonitorProtocol, TlsSessionOnlyWithControlTlsAndBounded) {
  EXPECT_TRUE(decode_payload<Handoff>(tls_state_payload(1, 0, 0, "abc")).ok());
  EXPECT_FALSE(decode_payload<Handoff>(tls_state_payload(0, 0, 0, "abc")).ok());
  EXPECT_TRUE(decode_payload<StartSession>(
                  tls_state_payload(1, 0, 0, std::string(kMaxTlsSessionLength, 'x')))
                  .ok());
  EXPECT_FALSE(decode_payload<StartSession>(
                   tls_state_payload(1, 0, 0, std::string(kMaxTlsSessionLength + 1, 'x')))
                   .ok());
}

TEST(MonitorProtocol, PbszOrProtWithoutControlTlsIsRejected) {
  EXPECT_TRUE(decode_payload<Handoff>(tls_state_payload(0, 0, 0)).ok());
  EXPECT_TRUE(decode_payload<Handoff>(tls_state_payload(1, 1, 1)).ok());
  EXPECT_FALSE(decode_payload<Handoff>(tls_state_payload(0, 1, 0)).ok());
  EXPECT_FALSE(decode_payload<Handoff>(tls_state_payload(0, 0, 1)).ok());
  EXPECT_FALSE(decode_payload<StartSession>(tls_state_payload(0, 1, 1)).ok());
  EXPECT_FALSE(decode_payload<StartSession>(tls_state_payload(0, 0, 1)).ok());
  EXPECT_TRUE(decode_payload<StartSession>(tls_state_payload(1, 0, 0)).ok());
}

TEST(MonitorProtocol, TlsFlagsOutOfRangeAreRejected) {
  EXPECT_FALSE(decode_payload<Handoff>(tls_state_payload(2, 0, 0)).ok());
  EXPECT_FALSE(decode_payload<StartSession>(tls_state_payload(1, 1, 0xff)).ok());
  // A Handoff cut before its TLS flags.
  EXPECT_FALSE(decode_payload<Handoff>(std::string("\x00\x00\x01", 3)).ok());
}

TEST(MonitorProtocol, LogEventRoundTrips) {
  auto decoded = round_trip(LogEvent{EventLevel::kWarning, "control connection: TLS refused"});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->level, EventLevel::kWarning);
  EXPECT_EQ(decoded->text, "control connection: TLS refused");
  auto longest = round_trip(LogEvent{EventLevel::kDebug, std::string(kMaxReasonLength, 'x')});
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->text.size(), kMaxReasonLength);
}

TEST(MonitorProtocol, LogEventLevelOutOfRangeIsRejected) {
  EXPECT_FALSE(decode_payload<LogEvent>(std::string("\x00\x00\x00", 3)).ok());
  EXPECT_FALSE(decode_payload<LogEvent>(std::string("\x05\x00\x00", 3)).ok());
  EXPECT_TRUE(decode_payload<LogEvent>(std::string("\x04\x00\x00", 3)).ok());
}

TEST(MonitorProtocol, LogEventTextOverTheBoundIsRejected) {
  WireWriter payload;
  payload.u8(static_cast<std::uint8_t>(EventLevel::kError));
  payload.bytes(std::string(kMaxReasonLength + 1, 'x'));
  EXPECT_FALSE(decode_payload<LogEvent>(payload.data()).ok());
}

TEST(MonitorProtocol, RateQueryAndAnswerRoundTrip) {
  auto query = round_trip(RateQuery{TransferDirection::kIncoming});
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->direction, TransferDirection::kIncoming);
  auto answer = round_trip(RateAnswer{kMaxByteRate});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->bytes_per_second, kMaxByteRate);
}

TEST(MonitorProtocol, MalformedRateMessagesAreRejected) {
  EXPECT_FALSE(decode_payload<RateQuery>(std::string("\x00", 1)).ok());
  EXPECT_FALSE(decode_payload<RateQuery>(std::string("\x03", 1)).ok());
  EXPECT_FALSE(decode_payload<RateQuery>(std::string("\x01\x00", 2)).ok());
  EXPECT_FALSE(decode_payload<RateAnswer>(std::string(7, '\0')).ok());
  EXPECT_FALSE(decode_payload<RateAnswer>(std::string("\x00\x00\x01\x00\x00\x00\x00\x01", 8)).ok());
  EXPECT_TRUE(decode_payload<RateAnswer>(std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8)).ok());
}

TEST(MonitorProtocol, BecomeUserCarriesTheRates) {
  SessionPolicy policy;
  policy.download_rate = 100000;
  policy.upload_rate = 256 << 10;
  policy.user_download_rate = 1 << 20;
  policy.user_upload_rate = kMaxByteRate;
  auto decoded = round_trip(BecomeUser{"alice", 1000, 1000, "/srv/alice", false, policy});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->policy.download_rate, 100000u);
  EXPECT_EQ(decoded->policy.upload_rate, 256u << 10);
  EXPECT_EQ(decoded->policy.user_download_rate, 1u << 20);
  EXPECT_EQ(decoded->policy.user_upload_rate, kMaxByteRate);
  policy.user_upload_rate = kMaxByteRate + 1;
  EXPECT_FALSE(round_trip(BecomeUser{"alice", 1000, 1000, "/srv/alice", false, policy}).ok());
}

TEST(MonitorProtocol, TransferDoneRoundTrips) {
  TransferDone done;
  done.direction = TransferDirection::kIncoming;
  done.ascii = true;
  done.complete = false;
  done.bytes = 0x123456789abcull;
  done.milliseconds = 4321;
  done.path = "/up/a b\n\xff";
  auto decoded = round_trip(done);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->direction, TransferDirection::kIncoming);
  EXPECT_TRUE(decoded->ascii);
  EXPECT_FALSE(decoded->complete);
  EXPECT_EQ(decoded->bytes, 0x123456789abcull);
  EXPECT_EQ(decoded->milliseconds, 4321u);
  EXPECT_EQ(decoded->path, done.path);
}

TEST(MonitorProtocol, TransferDoneOutOfRangeFieldsAreRejected) {
  const auto payload = [](std::uint8_t direction, std::uint8_t flag, std::uint32_t bytes_high,
                          std::string_view path, std::size_t path_length = 0) {
    WireWriter out;
    out.u8(direction);
    out.u8(flag);
    out.u8(1);
    out.u32(bytes_high);
    out.u32(0);
    out.u32(0);
    out.u32(5);
    out.bytes(path_length == 0 ? std::string(path) : std::string(path_length, '/'));
    return out.take();
  };
  EXPECT_TRUE(decode_payload<TransferDone>(payload(1, 0, 0, "/f")).ok());
  EXPECT_FALSE(decode_payload<TransferDone>(payload(0, 0, 0, "/f")).ok());   // direction
  EXPECT_FALSE(decode_payload<TransferDone>(payload(3, 0, 0, "/f")).ok());
  EXPECT_FALSE(decode_payload<TransferDone>(payload(2, 2, 0, "/f")).ok());   // boolean
  EXPECT_FALSE(decode_payload<TransferDone>(payload(2, 0, 0x80000000u, "/f")).ok());  // 2^63
  EXPECT_FALSE(decode_payload<TransferDone>(payload(2, 0, 0, "f")).ok());    // relative
  EXPECT_FALSE(decode_payload<TransferDone>(payload(2, 0, 0, "")).ok());
  EXPECT_TRUE(decode_payload<TransferDone>(payload(2, 0, 0, "", kMaxTransferPathLength)).ok());
  EXPECT_FALSE(decode_payload<TransferDone>(payload(2, 0, 0, "", kMaxTransferPathLength + 1)).ok());
}

TEST(MonitorChannel, DescriptorTravelsWithMessage) {
  auto pair = make_monitor_socketpair();
  ASSERT_TRUE(pair.ok());
  MonitorChannel a(std::move(pair->first));
  MonitorChannel b(std::move(pair->second));
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_TRUE(a.send(DataReady{DataStatus::kConnected}, pipe_fds[1]).ok());
  ::close(pipe_fds[1]);
  UniqueFd received;
  auto ready = b.expect<DataReady>(&received);
  ASSERT_TRUE(ready.ok());
  ASSERT_TRUE(received.valid());
  ASSERT_EQ(::write(received.get(), "z", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(pipe_fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'z');
  ::close(pipe_fds[0]);
}

TEST(MonitorChannel, UnexpectedTypeIsAnError) {
  auto pair = make_monitor_socketpair();
  ASSERT_TRUE(pair.ok());
  MonitorChannel a(std::move(pair->first));
  MonitorChannel b(std::move(pair->second));
  ASSERT_TRUE(a.send(PassiveListen{true}).ok());
  EXPECT_FALSE(b.expect<LoginRequest>().ok());
}

TEST(MonitorChannel, UnexpectedDescriptorIsAnError) {
  auto pair = make_monitor_socketpair();
  ASSERT_TRUE(pair.ok());
  MonitorChannel a(std::move(pair->first));
  MonitorChannel b(std::move(pair->second));
  ASSERT_TRUE(a.send(PassiveListen{true}, STDIN_FILENO).ok());
  EXPECT_FALSE(b.expect<PassiveListen>().ok());
}

TEST(MonitorChannel, OversizedDatagramIsAnError) {
  auto pair = make_monitor_socketpair();
  ASSERT_TRUE(pair.ok());
  MonitorChannel b(std::move(pair->second));
  const std::string huge(kMonitorHeaderSize + kMaxMonitorPayload + 100, 'x');
  ASSERT_GT(::send(pair->first.get(), huge.data(), huge.size(), 0), 0);
  ReceivedMessage message;
  EXPECT_FALSE(b.receive(message).ok());
}

TEST(MonitorChannel, PeerCloseIsReported) {
  auto pair = make_monitor_socketpair();
  ASSERT_TRUE(pair.ok());
  MonitorChannel b(std::move(pair->second));
  pair->first.reset();
  ReceivedMessage message;
  auto status = b.receive(message);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, ReceiveStatus::kClosed);
}

}  // namespace
}  // namespace wftpd
