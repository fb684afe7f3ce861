#include "common/control_protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace wftpd {
namespace {

Result<ControlRequest> through_the_wire(const ControlRequest& request) {
  ControlFrameReader reader(kMaxControlRequest);
  reader.feed(encode_control_request(request));
  auto body = reader.next();
  if (!body) return body.error();
  if (!*body) return make_error("no frame");
  return decode_control_request(**body);
}

TEST(ControlProtocol, RequestsRoundTrip) {
  ControlRequest kick;
  kick.command = ControlCommand::kKick;
  kick.selector = KickSelector::kClient;
  kick.argument = "2001:db8::/32";
  auto decoded = through_the_wire(kick);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->command, ControlCommand::kKick);
  EXPECT_EQ(decoded->selector, KickSelector::kClient);
  EXPECT_EQ(decoded->argument, "2001:db8::/32");

  ControlRequest ban;
  ban.command = ControlCommand::kBan;
  ban.argument = "192.0.2.7";
  ban.seconds = 3600;
  decoded = through_the_wire(ban);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->seconds, 3600u);

  for (const auto command : {ControlCommand::kWho, ControlCommand::kBans, ControlCommand::kStatus,
                             ControlCommand::kReload, ControlCommand::kMetrics}) {
    ControlRequest plain;
    plain.command = command;
    decoded = through_the_wire(plain);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->command, command);
  }
}

TEST(ControlProtocol, AQuotaRequestRoundTripsAndIsStrict) {
  ControlRequest quota;
  quota.command = ControlCommand::kQuota;
  quota.argument = "alice";
  quota.rescan = true;
  auto decoded = through_the_wire(quota);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->command, ControlCommand::kQuota);
  EXPECT_EQ(decoded->argument, "alice");
  EXPECT_TRUE(decoded->rescan);
  EXPECT_FALSE(decode_control_request(std::string("\x09\x00\x01" "a", 4)).ok());       // no rescan flag
  EXPECT_FALSE(decode_control_request(std::string("\x09\x00\x01" "a\x02", 5)).ok());   // flag out of range
  EXPECT_FALSE(decode_control_request(std::string("\x09\x00\x00\x00", 4)).ok());    // no user
  EXPECT_TRUE(decode_control_request(std::string("\x09\x00\x01" "a\x00", 5)).ok());
}

TEST(ControlProtocol, MalformedRequestsAreRefused) {
  EXPECT_FALSE(decode_control_request("").ok());
  EXPECT_FALSE(decode_control_request("\x0a").ok());                        // unknown command
  EXPECT_FALSE(decode_control_request(std::string("\x01\x00", 2)).ok());    // trailing byte
  EXPECT_FALSE(decode_control_request(std::string("\x02\x04\x00\x01x", 5)).ok());  // bad selector
  EXPECT_FALSE(decode_control_request(std::string("\x04\x00\x00", 3)).ok());       // empty argument
  EXPECT_FALSE(decode_control_request(std::string("\x03\x00\x01x", 4)).ok());      // ban without time
  std::string long_argument("\x04\x01\x01", 3);
  long_argument += std::string(257, 'a');
  EXPECT_FALSE(decode_control_request(long_argument).ok());
}

TEST(ControlProtocol, TheFrameReaderRefusesALengthOverItsBoundBeforeBuffering) {
  ControlFrameReader reader(kMaxControlRequest);
  reader.feed(std::string("\x00\x00\x10\x01", 4));  // 4097
  EXPECT_FALSE(reader.next().ok());
}

TEST(ControlProtocol, ResponsesRoundTripAndRenderAsTextAndJson) {
  ControlResponse response;
  response.columns = {{"session", true}, {"user", false}, {"bytes", true}};
  response.rows = {{"1", "demo", "42"}, {"2", "a\"b\nc", "-"}};
  const std::string frame = encode_control_response(response);
  auto decoded = decode_control_response(std::string_view(frame).substr(4));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->rows, response.rows);
  const std::string json = render_control_json(*decoded);
  EXPECT_NE(json.find("{\"session\": 1, \"user\": \"demo\", \"bytes\": 42}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"user\": \"a\\\"b\\u000ac\", \"bytes\": null"), std::string::npos) << json;
  const std::string text = render_control_text(*decoded);
  EXPECT_EQ(text.rfind("session  user", 0), 0u) << text;
  // Header and two rows: a client's newline in a cell does not start a line of its own.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
}

TEST(ControlProtocol, AResponseClaimingMoreRowsThanItHoldsIsRefused) {
  ControlResponse response;
  response.columns = {{"a", false}};
  std::string frame = encode_control_response(response);
  std::string body = frame.substr(4);
  // columns: u16 1, u8 0, u16 1, "a"; then u32 rows at offset 1 + 2 + (2 + 0) + ... find it:
  const std::size_t rows_at = 1 + 2 + 0 + 2 + 1 + 2 + 1;
  body[rows_at] = '\x7f';
  EXPECT_FALSE(decode_control_response(body).ok());
}

}  // namespace
}  // namespace wftpd
