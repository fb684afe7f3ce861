// The control socket's protocol, between wardenftpd-ctl and the listener (priv/control_socket.hpp).
//
// A stream of frames: u32 body length | body, integers big-endian, strings u16-prefixed and
// bounded per field. A request is one frame of at most kMaxControlRequest bytes; the listener
// answers with one frame and closes. Trailing bytes, an unknown command or selector, or a field
// over its bound are errors. The answer is a table (named columns, some numeric) that the tool
// prints as text or JSON, or a text (metrics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace wftpd {

inline constexpr std::size_t kMaxControlRequest = 4096;
inline constexpr std::size_t kMaxControlResponse = 64u << 20;
inline constexpr std::size_t kMaxControlArgument = 256;
inline constexpr std::size_t kMaxControlCell = 4096;
inline constexpr std::size_t kMaxControlColumns = 32;

enum class ControlCommand : std::uint8_t {
  kWho = 1,
  kKick = 2,
  kBan = 3,
  kUnban = 4,
  kBans = 5,
  kStatus = 6,
  kReload = 7,
  kMetrics = 8,
  kQuota = 9,  // a user's usage and limits; with `rescan`, recount the user's files first
};

enum class KickSelector : std::uint8_t { kSession = 1, kUser = 2, kClient = 3 };

struct ControlRequest {
  ControlCommand command = ControlCommand::kStatus;
  KickSelector selector = KickSelector::kSession;  // kKick
  std::string argument;  // kKick: session id, user or prefix; kBan/kUnban: the prefix; kQuota: the user
  std::uint32_t seconds = 0;  // kBan: how long; 0: until unbanned
  bool rescan = false;        // kQuota
};

struct ControlColumn {
  std::string name;
  bool numeric = false;  // JSON prints it as a number
};

struct ControlResponse {
  bool ok = true;
  std::string message;  // the error, or a confirmation ("kicked 2 sessions")
  std::vector<ControlColumn> columns;
  std::vector<std::vector<std::string>> rows;  // each as long as columns
  std::string text;  // kMetrics: the exposition text
};

std::string encode_control_request(const ControlRequest& request);    // a whole frame
std::string encode_control_response(const ControlResponse& response);  // a whole frame
Result<ControlRequest> decode_control_request(std::string_view body);
Result<ControlResponse> decode_control_response(std::string_view body);

// Splits a byte stream into frame bodies; `max_body` bounds what it will wait for.
class ControlFrameReader {
 public:
  explicit ControlFrameReader(std::size_t max_body) : max_body_(max_body) {}
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // A whole body, nothing yet, or an error (a length over max_body).
  Result<std::optional<std::string>> next();

 private:
  std::size_t max_body_;
  std::string buffer_;
};

// Renders a table for a person (aligned columns) or as JSON (an array of objects).
std::string render_control_text(const ControlResponse& response);
std::string render_control_json(const ControlResponse& response);

}  // namespace wftpd
