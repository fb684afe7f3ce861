#include "priv/upload_event.hpp"

#include "common/log_format.hpp"

namespace wftpd {
namespace {

// A file's path: absolute, normalised, at least one component ("/" is the root, not a file).
bool is_normalised_file_path(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view component = path.substr(start, slash - start);
    // An empty component is "//" or a trailing '/'.
    if (component.empty() || component == "." || component == "..") return false;
    start = slash + 1;
  }
  return true;
}

void append_string_field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  out += json_escape(value);
  out += '"';
}

void append_number_field(std::string& out, std::string_view name, std::uint64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

std::string hex_of(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

}  // namespace

Result<std::string, UploadEventError> upload_disk_path(std::string_view root, std::string_view path) {
  if (root.size() > kMaxUploadEventRoot || path.size() > kMaxUploadEventPath) {
    return UploadEventError::kFieldTooLong;
  }
  if (!is_normalised_file_path(path)) return UploadEventError::kPathNotNormalised;
  // The root is normalised (no trailing '/' unless it is "/"), the path starts with '/'.
  if (root == "/") return std::string(path);
  std::string joined(root);
  joined += path;
  return joined;
}

Result<std::string, UploadEventError> format_upload_event(const UploadEvent& event,
                                                          std::uint64_t session,
                                                          const timespec& time) {
  if (event.user.size() > kMaxUploadEventUser || event.client.size() > kMaxUploadEventClient) {
    return UploadEventError::kFieldTooLong;
  }
  auto disk_path = upload_disk_path(event.root, event.path);
  if (!disk_path) return disk_path.error();
  std::string out = "{\"event\":\"upload\"";
  append_number_field(out, "session", session);
  append_string_field(out, "user", event.user);
  append_string_field(out, "client", event.client);
  append_string_field(out, "path", event.path);
  append_string_field(out, "disk_path", *disk_path);
  append_string_field(out, "disk_path_hex", hex_of(*disk_path));
  append_number_field(out, "bytes", event.bytes);
  append_string_field(out, "type", event.ascii ? "ascii" : "binary");
  append_string_field(out, "time", format_iso8601_utc(time));
  // A time before 1970 (a clock set wrong) is sent as 0 rather than as a huge unsigned number.
  append_number_field(out, "unix_time", time.tv_sec < 0 ? 0 : static_cast<std::uint64_t>(time.tv_sec));
  out += '}';
  return out;
}

}  // namespace wftpd
