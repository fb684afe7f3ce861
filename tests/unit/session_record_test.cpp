#include "priv/session_record.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

using Clock = SessionRecord::Clock;
using std::chrono::seconds;

SessionRecord record(const char* client) {
  SessionRecord session;
  session.id = 7;
  session.pid = 4242;
  session.client = *SocketAddress::parse(client);
  session.started_unix = 1'800'000'000;
  session.last_activity = Clock::now();
  return session;
}

SessionReport transfer(std::uint64_t bytes) {
  SessionReport report;
  report.type = ReportType::kStatus;
  report.status.state = SessionState::kTransfer;
  report.status.direction = TransferDirection::kOutgoing;
  report.status.path = "/pub/big.iso";
  report.status.bytes = bytes;
  return report;
}

TEST(SessionRecord, WhoShowsTheTransferAndItsRateAfterLogin) {
  SessionRecord session = record("192.0.2.5:40000");
  const auto t = Clock::now();
  SessionReport login;
  login.type = ReportType::kLoginAccepted;
  login.backend = LoginBackend::kVirtual;
  login.user = "demo";
  login.user_class = "partners";
  session.apply(login, t);
  session.apply(transfer(500'000), t);
  session.apply(transfer(2'500'000), t + seconds(2));
  auto table = who_table({&session}, t + seconds(3));
  ASSERT_EQ(table.rows.size(), 1u);
  const auto& row = table.rows[0];
  EXPECT_EQ(row[0], "7");
  EXPECT_EQ(row[2], "demo");
  EXPECT_EQ(row[3], "partners");
  EXPECT_EQ(row[4], "192.0.2.5");
  EXPECT_EQ(row[6], "2027-01-15T08:00:00Z");
  EXPECT_EQ(row[8], "download");
  EXPECT_EQ(row[9], "/pub/big.iso");
  EXPECT_EQ(row[10], "2500000");
  EXPECT_EQ(row[11], "1000000");
  SessionReport done;
  done.type = ReportType::kTransferDone;
  session.apply(done, t + seconds(4));
  table = who_table({&session}, t + seconds(10));
  EXPECT_EQ(table.rows[0][8], "idle");
  EXPECT_EQ(table.rows[0][7], "6");
  EXPECT_EQ(table.rows[0][9], "-");
}

TEST(SessionRecord, BeforeLoginTheUserIsADash) {
  SessionRecord session = record("[2001:db8::1]:40000");
  const auto table = who_table({&session}, Clock::now());
  EXPECT_EQ(table.rows[0][2], "-");
  EXPECT_EQ(table.rows[0][3], "-");
  EXPECT_EQ(table.rows[0][4], "2001:db8::1");
  EXPECT_EQ(table.rows[0][8], "login");
}

TEST(SessionRecord, KickSelectsBySessionUserOrClientPrefix) {
  SessionRecord session = record("198.51.100.20:1");
  SessionReport login;
  login.type = ReportType::kLoginAccepted;
  login.backend = LoginBackend::kPam;
  login.user = "alice";
  session.apply(login, Clock::now());
  const auto select = [](KickSelector selector, const char* argument) {
    ControlRequest request;
    request.command = ControlCommand::kKick;
    request.selector = selector;
    request.argument = argument;
    return KickSelection::from(request);
  };
  EXPECT_TRUE(select(KickSelector::kSession, "7")->matches(session));
  EXPECT_FALSE(select(KickSelector::kSession, "8")->matches(session));
  EXPECT_FALSE(select(KickSelector::kSession, "7x").ok());
  EXPECT_TRUE(select(KickSelector::kUser, "alice")->matches(session));
  EXPECT_FALSE(select(KickSelector::kUser, "Alice")->matches(session));
  EXPECT_TRUE(select(KickSelector::kClient, "198.51.100.0/24")->matches(session));
  EXPECT_FALSE(select(KickSelector::kClient, "198.51.101.0/24")->matches(session));
  EXPECT_FALSE(select(KickSelector::kClient, "nonsense").ok());
}

}  // namespace
}  // namespace wftpd
