#include "common/proxy_header.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace wftpd {
namespace {

constexpr std::array<std::uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2FixedBytes = 16;
constexpr std::string_view kV1Prefix = "PROXY ";

ProxyParseResult need_more() { return ProxyParseResult{ProxyParseStatus::kNeedMore, {}, {}}; }
ProxyParseResult invalid(std::string_view why) {
  return ProxyParseResult{ProxyParseStatus::kInvalid, {}, why};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number of 1..max_digits digits without a leading zero ("0" itself is allowed).
bool parse_decimal(std::string_view text, std::size_t max_digits, std::uint32_t max,
                   std::uint32_t& out) {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  std::uint32_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

bool parse_ipv4(std::string_view text, std::array<std::uint8_t, 16>& address) {
  address = {};
  for (std::size_t part = 0; part < 4; ++part) {
    const std::size_t dot = text.find('.');
    const bool last = part == 3;
    if (last != (dot == std::string_view::npos)) return false;
    std::uint32_t value = 0;
    if (!parse_decimal(text.substr(0, dot), 3, 255, value)) return false;
    address[part] = static_cast<std::uint8_t>(value);
    if (!last) text.remove_prefix(dot + 1);
  }
  return true;
}

bool parse_ipv6(std::string_view text, std::array<std::uint8_t, 16>& address) {
  // The longest text form is 45 characters (IPv4-mapped with a dotted quad).
  char buffer[46] = {};
  if (text.size() < 2 || text.size() >= sizeof(buffer)) return false;
  for (const char c : text) {
    const bool ok = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                    c == '.';
    if (!ok) return false;
  }
  std::memcpy(buffer, text.data(), text.size());
  return ::inet_pton(AF_INET6, buffer, address.data()) == 1;
}

bool parse_endpoint(bool ipv4, std::string_view host, std::string_view port, ProxyEndpoint& out) {
  out.ipv4 = ipv4;
  if (!(ipv4 ? parse_ipv4(host, out.address) : parse_ipv6(host, out.address))) return false;
  std::uint32_t value = 0;
  if (!parse_decimal(port, 5, 65535, value)) return false;
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

// "PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT\r\n" or "PROXY UNKNOWN[ anything]\r\n".
ProxyParseResult parse_v1(std::span<const std::uint8_t> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::size_t compared = std::min(text.size(), kV1Prefix.size());
  if (text.substr(0, compared) != kV1Prefix.substr(0, compared)) return invalid("not a PROXY header");
  // The line ends at the first CR, which must be followed by LF and leave room for it within
  // the 107-byte limit. Every byte before it is printable ASCII.
  std::size_t line_end = std::string_view::npos;
  const std::size_t scan = std::min(text.size(), kMaxProxyV1Bytes - 1);
  for (std::size_t i = 0; i < scan; ++i) {
    const char c = text[i];
    if (c == '\r') {
      line_end = i;
      break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
      return invalid("v1 header holds a control or non-ASCII byte");
    }
  }
  if (line_end == std::string_view::npos) {
    if (text.size() >= kMaxProxyV1Bytes - 1) return invalid("v1 header longer than 107 bytes");
    return need_more();
  }
  if (line_end + 1 == text.size()) return need_more();
  if (text[line_end + 1] != '\n') return invalid("v1 header: CR not followed by LF");

  std::string_view line = text.substr(0, line_end);
  std::string_view fields[6];
  std::size_t count = 0;
  line.remove_prefix(kV1Prefix.size());
  const std::string_view protocol = line.substr(0, line.find(' '));
  ProxyParseResult result{ProxyParseStatus::kParsed, {}, {}};
  result.header.version = 1;
  result.header.length = line_end + 2;
  if (protocol == "UNKNOWN") {
    // The spec lets the sender put anything after "UNKNOWN "; the receiver ignores it.
    return result;
  }
  if (protocol != "TCP4" && protocol != "TCP6") return invalid("v1 header: unknown protocol");
  // Exactly five fields after PROXY, separated by single spaces.
  while (true) {
    const std::size_t space = line.find(' ');
    if (count == std::size(fields)) return invalid("v1 header: too many fields");
    fields[count++] = line.substr(0, space);
    if (fields[count - 1].empty()) return invalid("v1 header: empty field");
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  if (count != 5) return invalid("v1 header: expected protocol, two addresses and two ports");
  const bool ipv4 = protocol == "TCP4";
  if (!parse_endpoint(ipv4, fields[1], fields[3], result.header.source) ||
      !parse_endpoint(ipv4, fields[2], fields[4], result.header.destination)) {
    return invalid("v1 header: bad address or port");
  }
  result.header.has_addresses = true;
  return result;
}

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

ProxyParseResult parse_v2(std::span<const std::uint8_t> bytes) {
  const std::size_t compared = std::min(bytes.size(), kV2Signature.size());
  if (std::memcmp(bytes.data(), kV2Signature.data(), compared) != 0) {
    return invalid("not a PROXY header");
  }
  if (bytes.size() < kV2FixedBytes) return need_more();
  const std::uint8_t version = bytes[12] >> 4;
  const std::uint8_t command = bytes[12] & 0x0f;
  const std::uint8_t family = bytes[13];
  const std::size_t total = kV2FixedBytes + be16(&bytes[14]);
  if (version != 2) return invalid("v2 header: version is not 2");
  if (command != 0 && command != 1) return invalid("v2 header: unknown command");
  if (total > kMaxProxyV2Bytes) return invalid("v2 header longer than 1024 bytes");
  if (bytes.size() < total) return need_more();

  ProxyParseResult result{ProxyParseStatus::kParsed, {}, {}};
  result.header.version = 2;
  result.header.length = total;
  // LOCAL (health checks and the proxy's own connections): the address block is ignored, as
  // the spec requires. PROXY over AF_UNSPEC: the proxy cannot describe the client.
  if (command == 0 || family == 0x00) return result;

  std::size_t address_bytes = 0;
  bool ipv4 = true;
  if (family == 0x11) {  // AF_INET over STREAM
    address_bytes = 12;
  } else if (family == 0x21) {  // AF_INET6 over STREAM
    address_bytes = 36;
    ipv4 = false;
  } else {
    // SECURITY: AF_UNIX and datagram transports are not TCP clients; refused, never guessed.
    return invalid("v2 header: address family or transport other than TCP over IPv4/IPv6");
  }
  if (total - kV2FixedBytes < address_bytes) return invalid("v2 header: address block too short");
  const std::uint8_t* block = bytes.data() + kV2FixedBytes;
  const std::size_t width = ipv4 ? 4 : 16;
  result.header.source.ipv4 = result.header.destination.ipv4 = ipv4;
  std::memcpy(result.header.source.address.data(), block, width);
  std::memcpy(result.header.destination.address.data(), block + width, width);
  result.header.source.port = be16(block + 2 * width);
  result.header.destination.port = be16(block + 2 * width + 2);
  // TLVs are not used, but they must tile the rest of the header exactly.
  std::size_t at = kV2FixedBytes + address_bytes;
  while (at < total) {
    if (total - at < 3) return invalid("v2 header: truncated TLV");
    const std::size_t value_length = be16(bytes.data() + at + 1);
    if (total - at - 3 < value_length) return invalid("v2 header: TLV overruns the header");
    at += 3 + value_length;
  }
  result.header.has_addresses = true;
  return result;
}

}  // namespace

ProxyParseResult parse_proxy_header(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return need_more();
  if (bytes[0] == 'P') return parse_v1(bytes);
  if (bytes[0] == kV2Signature[0]) return parse_v2(bytes);
  return invalid("not a PROXY header");
}

}  // namespace wftpd
