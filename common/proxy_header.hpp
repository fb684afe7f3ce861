// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a load balancer puts in
// front of a relayed TCP connection to say who the client really is. Only the listener parses
// it, and only on connections from trusted_proxies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wftpd {

// v1 is one text line of at most 107 bytes including CRLF; v2 is 16 bytes plus a length
// field. Longer v2 headers (many or big TLVs) are refused: nothing we need is in a TLV.
inline constexpr std::size_t kMaxProxyV1Bytes = 107;
inline constexpr std::size_t kMaxProxyV2Bytes = 1024;
inline constexpr std::size_t kMaxProxyHeaderBytes = kMaxProxyV2Bytes;

struct ProxyEndpoint {
  bool ipv4 = true;
  std::array<std::uint8_t, 16> address{};  // 4 bytes used for IPv4
  std::uint16_t port = 0;
};

enum class ProxyParseStatus {
  kNeedMore,  // every byte given is a prefix of a header that may still turn out valid
  kInvalid,   // not a PROXY header, or a malformed or unsupported one
  kParsed,
};

struct ProxyHeader {
  int version = 0;           // 1 or 2
  std::size_t length = 0;    // bytes the header occupies at the start of the stream
  // false: v1 UNKNOWN, v2 LOCAL or v2 PROXY over AF_UNSPEC: the proxy says nothing about the
  // client (a health check, or a protocol it cannot describe); the connection's own
  // addresses stand.
  bool has_addresses = false;
  ProxyEndpoint source;       // the client
  ProxyEndpoint destination;  // the address the client connected to (on the proxy)
};

struct ProxyParseResult {
  ProxyParseStatus status = ProxyParseStatus::kInvalid;
  ProxyHeader header;        // with kParsed
  std::string_view error;    // with kInvalid: a static description
};

// Parses the header at the start of `bytes` (which may hold more than the header: the client's
// first bytes). Never reads past bytes.size(); never allocates. Contract the listener relies on
// to consume nothing but header bytes: kNeedMore means bytes.size() is less than the header's
// length, so all of them may be consumed; kParsed gives exactly the header's length.
ProxyParseResult parse_proxy_header(std::span<const std::uint8_t> bytes);

}  // namespace wftpd
