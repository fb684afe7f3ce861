#include "common/log_format.hpp"

namespace wftpd {
namespace {

constexpr char kHex[] = "0123456789abcdef";

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "?";
}

void append_two_digits(std::string& out, int value) {
  out += static_cast<char>('0' + (value / 10) % 10);
  out += static_cast<char>('0' + value % 10);
}

// UTC, formatted by hand: no time zone or locale files are read (monitors are sandboxed).
std::tm utc(const timespec& time) {
  std::tm tm{};
  ::gmtime_r(&time.tv_sec, &tm);
  return tm;
}

// RFC 3164 4.1.2 TIMESTAMP: "Nov 30 16:54:38", the day padded with a space.
void append_rfc3164_time(std::string& out, const timespec& time) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::tm tm = utc(time);
  out += kMonths[tm.tm_mon % 12];
  out += ' ';
  out += tm.tm_mday < 10 ? ' ' : static_cast<char>('0' + tm.tm_mday / 10);
  out += static_cast<char>('0' + tm.tm_mday % 10);
  out += ' ';
  append_two_digits(out, tm.tm_hour);
  out += ':';
  append_two_digits(out, tm.tm_min);
  out += ':';
  append_two_digits(out, tm.tm_sec);
}

std::string_view bounded(std::string_view text, std::size_t limit, bool& cut) {
  cut = text.size() > limit;
  return cut ? text.substr(0, limit) : text;
}

// Text lines: control bytes become \xHH, everything else stays (messages are already escaped
// where they hold client bytes; this is the backstop that keeps every record one line).
void append_text_escaped(std::string& out, std::string_view text, std::size_t limit) {
  bool cut = false;
  for (const char c : bounded(text, limit, cut)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
}

void append_json_string(std::string& out, std::string_view text, std::size_t limit) {
  bool cut = false;
  out += '"';
  out += json_escape(bounded(text, limit, cut));
  if (cut) out += "...";
  out += '"';
}

// Length of the valid UTF-8 sequence at the start of `text` (1..4), or 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char min_second = 0x80, max_second = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) min_second = 0xa0;  // overlong
    if (lead == 0xed) max_second = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) min_second = 0x90;  // overlong
    if (lead == 0xf4) max_second = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < min_second || byte(1) > max_second) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  while (!text.empty()) {
    if (static_cast<unsigned char>(text.front()) < 0x80) {
      text.remove_prefix(1);
      continue;
    }
    const std::size_t length = utf8_sequence_length(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

int syslog_severity(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return 3;
    case LogLevel::kWarning: return 4;
    case LogLevel::kInfo: return 6;
    case LogLevel::kDebug: return 7;
  }
  return 6;
}

int parse_syslog_facility(std::string_view name) {
  if (name == "user") return 1 << 3;
  if (name == "daemon") return 3 << 3;
  if (name == "ftp") return 11 << 3;
  if (name.size() == 6 && name.starts_with("local") && name[5] >= '0' && name[5] <= '7') {
    return (16 + (name[5] - '0')) << 3;
  }
  return -1;
}

std::string format_iso8601_utc(const timespec& time) {
  std::string out;
  out.reserve(24);
  const std::tm tm = utc(time);
  out += std::to_string(tm.tm_year + 1900);
  out += '-';
  append_two_digits(out, tm.tm_mon + 1);
  out += '-';
  append_two_digits(out, tm.tm_mday);
  out += 'T';
  append_two_digits(out, tm.tm_hour);
  out += ':';
  append_two_digits(out, tm.tm_min);
  out += ':';
  append_two_digits(out, tm.tm_sec);
  out += '.';
  const auto millis = static_cast<int>((time.tv_nsec / 1'000'000) % 1000);
  out += static_cast<char>('0' + millis / 100);
  append_two_digits(out, millis % 100);
  out += 'Z';
  return out;
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  while (!text.empty()) {
    const auto byte = static_cast<unsigned char>(text.front());
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else if (byte >= 0x80) {
      const std::size_t length = utf8_sequence_length(text);
      if (length == 0) {
        out += "\\ufffd";
      } else {
        out.append(text.substr(0, length));
        text.remove_prefix(length);
        continue;
      }
    } else {
      out += static_cast<char>(byte);
    }
    text.remove_prefix(1);
  }
  return out;
}

std::string format_log_record(const LogRecord& record, const LogFraming& framing) {
  std::string line;
  line.reserve(160 + record.message.size());
  if (framing.output == LogOutput::kSyslog) {
    // SECURITY: the priority is computed from our own level and configured facility only.
    line += '<';
    line += std::to_string(framing.facility + syslog_severity(record.level));
    line += '>';
    append_rfc3164_time(line, record.time);
    line += " wardenftpd[";
    line += std::to_string(record.pid);
    line += "]: ";
  }
  if (framing.format == LogFormat::kJson) {
    line += "{\"ts\":\"";
    line += format_iso8601_utc(record.time);
    line += "\",\"level\":\"";
    line += level_name(record.level);
    line += "\",\"role\":";
    append_json_string(line, record.role, kMaxLogFieldValue);
    line += ",\"pid\":";
    line += std::to_string(record.pid);
    if (record.session != 0) {
      line += ",\"session\":";
      line += std::to_string(record.session);
    }
    if (!record.client.empty()) {
      line += ",\"client\":";
      append_json_string(line, record.client, kMaxLogFieldValue);
    }
    line += ",\"msg\":";
    append_json_string(line, record.message, kMaxLogMessage);
    for (const LogField& field : record.fields) {
      line += ',';
      append_json_string(line, field.name, kMaxLogFieldValue);
      line += ':';
      append_json_string(line, field.value, kMaxLogFieldValue);
    }
    line += '}';
  } else {
    if (framing.output == LogOutput::kStderr) {
      line += format_iso8601_utc(record.time);
      line += ' ';
    }
    line += level_name(record.level);
    line += ' ';
    append_text_escaped(line, record.role, kMaxLogFieldValue);
    if (record.session != 0) {
      line += " session=";
      line += std::to_string(record.session);
    }
    if (!record.client.empty()) {
      line += " client=";
      append_text_escaped(line, record.client, kMaxLogFieldValue);
    }
    if (framing.output == LogOutput::kStderr) {
      line += '[';
      line += std::to_string(record.pid);
      line += ']';
    }
    line += ": ";
    append_text_escaped(line, record.message, kMaxLogMessage);
  }
  if (framing.output == LogOutput::kStderr) line += '\n';
  return line;
}

}  // namespace wftpd
