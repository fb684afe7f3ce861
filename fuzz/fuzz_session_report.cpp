// The session reports a monitor writes on its report socket (priv/session_report.hpp), as the
// listener reads them: a byte stream in arbitrary pieces; and the listener's notices, as the
// monitor decodes them.
//
// Checks: the reader buffers no more than one frame's worth; every decoded report re-encodes to
// the very frame it came from (so nothing the listener believes was dropped or added); its
// strings and quota figures stay within their bounds; an error carries a description.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "priv/session_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The other direction: the whole input as one notice from the listener.
  if (auto notice = wftpd::decode_notice(input)) {
    FUZZ_CHECK(wftpd::encode_notice(*notice) == input);
    // A quota answer the monitor believes stays within the bounds its arithmetic assumes.
    FUZZ_CHECK(notice->used_bytes <= wftpd::kMaxByteSize && notice->used_files <= wftpd::kMaxQuotaFiles);
  } else {
    FUZZ_CHECK(!notice.error().message.empty());
  }
  wftpd::ReportReader reader;
  std::size_t offset = 0;
  // Pieces of 1..64 bytes, as a pipe may deliver them.
  while (offset < size) {
    const std::size_t piece = 1 + (static_cast<std::uint8_t>(input[offset]) % 64);
    const std::string_view bytes = input.substr(offset, piece);
    offset += bytes.size();
    reader.feed(bytes);
    for (;;) {
      const std::size_t before = reader.buffered();
      auto report = reader.next();
      if (!report) {
        FUZZ_CHECK(!report.error().message.empty());
        return 0;
      }
      if (!*report) {
        FUZZ_CHECK(reader.buffered() < wftpd::kMaxReportFrame + 64);
        break;
      }
      const std::string frame = wftpd::encode_report(**report);
      FUZZ_CHECK(frame.size() == before - reader.buffered());
      FUZZ_CHECK(frame.size() <= wftpd::kMaxReportFrame);
      FUZZ_CHECK((*report)->user.size() <= wftpd::kMaxLoginNameLength);
      FUZZ_CHECK((*report)->status.path.size() <= wftpd::kMaxStatusPathLength);
      // What the listener adds to a user's usage is bounded per report.
      FUZZ_CHECK((*report)->bytes_added <= wftpd::kMaxByteSize && (*report)->bytes_removed <= wftpd::kMaxByteSize);
      FUZZ_CHECK((*report)->files_added <= wftpd::kMaxQuotaFiles && (*report)->files_removed <= wftpd::kMaxQuotaFiles);
      FUZZ_CHECK((*report)->uploads_per_hour <= wftpd::kMaxUploadsPerHour);
    }
  }
  return 0;
}
