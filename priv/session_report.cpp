#include "priv/session_report.hpp"

#include "common/wire_codec.hpp"

namespace wftpd {
namespace {

constexpr std::uint8_t kNoBackend = 0xff;

void encode_backend(WireWriter& out, const std::optional<LoginBackend>& backend) {
  out.u8(backend ? static_cast<std::uint8_t>(*backend) : kNoBackend);
}

Result<std::optional<LoginBackend>> decode_backend(WireReader& in) {
  auto value = in.u8();
  if (!value) return value.error();
  if (*value == kNoBackend) return std::optional<LoginBackend>();
  if (*value > static_cast<std::uint8_t>(LoginBackend::kPam)) return make_error("login backend out of range");
  return std::optional<LoginBackend>(static_cast<LoginBackend>(*value));
}

Result<bool> decode_flag(WireReader& in) {
  auto value = in.u8();
  if (!value) return value.error();
  if (*value > 1) return make_error("flag out of range");
  return *value == 1;
}

Result<std::uint64_t> decode_bounded(WireReader& in, std::uint64_t max, const char* what) {
  auto value = in.u64();
  if (!value) return value.error();
  if (*value > max) return make_error(std::string(what) + " out of range");
  return *value;
}

}  // namespace

std::string encode_report(const SessionReport& report) {
  WireWriter body;
  switch (report.type) {
    case ReportType::kLoginFailed:
      encode_backend(body, report.backend);
      body.u8(report.throttled ? 1 : 0);
      break;
    case ReportType::kLoginAccepted:
      encode_backend(body, report.backend);
      body.bytes(std::string_view(report.user).substr(0, kMaxLoginNameLength));
      body.bytes(std::string_view(report.user_class).substr(0, kMaxClassNameLength));
      break;
    case ReportType::kStatus:
      report.status.encode(body);
      break;
    case ReportType::kTransferDone:
      body.u8(static_cast<std::uint8_t>(report.direction));
      body.u8(report.complete ? 1 : 0);
      body.u64(report.bytes);
      break;
    case ReportType::kEvent:
      body.u8(static_cast<std::uint8_t>(report.event));
      break;
    case ReportType::kClaimSession:
      body.bytes(std::string_view(report.user).substr(0, kMaxLoginNameLength));
      body.u32(report.limit);
      break;
    case ReportType::kQuotaQuery:
      body.u32(report.uploads_per_hour);
      body.u8(report.wants_usage ? 1 : 0);
      break;
    case ReportType::kQuotaUsed:
      body.u64(report.bytes_added);
      body.u64(report.bytes_removed);
      body.u64(report.files_added);
      body.u64(report.files_removed);
      break;
    case ReportType::kRateDemand:
      body.u8(report.active ? 1 : 0);
      body.u8(static_cast<std::uint8_t>(report.direction));
      body.u64(report.session_rate);
      body.u64(report.user_rate);
      break;
  }
  const std::string payload = body.take();
  WireWriter frame;
  frame.u8(static_cast<std::uint8_t>(report.type));
  frame.u16(static_cast<std::uint16_t>(payload.size()));
  return frame.take() + payload;
}

Result<SessionReport> decode_report(ReportType type, std::string_view payload) {
  WireReader in(payload);
  SessionReport report;
  report.type = type;
  switch (type) {
    case ReportType::kLoginFailed: {
      auto backend = decode_backend(in);
      if (!backend) return backend.error();
      auto throttled = decode_flag(in);
      if (!throttled) return throttled.error();
      report.backend = *backend;
      report.throttled = *throttled;
      break;
    }
    case ReportType::kLoginAccepted: {
      auto backend = decode_backend(in);
      if (!backend) return backend.error();
      if (!*backend) return make_error("an accepted login names its backend");
      auto user = in.bytes(kMaxLoginNameLength);
      if (!user) return user.error();
      auto user_class = in.bytes(kMaxClassNameLength);
      if (!user_class) return user_class.error();
      if (!is_valid_class_name(*user_class)) return make_error("an accepted login names its class");
      report.backend = *backend;
      report.user = std::move(*user);
      report.user_class = std::move(*user_class);
      break;
    }
    case ReportType::kStatus: {
      auto status = SessionStatus::decode(in);
      if (!status) return status.error();
      report.status = std::move(*status);
      break;
    }
    case ReportType::kTransferDone: {
      auto direction = decode_transfer_direction(in);
      if (!direction) return direction.error();
      auto complete = decode_flag(in);
      if (!complete) return complete.error();
      auto bytes = in.u64();
      if (!bytes) return bytes.error();
      if (*bytes > 0x7fffffffffffffffull) return make_error("transfer size out of range");
      report.direction = *direction;
      report.complete = *complete;
      report.bytes = *bytes;
      break;
    }
    case ReportType::kEvent: {
      auto event = in.u8();
      if (!event) return event.error();
      if (*event < 1 || *event > 4) return make_error("report event out of range");
      report.event = static_cast<ReportEvent>(*event);
      break;
    }
    case ReportType::kClaimSession: {
      auto user = in.bytes(kMaxLoginNameLength);
      if (!user) return user.error();
      auto limit = in.u32();
      if (!limit) return limit.error();
      if (user->empty() || *limit == 0) return make_error("a session claim names a user and a limit");
      report.user = std::move(*user);
      report.limit = *limit;
      break;
    }
    case ReportType::kQuotaQuery: {
      auto per_hour = in.u32();
      if (!per_hour) return per_hour.error();
      if (*per_hour > kMaxUploadsPerHour) return make_error("upload_files_per_hour out of range");
      auto wants_usage = decode_flag(in);
      if (!wants_usage) return wants_usage.error();
      report.uploads_per_hour = *per_hour;
      report.wants_usage = *wants_usage;
      break;
    }
    case ReportType::kQuotaUsed: {
      for (std::uint64_t* field : {&report.bytes_added, &report.bytes_removed}) {
        auto value = decode_bounded(in, kMaxByteSize, "quota bytes");
        if (!value) return value.error();
        *field = *value;
      }
      for (std::uint64_t* field : {&report.files_added, &report.files_removed}) {
        auto value = decode_bounded(in, kMaxQuotaFiles, "quota files");
        if (!value) return value.error();
        *field = *value;
      }
      break;
    }
    case ReportType::kRateDemand: {
      auto active = decode_flag(in);
      if (!active) return active.error();
      auto direction = decode_transfer_direction(in);
      if (!direction) return direction.error();
      auto session_rate = decode_byte_rate(in);
      if (!session_rate) return session_rate.error();
      auto user_rate = decode_byte_rate(in);
      if (!user_rate) return user_rate.error();
      report.active = *active;
      report.direction = *direction;
      report.session_rate = *session_rate;
      report.user_rate = *user_rate;
      break;
    }
    default:
      return make_error("unknown report type " + std::to_string(static_cast<unsigned>(type)));
  }
  if (!in.at_end()) return make_error("trailing bytes in a report");
  return report;
}

std::string encode_notice(const ListenerNotice& notice) {
  WireWriter body;
  switch (notice.type) {
    case NoticeType::kClaimAnswer:
      body.u8(notice.granted ? 1 : 0);
      break;
    case NoticeType::kQuotaAnswer:
      body.u8(notice.granted ? 1 : 0);
      body.u8(notice.usage_known ? 1 : 0);
      body.u64(notice.used_bytes);
      body.u64(notice.used_files);
      break;
    case NoticeType::kRateShare:
      body.u8(static_cast<std::uint8_t>(notice.direction));
      body.u64(notice.rate);
      break;
  }
  const std::string payload = body.take();
  WireWriter frame;
  frame.u8(static_cast<std::uint8_t>(notice.type));
  frame.u16(static_cast<std::uint16_t>(payload.size()));
  return frame.take() + payload;
}

Result<ListenerNotice> decode_notice(std::string_view frame) {
  WireReader in(frame);
  auto type = in.u8();
  if (!type) return type.error();
  auto length = in.u16();
  if (!length) return length.error();
  if (*length != frame.size() - kReportHeaderSize) return make_error("notice length does not match its frame");
  ListenerNotice notice;
  notice.type = static_cast<NoticeType>(*type);
  switch (notice.type) {
    case NoticeType::kClaimAnswer: {
      auto granted = decode_flag(in);
      if (!granted) return granted.error();
      notice.granted = *granted;
      break;
    }
    case NoticeType::kQuotaAnswer: {
      auto granted = decode_flag(in);
      if (!granted) return granted.error();
      auto known = decode_flag(in);
      if (!known) return known.error();
      auto bytes = decode_bounded(in, kMaxByteSize, "used bytes");
      if (!bytes) return bytes.error();
      auto files = decode_bounded(in, kMaxQuotaFiles, "used files");
      if (!files) return files.error();
      notice.granted = *granted;
      notice.usage_known = *known;
      notice.used_bytes = *bytes;
      notice.used_files = *files;
      break;
    }
    case NoticeType::kRateShare: {
      auto direction = decode_transfer_direction(in);
      if (!direction) return direction.error();
      auto rate = decode_byte_rate(in);
      if (!rate) return rate.error();
      notice.direction = *direction;
      notice.rate = *rate;
      break;
    }
    default:
      return make_error("unknown notice type " + std::to_string(static_cast<unsigned>(*type)));
  }
  if (!in.at_end()) return make_error("trailing bytes in a notice");
  return notice;
}

Result<std::optional<SessionReport>> ReportReader::next() {
  if (buffer_.size() < kReportHeaderSize) return std::optional<SessionReport>();
  const auto type = static_cast<std::uint8_t>(buffer_[0]);
  const std::size_t length = (static_cast<std::size_t>(static_cast<std::uint8_t>(buffer_[1])) << 8) |
                             static_cast<std::uint8_t>(buffer_[2]);
  // SECURITY: the length is checked before the reader waits for (and buffers) that many bytes.
  if (length > kMaxReportPayload) return make_error("report longer than its bound");
  if (buffer_.size() < kReportHeaderSize + length) return std::optional<SessionReport>();
  auto report = decode_report(static_cast<ReportType>(type),
                              std::string_view(buffer_).substr(kReportHeaderSize, length));
  buffer_.erase(0, kReportHeaderSize + length);
  if (!report) return report.error();
  return std::optional<SessionReport>(std::move(*report));
}

}  // namespace wftpd
