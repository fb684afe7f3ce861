// Log framing (text, syslog, JSON) and the transfer log line, with hostile bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/log_format.hpp"
#include "priv/transfer_log.hpp"

namespace wftpd {
namespace {

LogRecord sample_record(std::string_view message) {
  LogRecord record;
  record.level = LogLevel::kWarning;
  record.time = timespec{1796057678, 123'000'000};  // 2026-11-30T16:54:38.123Z
  record.role = "monitor";
  record.pid = 4321;
  record.session = 42;
  record.client = "192.0.2.1";
  record.message = message;
  return record;
}

TEST(LogFormat, TextLineKeepsTheClassicLayout) {
  const std::string line = format_log_record(sample_record("hello"), LogFraming{});
  EXPECT_EQ(line, "2026-11-30T16:54:38.123Z warning monitor session=42 client=192.0.2.1[4321]: hello\n");
}

TEST(LogFormat, TextLineEscapesControlBytesSoOneRecordIsOneLine) {
  const std::string line = format_log_record(sample_record("a\nb\rc\x1b[31m\x7f"), LogFraming{});
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(line.find("a\\x0ab\\x0dc\\x1b[31m\\x7f"), std::string::npos);
}

TEST(LogFormat, SyslogDatagramHasPriorityTimestampTagAndNoNewline) {
  LogFraming framing;
  framing.output = LogOutput::kSyslog;
  framing.facility = parse_syslog_facility("daemon");
  const std::string line = format_log_record(sample_record("hello"), framing);
  // daemon (3) * 8 + warning (4) = 28
  EXPECT_EQ(line, "<28>Nov 30 16:54:38 wardenftpd[4321]: warning monitor session=42 client=192.0.2.1: hello");
  framing.facility = parse_syslog_facility("local7");
  LogRecord record = sample_record("x");
  record.level = LogLevel::kDebug;
  record.time.tv_sec -= 29 * 86400;  // Nov 1: the day is padded with a space
  EXPECT_EQ(format_log_record(record, framing).substr(0, 20), "<191>Nov  1 16:54:38");
}

TEST(LogFormat, FacilityNames) {
  EXPECT_EQ(parse_syslog_facility("daemon"), 24);
  EXPECT_EQ(parse_syslog_facility("ftp"), 88);
  EXPECT_EQ(parse_syslog_facility("user"), 8);
  EXPECT_EQ(parse_syslog_facility("local0"), 128);
  EXPECT_EQ(parse_syslog_facility("local8"), -1);
  EXPECT_EQ(parse_syslog_facility("kern"), -1);
  EXPECT_EQ(syslog_severity(LogLevel::kError), 3);
  EXPECT_EQ(syslog_severity(LogLevel::kInfo), 6);
}

TEST(LogFormat, JsonEscapesQuotesBackslashesControlsAndInvalidUtf8) {
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape(std::string("\n\r\t\x01\x1f\x7f", 6)), "\\u000a\\u000d\\u0009\\u0001\\u001f\\u007f");
  EXPECT_EQ(json_escape(std::string("\0", 1)), "\\u0000");
  // Valid UTF-8 passes: é, €, 😀
  EXPECT_EQ(json_escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // Invalid: lone continuation, overlong '/', truncated sequence, surrogate, > U+10FFFF, 0xff.
  EXPECT_EQ(json_escape("\x80"), "\\ufffd");
  EXPECT_EQ(json_escape("\xc0\xaf"), "\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("\xe2\x82"), "\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(json_escape("a\xff" "b"), "a\\ufffdb");
}

TEST(LogFormat, JsonLineHasEveryFieldAndStaysOneLine) {
  const LogField fields[] = {{"event", "login"}, {"user", "ev\"il\n\xff"}};
  LogRecord record = sample_record("login \"accepted\"\n{\"forged\":1}");
  record.fields = fields;
  LogFraming framing;
  framing.format = LogFormat::kJson;
  const std::string line = format_log_record(record, framing);
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-30T16:54:38.123Z\",\"level\":\"warning\",\"role\":\"monitor\","
            "\"pid\":4321,\"session\":42,\"client\":\"192.0.2.1\","
            "\"msg\":\"login \\\"accepted\\\"\\u000a{\\\"forged\\\":1}\","
            "\"event\":\"login\",\"user\":\"ev\\\"il\\u000a\\ufffd\"}\n");
}

TEST(LogFormat, JsonLineWithoutSessionOmitsSessionAndClient) {
  LogRecord record = sample_record("listening");
  record.session = 0;
  record.client = "";
  LogFraming framing;
  framing.format = LogFormat::kJson;
  framing.output = LogOutput::kSyslog;
  const std::string line = format_log_record(record, framing);
  EXPECT_EQ(line.find("session"), std::string::npos);
  EXPECT_EQ(line.find("client"), std::string::npos);
  EXPECT_TRUE(line.starts_with("<28>Nov 30 16:54:38 wardenftpd[4321]: {\"ts\":"));
  EXPECT_TRUE(line.ends_with("\"msg\":\"listening\"}"));
}

TEST(LogFormat, LongMessagesAreCutSoADatagramStaysSmall) {
  const std::string huge(100000, 'x');
  const LogField fields[] = {{"path", huge}};
  LogRecord record = sample_record(huge);
  record.fields = fields;
  for (const LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    LogFraming framing;
    framing.format = format;
    framing.output = LogOutput::kSyslog;
    const std::string line = format_log_record(record, framing);
    EXPECT_LT(line.size(), 2048u);
    EXPECT_NE(line.find("x..."), std::string::npos);
  }
}

TEST(TransferLog, LineHasTheEighteenWuFtpdFields) {
  TransferLogEntry entry;
  entry.now = 1796057678;  // Mon Nov 30 16:54:38 2026 (UTC)
  entry.milliseconds = 1500;
  entry.remote_host = "192.0.2.1";
  entry.transfer.direction = TransferDirection::kOutgoing;
  entry.transfer.bytes = 12345;
  entry.transfer.path = "/pub/file.txt";
  entry.transfer.complete = true;
  entry.user = "alice";
  EXPECT_EQ(format_transfer_log_line(entry),
            "Mon Nov 30 16:54:38 2026 2 192.0.2.1 12345 /pub/file.txt b _ o r alice ftp 0 * c\n");
  entry.transfer.direction = TransferDirection::kIncoming;
  entry.transfer.ascii = true;
  entry.transfer.complete = false;
  entry.access = AccessMode::kAnonymous;
  entry.milliseconds = 0;  // at least one second, as wu-ftpd writes it
  entry.now -= 29 * 86400;  // Sun Nov 1: ctime pads the day with a space
  EXPECT_EQ(format_transfer_log_line(entry),
            "Sun Nov  1 16:54:38 2026 1 192.0.2.1 12345 /pub/file.txt a _ i a alice ftp 0 * i\n");
}

TEST(TransferLog, HostileFileNamesKeepTheFieldCountAndDecodeExactly) {
  const std::string hostile = std::string("/a b\tc\nd\\e\"f\x7f\xff\xc3\xa9 ", 17) + std::string(1, '\0');
  TransferLogEntry entry;
  entry.now = 1796057678;
  entry.remote_host = "2001:db8::1";
  entry.transfer.path = hostile;
  entry.user = "bob smith";
  const std::string line = format_transfer_log_line(entry);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  std::vector<std::string> fields;
  std::string field;
  for (const char c : line.substr(0, line.size() - 1)) {
    if (c == ' ') {
      if (!field.empty()) fields.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(field);
  ASSERT_EQ(fields.size(), 18u);
  EXPECT_EQ(fields[8], "/a\\x20b\\x09c\\x0ad\\x5ce\"f\\x7f\\xff\\xc3\\xa9\\x20\\x00");
  EXPECT_EQ(fields[13], "bob\\x20smith");
  // Decoding \xHH gives the name back byte for byte.
  std::string decoded;
  for (std::size_t i = 0; i < fields[8].size(); ++i) {
    if (fields[8][i] == '\\') {
      decoded += static_cast<char>(std::stoi(fields[8].substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else {
      decoded += fields[8][i];
    }
  }
  EXPECT_EQ(decoded, hostile);
  EXPECT_EQ(escape_xferlog_field(""), "-");
}

}  // namespace
}  // namespace wftpd
