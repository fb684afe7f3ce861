#include "priv/session_report.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

SessionReport status_report(std::string path, std::uint64_t bytes) {
  SessionReport report;
  report.type = ReportType::kStatus;
  report.status.state = SessionState::kTransfer;
  report.status.direction = TransferDirection::kIncoming;
  report.status.path = std::move(path);
  report.status.bytes = bytes;
  return report;
}

TEST(SessionReport, EveryKindRoundTripsThroughTheReaderInPieces) {
  SessionReport accepted;
  accepted.type = ReportType::kLoginAccepted;
  accepted.backend = LoginBackend::kVirtual;
  accepted.user = "demo";
  accepted.user_class = "partners";
  SessionReport failed;
  failed.type = ReportType::kLoginFailed;
  failed.throttled = true;
  SessionReport done;
  done.type = ReportType::kTransferDone;
  done.complete = true;
  done.bytes = 1234567;
  SessionReport event;
  event.type = ReportType::kEvent;
  event.event = ReportEvent::kSandboxViolation;
  const std::string stream = encode_report(accepted) + encode_report(failed) +
                             encode_report(status_report("/up/big.bin", 42)) + encode_report(done) +
                             encode_report(event);
  ReportReader reader;
  std::vector<SessionReport> got;
  for (const char c : stream) {
    reader.feed(std::string_view(&c, 1));
    auto next = reader.next();
    ASSERT_TRUE(next.ok()) << next.error().message;
    if (*next) got.push_back(**next);
  }
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].user, "demo");
  EXPECT_EQ(got[0].user_class, "partners");
  EXPECT_EQ(got[0].backend, LoginBackend::kVirtual);
  EXPECT_FALSE(got[1].backend.has_value());
  EXPECT_TRUE(got[1].throttled);
  EXPECT_EQ(got[2].status.path, "/up/big.bin");
  EXPECT_EQ(got[2].status.bytes, 42u);
  EXPECT_EQ(got[3].bytes, 1234567u);
  EXPECT_EQ(got[4].event, ReportEvent::kSandboxViolation);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(SessionReport, ASessionClaimAndItsAnswerRoundTrip) {
  SessionReport claim;
  claim.type = ReportType::kClaimSession;
  claim.user = "alice";
  claim.limit = 3;
  ReportReader reader;
  reader.feed(encode_report(claim));
  auto got = reader.next();
  ASSERT_TRUE(got.ok() && *got) << (got.ok() ? "none" : got.error().message);
  EXPECT_EQ((*got)->user, "alice");
  EXPECT_EQ((*got)->limit, 3u);
  // A claim names a user and a limit of at least one.
  claim.limit = 0;
  ReportReader zero;
  zero.feed(encode_report(claim));
  EXPECT_FALSE(zero.next().ok());

  for (const bool granted : {true, false}) {
    ListenerNotice notice;
    notice.granted = granted;
    auto decoded = decode_notice(encode_notice(notice));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->type, NoticeType::kClaimAnswer);
    EXPECT_EQ(decoded->granted, granted);
  }
  EXPECT_FALSE(decode_notice(std::string("\x01\x00\x01\x02", 4)).ok());  // flag out of range
  EXPECT_FALSE(decode_notice(std::string("\x01\x00\x02\x01", 4)).ok());  // length mismatch
  EXPECT_FALSE(decode_notice(std::string("\x07\x00\x00", 3)).ok());      // unknown type
  EXPECT_FALSE(decode_notice(std::string("\x01", 1)).ok());                // short
}

TEST(SessionReport, QuotaFramesAndTheirAnswerRoundTrip) {
  SessionReport query;
  query.type = ReportType::kQuotaQuery;
  query.uploads_per_hour = 30;
  query.wants_usage = true;
  SessionReport used;
  used.type = ReportType::kQuotaUsed;
  used.bytes_added = 4096;
  used.bytes_removed = 100;
  used.files_added = 1;
  ReportReader reader;
  reader.feed(encode_report(query) + encode_report(used));
  auto got = reader.next();
  ASSERT_TRUE(got.ok() && *got) << (got.ok() ? "none" : got.error().message);
  EXPECT_EQ((*got)->uploads_per_hour, 30u);
  EXPECT_TRUE((*got)->wants_usage);
  got = reader.next();
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->bytes_added, 4096u);
  EXPECT_EQ((*got)->bytes_removed, 100u);
  EXPECT_EQ((*got)->files_added, 1u);

  ListenerNotice answer;
  answer.type = NoticeType::kQuotaAnswer;
  answer.granted = true;
  answer.usage_known = true;
  answer.used_bytes = 123456789;
  answer.used_files = 42;
  auto decoded = decode_notice(encode_notice(answer));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->type, NoticeType::kQuotaAnswer);
  EXPECT_TRUE(decoded->granted && decoded->usage_known);
  EXPECT_EQ(decoded->used_bytes, 123456789u);
  EXPECT_EQ(decoded->used_files, 42u);

  // Out of their bounds: refused by the reader (listener) and the notice decoder (monitor).
  const auto refused = [](const SessionReport& report) {
    ReportReader bad;
    bad.feed(encode_report(report));
    return !bad.next().ok();
  };
  SessionReport too_many = used;
  too_many.bytes_added = kMaxByteSize + 1;
  EXPECT_TRUE(refused(too_many));
  too_many = used;
  too_many.files_removed = kMaxQuotaFiles + 1;
  EXPECT_TRUE(refused(too_many));
  SessionReport fast = query;
  fast.uploads_per_hour = kMaxUploadsPerHour + 1;
  EXPECT_TRUE(refused(fast));
  answer.used_bytes = kMaxByteSize + 1;
  EXPECT_FALSE(decode_notice(encode_notice(answer)).ok());
  EXPECT_FALSE(decode_notice(std::string("\x02\x00\x01\x01", 4)).ok());  // short answer
}

TEST(SessionReport, AFrameFitsInOnePipeWrite) {
  const std::string frame = encode_report(status_report("/" + std::string(kMaxStatusPathLength - 1, 'a'), 1));
  EXPECT_LE(frame.size(), kMaxReportFrame);
  EXPECT_LE(kMaxReportFrame, 4096u);  // PIPE_BUF: written whole or not at all
}

TEST(SessionReport, MalformedFramesAreRefused) {
  const auto refused = [](std::string bytes) {
    ReportReader reader;
    reader.feed(bytes);
    return !reader.next().ok();
  };
  EXPECT_TRUE(refused(std::string("\x09\x00\x00", 3)));                 // unknown type
  EXPECT_TRUE(refused(std::string("\x07\x00\x05\x00\x00\x00\x01\x02", 8)));  // flag out of range
  EXPECT_TRUE(refused(std::string("\x05\x00\x01\x07", 4)));             // unknown event
  EXPECT_TRUE(refused(std::string("\x05\x00\x02\x01\x00", 5)));         // trailing byte
  EXPECT_TRUE(refused(std::string("\x01\x00\x02\x01\x02", 5)));         // flag out of range
  EXPECT_TRUE(refused(std::string("\x02\x00\x03\xff\x00\x00", 6)));     // accepted without backend
  EXPECT_TRUE(refused(std::string("\x03\xff\xff", 3)));                 // longer than the bound
  // A transfer status names an absolute path; an idle one none.
  SessionReport relative = status_report("relative", 1);
  EXPECT_TRUE(refused(encode_report(relative)));
}

TEST(SessionReport, APartialFrameWaitsForTheRest) {
  const std::string frame = encode_report(status_report("/a", 7));
  ReportReader reader;
  reader.feed(frame.substr(0, frame.size() - 1));
  auto next = reader.next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  reader.feed(frame.substr(frame.size() - 1));
  next = reader.next();
  ASSERT_TRUE(next.ok() && next->has_value());
}

}  // namespace
}  // namespace wftpd

namespace wftpd {
namespace {

TEST(SessionReport, RateDemandRoundTrips) {
  for (const bool active : {true, false}) {
    SessionReport demand;
    demand.type = ReportType::kRateDemand;
    demand.active = active;
    demand.direction = TransferDirection::kIncoming;
    demand.session_rate = 256 << 10;
    demand.user_rate = kMaxByteRate;
    ReportReader reader;
    reader.feed(encode_report(demand));
    auto decoded = reader.next();
    ASSERT_TRUE(decoded.ok() && *decoded) << (decoded.ok() ? "" : decoded.error().message);
    EXPECT_EQ((*decoded)->active, active);
    EXPECT_EQ((*decoded)->direction, TransferDirection::kIncoming);
    EXPECT_EQ((*decoded)->session_rate, 256u << 10);
    EXPECT_EQ((*decoded)->user_rate, kMaxByteRate);
  }
}

TEST(SessionReport, MalformedRateDemandsAreRefused) {
  const auto refused = [](std::string payload) {
    return !decode_report(ReportType::kRateDemand, payload).ok();
  };
  const std::string rates(16, '\0');
  EXPECT_FALSE(refused(std::string("\x01\x02", 2) + rates));       // the good one
  EXPECT_TRUE(refused(std::string("\x02\x02", 2) + rates));        // flag out of range
  EXPECT_TRUE(refused(std::string("\x01\x03", 2) + rates));        // direction out of range
  EXPECT_TRUE(refused(std::string("\x01\x02", 2) + rates.substr(1)));  // short
  EXPECT_TRUE(refused(std::string("\x01\x02", 2) + rates + "x"));  // trailing
  // A rate above kMaxByteRate (1 TiB/s).
  EXPECT_TRUE(refused(std::string("\x01\x02\x00\x00\x01\x00\x00\x00\x00\x01", 10) + rates.substr(8)));
}

TEST(SessionReport, RateShareNoticeRoundTripsAndMalformedOnesAreRefused) {
  ListenerNotice notice;
  notice.type = NoticeType::kRateShare;
  notice.direction = TransferDirection::kIncoming;
  notice.rate = 123456789;
  auto decoded = decode_notice(encode_notice(notice));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->type, NoticeType::kRateShare);
  EXPECT_EQ(decoded->direction, TransferDirection::kIncoming);
  EXPECT_EQ(decoded->rate, 123456789u);
  const std::string good = encode_notice(notice);
  EXPECT_FALSE(decode_notice(good.substr(0, good.size() - 1)).ok());  // length mismatch
  std::string bad_direction = good;
  bad_direction[3] = 7;
  EXPECT_FALSE(decode_notice(bad_direction).ok());
  std::string too_fast = good;
  too_fast[4] = 1;  // the rate's top byte: far above kMaxByteRate
  EXPECT_FALSE(decode_notice(too_fast).ok());
  EXPECT_FALSE(decode_notice(std::string("\x02\x00\x0a", 3) + std::string(10, '\0')).ok());  // trailing
}

}  // namespace
}  // namespace wftpd
