#include "common/control_protocol.hpp"

#include <algorithm>

#include "common/io.hpp"
#include "common/log_format.hpp"
#include "common/wire_codec.hpp"

namespace wftpd {
namespace {

std::string frame(std::string body) {
  WireWriter header;
  header.u32(static_cast<std::uint32_t>(body.size()));
  return header.take() + body;
}

}  // namespace

std::string encode_control_request(const ControlRequest& request) {
  WireWriter out;
  out.u8(static_cast<std::uint8_t>(request.command));
  switch (request.command) {
    case ControlCommand::kKick:
      out.u8(static_cast<std::uint8_t>(request.selector));
      out.bytes(std::string_view(request.argument).substr(0, kMaxControlArgument));
      break;
    case ControlCommand::kBan:
      out.bytes(std::string_view(request.argument).substr(0, kMaxControlArgument));
      out.u32(request.seconds);
      break;
    case ControlCommand::kUnban:
      out.bytes(std::string_view(request.argument).substr(0, kMaxControlArgument));
      break;
    case ControlCommand::kQuota:
      out.bytes(std::string_view(request.argument).substr(0, kMaxControlArgument));
      out.u8(request.rescan ? 1 : 0);
      break;
    case ControlCommand::kWho:
    case ControlCommand::kBans:
    case ControlCommand::kStatus:
    case ControlCommand::kReload:
    case ControlCommand::kMetrics:
      break;
  }
  return frame(out.take());
}

Result<ControlRequest> decode_control_request(std::string_view body) {
  if (body.size() > kMaxControlRequest) return make_error("request longer than its bound");
  WireReader in(body);
  auto command = in.u8();
  if (!command) return command.error();
  if (*command < 1 || *command > 9) return make_error("unknown control command");
  ControlRequest request;
  request.command = static_cast<ControlCommand>(*command);
  if (request.command == ControlCommand::kKick) {
    auto selector = in.u8();
    if (!selector) return selector.error();
    if (*selector < 1 || *selector > 3) return make_error("unknown kick selector");
    request.selector = static_cast<KickSelector>(*selector);
  }
  if (request.command == ControlCommand::kKick || request.command == ControlCommand::kBan ||
      request.command == ControlCommand::kUnban || request.command == ControlCommand::kQuota) {
    auto argument = in.bytes(kMaxControlArgument);
    if (!argument) return argument.error();
    if (argument->empty()) return make_error("empty argument");
    request.argument = std::move(*argument);
  }
  if (request.command == ControlCommand::kBan) {
    auto seconds = in.u32();
    if (!seconds) return seconds.error();
    request.seconds = *seconds;
  }
  if (request.command == ControlCommand::kQuota) {
    auto rescan = in.u8();
    if (!rescan) return rescan.error();
    if (*rescan > 1) return make_error("bad rescan flag");
    request.rescan = *rescan == 1;
  }
  if (!in.at_end()) return make_error("trailing bytes after the request");
  return request;
}

std::string encode_control_response(const ControlResponse& response) {
  WireWriter out;
  out.u8(response.ok ? 1 : 0);
  out.bytes(std::string_view(response.message).substr(0, kMaxControlCell));
  const std::size_t columns = std::min(response.columns.size(), kMaxControlColumns);
  out.u16(static_cast<std::uint16_t>(columns));
  for (std::size_t i = 0; i < columns; ++i) {
    out.u8(response.columns[i].numeric ? 1 : 0);
    out.bytes(std::string_view(response.columns[i].name).substr(0, kMaxControlCell));
  }
  out.u32(static_cast<std::uint32_t>(response.rows.size()));
  for (const auto& row : response.rows) {
    for (std::size_t i = 0; i < columns; ++i) {
      out.bytes(i < row.size() ? std::string_view(row[i]).substr(0, kMaxControlCell) : std::string_view());
    }
  }
  out.bytes(std::string_view(response.text).substr(0, 65535));
  return frame(out.take());
}

Result<ControlResponse> decode_control_response(std::string_view body) {
  WireReader in(body);
  ControlResponse response;
  auto ok = in.u8();
  if (!ok) return ok.error();
  if (*ok > 1) return make_error("bad status");
  response.ok = *ok == 1;
  auto message = in.bytes(kMaxControlCell);
  if (!message) return message.error();
  response.message = std::move(*message);
  auto columns = in.u16();
  if (!columns) return columns.error();
  if (*columns > kMaxControlColumns) return make_error("too many columns");
  for (std::uint16_t i = 0; i < *columns; ++i) {
    auto numeric = in.u8();
    if (!numeric) return numeric.error();
    if (*numeric > 1) return make_error("bad column flag");
    auto name = in.bytes(kMaxControlCell);
    if (!name) return name.error();
    response.columns.push_back(ControlColumn{std::move(*name), *numeric == 1});
  }
  auto rows = in.u32();
  if (!rows) return rows.error();
  // SECURITY (for the tool): each row takes at least two bytes per column, so the count is
  // checked against what is left before anything is reserved.
  if (*columns == 0 && *rows != 0) return make_error("rows without columns");
  if (*columns != 0 && *rows > body.size() / (2u * *columns)) return make_error("row count too large");
  for (std::uint32_t r = 0; r < *rows; ++r) {
    std::vector<std::string> row;
    for (std::uint16_t i = 0; i < *columns; ++i) {
      auto cell = in.bytes(kMaxControlCell);
      if (!cell) return cell.error();
      row.push_back(std::move(*cell));
    }
    response.rows.push_back(std::move(row));
  }
  auto text = in.bytes(65535);
  if (!text) return text.error();
  response.text = std::move(*text);
  if (!in.at_end()) return make_error("trailing bytes after the response");
  return response;
}

Result<std::optional<std::string>> ControlFrameReader::next() {
  if (buffer_.size() < 4) return std::optional<std::string>();
  WireReader in(std::string_view(buffer_).substr(0, 4));
  const std::uint32_t length = *in.u32();
  // SECURITY: the bound is checked before the reader waits for (and buffers) that many bytes.
  if (length > max_body_) return make_error("frame longer than its bound");
  if (buffer_.size() < 4 + static_cast<std::size_t>(length)) return std::optional<std::string>();
  std::string body = buffer_.substr(4, length);
  buffer_.erase(0, 4 + static_cast<std::size_t>(length));
  return std::optional<std::string>(std::move(body));
}

std::string render_control_text(const ControlResponse& response) {
  std::string out;
  if (!response.columns.empty()) {
    std::vector<std::size_t> widths;
    for (const auto& column : response.columns) widths.push_back(column.name.size());
    std::vector<std::vector<std::string>> shown;
    for (const auto& row : response.rows) {
      std::vector<std::string> cells;
      for (std::size_t i = 0; i < response.columns.size(); ++i) {
        // Cells may hold client bytes (a path, a user name): one printable line each.
        cells.push_back(escape_for_log(i < row.size() ? row[i] : std::string(), kMaxControlCell));
        widths[i] = std::max(widths[i], cells.back().size());
      }
      shown.push_back(std::move(cells));
    }
    const auto line = [&](const std::vector<std::string>& cells) {
      std::string text;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        std::string cell = cells[i];
        if (i + 1 < cells.size()) cell.resize(widths[i], ' ');
        text += (i == 0 ? "" : "  ") + cell;
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      return text + "\n";
    };
    std::vector<std::string> header;
    for (const auto& column : response.columns) header.push_back(column.name);
    out += line(header);
    for (const auto& cells : shown) out += line(cells);
  }
  out += response.text;
  if (!response.message.empty()) out += escape_for_log(response.message, kMaxControlCell) + "\n";
  return out;
}

std::string render_control_json(const ControlResponse& response) {
  if (!response.columns.empty()) {
    std::string out = "[";
    for (std::size_t r = 0; r < response.rows.size(); ++r) {
      out += r == 0 ? "\n  {" : ",\n  {";
      for (std::size_t i = 0; i < response.columns.size(); ++i) {
        const std::string& cell = i < response.rows[r].size() ? response.rows[r][i] : std::string();
        out += (i == 0 ? "\"" : ", \"") + json_escape(response.columns[i].name) + "\": ";
        if (response.columns[i].numeric && !cell.empty() && cell != "-") out += cell;
        else if (response.columns[i].numeric) out += "null";
        else out += "\"" + json_escape(cell) + "\"";
      }
      out += "}";
    }
    out += response.rows.empty() ? "]\n" : "\n]\n";
    return out;
  }
  if (!response.text.empty()) return response.text;
  return std::string("{\"ok\": ") + (response.ok ? "true" : "false") + ", \"message\": \"" +
         json_escape(response.message) + "\"}\n";
}

}  // namespace wftpd
