// The PROXY protocol header parser (parse_proxy_header): the whole input is what a trusted
// proxy sent first on a connection.
//
// Checks the contract the listener's consumption relies on: a parsed header's length lies
// within the input and the bound for its version; the same bytes with anything appended parse
// to the same header; every shorter prefix of a parsed header needs more (so consuming a
// "need more" input never takes a byte past the header); a "need more" input is shorter than
// the largest header; an error carries a description.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/proxy_header.hpp"
#include "common/socket_address.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using wftpd::ProxyParseStatus;

bool same(const wftpd::ProxyHeader& a, const wftpd::ProxyHeader& b) {
  const auto same_endpoint = [](const wftpd::ProxyEndpoint& x, const wftpd::ProxyEndpoint& y) {
    return x.ipv4 == y.ipv4 && x.address == y.address && x.port == y.port;
  };
  return a.version == b.version && a.length == b.length && a.has_addresses == b.has_addresses &&
         same_endpoint(a.source, b.source) && same_endpoint(a.destination, b.destination);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const auto result = wftpd::parse_proxy_header(input);
  switch (result.status) {
    case ProxyParseStatus::kInvalid:
      FUZZ_CHECK(!result.error.empty());
      break;
    case ProxyParseStatus::kNeedMore:
      FUZZ_CHECK(size < wftpd::kMaxProxyHeaderBytes);
      break;
    case ProxyParseStatus::kParsed: {
      const auto& header = result.header;
      FUZZ_CHECK(header.length > 0 && header.length <= size);
      FUZZ_CHECK(header.version == 1 || header.version == 2);
      FUZZ_CHECK(header.length <= (header.version == 1 ? wftpd::kMaxProxyV1Bytes
                                                       : wftpd::kMaxProxyV2Bytes));
      if (header.has_addresses) {
        FUZZ_CHECK(header.source.ipv4 == header.destination.ipv4);
        // The listener turns both into socket addresses and the monitor reads them back.
        for (const auto* endpoint : {&header.source, &header.destination}) {
          const auto address =
              wftpd::SocketAddress::from_bytes(endpoint->ipv4, endpoint->address, endpoint->port);
          auto again = wftpd::SocketAddress::parse(address.to_string());
          FUZZ_CHECK(again.ok());
          FUZZ_CHECK(again->to_string() == address.to_string());
        }
      }
      // Only the header decides: the bytes after it (the client's) change nothing.
      const auto alone = wftpd::parse_proxy_header(input.first(header.length));
      FUZZ_CHECK(alone.status == ProxyParseStatus::kParsed && same(alone.header, header));
      std::vector<std::uint8_t> longer(data, data + header.length);
      longer.insert(longer.end(), {'Q', 'U', 'I', 'T', '\r', '\n'});
      const auto followed = wftpd::parse_proxy_header(longer);
      FUZZ_CHECK(followed.status == ProxyParseStatus::kParsed && same(followed.header, header));
      for (std::size_t n = 0; n < header.length; ++n) {
        FUZZ_CHECK(wftpd::parse_proxy_header(input.first(n)).status == ProxyParseStatus::kNeedMore);
      }
      break;
    }
  }
  return 0;
}
