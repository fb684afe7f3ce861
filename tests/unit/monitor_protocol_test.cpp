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

TEST(MonitorProtocol, BecomeUserRefusesRoot) {
  EXPECT_FALSE(round_trip(BecomeUser{"root", 0, 0, "/"}).ok());
  EXPECT_FALSE(round_trip(BecomeUser{"x", 1000, 0, "/srv"}).ok());
  EXPECT_TRUE(round_trip(BecomeUser{"x", 1000, 1000, "/srv"}).ok());
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
