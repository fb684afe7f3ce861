#include "common/pam_protocol.hpp"

#include <gtest/gtest.h>

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

// The payload of `message` with its encoding changed by `edit`, decoded as Message.
template <class Message, class Edit>
Result<Message> decode_edited(const Message& message, Edit edit) {
  WireWriter out;
  message.encode(out);
  std::string payload = out.take();
  edit(payload);
  return decode_payload<Message>(payload);
}

PamVerdict accepted() {
  PamVerdict verdict;
  verdict.outcome = PamOutcome::kAccepted;
  verdict.account = "alice";
  verdict.uid = 1001;
  verdict.gid = 1001;
  verdict.home = "/home/alice";
  verdict.groups = {27, 100};
  return verdict;
}

TEST(PamProtocol, PamCheckRoundTrips) {
  auto decoded = round_trip(PamCheck{"wardenftpd", "alice", "pa:ss", "2001:db8::1"});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->service, "wardenftpd");
  EXPECT_EQ(decoded->user, "alice");
  EXPECT_EQ(decoded->password, "pa:ss");
  EXPECT_EQ(decoded->remote_host, "2001:db8::1");
}

TEST(PamProtocol, PamCheckWithAServiceNameThatIsAPathIsRejected) {
  EXPECT_FALSE(round_trip(PamCheck{"../shadow", "alice", "x", "192.0.2.1"}).ok());
  EXPECT_FALSE(round_trip(PamCheck{"", "alice", "x", "192.0.2.1"}).ok());
  EXPECT_FALSE(round_trip(PamCheck{".hidden", "alice", "x", "192.0.2.1"}).ok());
}

TEST(PamProtocol, PamCheckFieldsOverTheirBoundsAreRejected) {
  EXPECT_FALSE(round_trip(PamCheck{"s", std::string(kMaxLoginNameLength + 1, 'a'), "x", "h"}).ok());
  EXPECT_FALSE(round_trip(PamCheck{"s", "a", std::string(kMaxPasswordLength + 1, 'x'), "h"}).ok());
  EXPECT_FALSE(round_trip(PamCheck{"s", "a", "x", std::string(kMaxRemoteHostLength + 1, '1')}).ok());
  EXPECT_FALSE(round_trip(PamCheck{"s", "a", "x", "192.0.2.1\n"}).ok());
}

TEST(PamProtocol, AcceptedVerdictRoundTrips) {
  auto decoded = round_trip(accepted());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->outcome, PamOutcome::kAccepted);
  EXPECT_EQ(decoded->account, "alice");
  EXPECT_EQ(decoded->uid, 1001u);
  EXPECT_EQ(decoded->gid, 1001u);
  EXPECT_EQ(decoded->home, "/home/alice");
  EXPECT_EQ(decoded->groups, (std::vector<std::uint32_t>{27, 100}));
}

TEST(PamProtocol, RefusalRoundTripsWithItsReason) {
  PamVerdict verdict;
  verdict.outcome = PamOutcome::kAccountRefused;
  verdict.reason = "pam_acct_mgmt: User account has expired";
  auto decoded = round_trip(verdict);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->outcome, PamOutcome::kAccountRefused);
  EXPECT_EQ(decoded->reason, verdict.reason);
}

TEST(PamProtocol, AcceptedVerdictForUidOrGidZeroIsRejected) {
  auto root = accepted();
  root.uid = 0;
  EXPECT_FALSE(round_trip(root).ok());
  root = accepted();
  root.gid = 0;
  EXPECT_FALSE(round_trip(root).ok());
  root = accepted();
  root.uid = 0xffffffffu;
  EXPECT_FALSE(round_trip(root).ok());
}

TEST(PamProtocol, AcceptedVerdictWithAnUncleanHomeIsRejected) {
  for (const char* home : {"", "relative", "/home/../etc", "/home//alice", "/home/alice/", "/a:b"}) {
    auto verdict = accepted();
    verdict.home = home;
    EXPECT_FALSE(round_trip(verdict).ok()) << home;
  }
}

TEST(PamProtocol, AcceptedVerdictWithoutAnAccountNameIsRejected) {
  auto verdict = accepted();
  verdict.account = "";
  EXPECT_FALSE(round_trip(verdict).ok());
  verdict.account = "ali\nce";
  EXPECT_FALSE(round_trip(verdict).ok());
}

TEST(PamProtocol, RefusalCarryingAccountFieldsIsRejected) {
  auto verdict = accepted();
  verdict.outcome = PamOutcome::kAuthenticationFailed;
  EXPECT_FALSE(round_trip(verdict).ok());
}

TEST(PamProtocol, OutcomeOutOfRangeIsRejected) {
  PamVerdict verdict;
  verdict.outcome = PamOutcome::kFailed;
  for (const int outcome : {0, 6, 255}) {
    auto decoded = decode_edited(verdict, [&](std::string& payload) {
      payload[0] = static_cast<char>(outcome);
    });
    EXPECT_FALSE(decoded.ok()) << outcome;
  }
}

TEST(PamProtocol, GroupCountIsCheckedBeforeReading) {
  auto verdict = accepted();
  verdict.groups.assign(kMaxAccountGroups, 5);
  EXPECT_TRUE(round_trip(verdict).ok());
  verdict.groups.push_back(5);
  EXPECT_FALSE(round_trip(verdict).ok());
  // A count that promises more groups than the payload holds is truncation, not a crash.
  auto short_count = decode_edited(accepted(), [](std::string& payload) {
    payload.resize(payload.size() - 8);  // drop both gids, keep the count of 2
  });
  EXPECT_FALSE(short_count.ok());
}

TEST(PamProtocol, TrailingBytesAreRejected) {
  auto decoded = decode_edited(accepted(), [](std::string& payload) { payload += '\0'; });
  EXPECT_FALSE(decoded.ok());
}

TEST(PamProtocol, ServiceNames) {
  EXPECT_TRUE(is_valid_pam_service("wardenftpd"));
  EXPECT_TRUE(is_valid_pam_service("wardenftpd-test_1.x"));
  EXPECT_FALSE(is_valid_pam_service("pam.d/other"));
  EXPECT_FALSE(is_valid_pam_service(std::string(kMaxPamServiceLength + 1, 'a')));
}

}  // namespace
}  // namespace wftpd
