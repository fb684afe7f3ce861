// HASH, OPTS HASH and RANG (draft-bryan-ftpext-hash-02, draft-bryan-ftp-range-08) without I/O:
// their arguments, which bytes of a file a HASH covers, its reply, and the session's hashing
// budget. The post-auth engine (postauth_hash.cpp) reads the file and answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/result.hpp"
#include "unpriv/file_digest.hpp"

namespace wftpd {

// Whether this server serves HASH and RANG at all (and lists HASH in FEAT): hash_max_bytes > 0.
inline bool hash_enabled(const Config& config) { return config.hash_max_bytes > 0; }

// An octet range as RANG gives it: both ends inclusive ("RANG 0 1" is two octets).
struct OctetRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool operator==(const OctetRange&) const = default;
};

// RANG's argument: two decimal offsets. "RANG 1 0" is the draft's way to reset (no range);
// any other start past the end is an error, as is anything but two numbers.
enum class RangeError { kMalformed, kStartAfterEnd };
struct RangeRequest {
  std::optional<OctetRange> range;  // nothing: reset to the whole file
};
Result<RangeRequest, RangeError> parse_rang_argument(std::string_view argument);

// OPTS HASH's argument (what follows "HASH"): nothing asks for the current algorithm.
enum class HashOptionError { kUnknownAlgorithm, kMalformed };
struct HashOption {
  std::optional<DigestAlgorithm> select;  // nothing: a query
};
Result<HashOption, HashOptionError> parse_hash_option(std::string_view argument);

// Which bytes a HASH of a file of `file_size` bytes reads: the range if RANG set one (its end
// cut to the end of the file, as RETR would), else the whole file. `reported` is what the reply
// names: the inclusive range of the draft's examples ("0-49" for RANG 0 49, "0-99" for a file of
// 100 bytes); an empty file is "0-0", the draft requiring end >= start.
enum class HashSpanError { kStartPastEnd };
struct HashSpan {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  OctetRange reported;
};
Result<HashSpan, HashSpanError> hash_span(const std::optional<OctetRange>& range,
                                          std::uint64_t file_size);

// "SHA-256 0-49 <hex> <pathname>": the text of the 213 reply.
std::string hash_reply_text(DigestAlgorithm algorithm, const OctetRange& reported,
                            std::string_view hex, std::string_view pathname);

// FEAT's list after "HASH ": every algorithm, the selected one marked with '*'.
std::string hash_feature_list(DigestAlgorithm selected);

// How many bytes a session may have HASH read: a bucket of `capacity` bytes (hash_max_bytes,
// so one largest HASH always fits a full bucket) refilled at `bytes_per_second`
// (hash_bytes_per_second). Reading is charged after the fact, so an aborted HASH costs what it
// read.
class HashBudget {
 public:
  using Clock = std::chrono::steady_clock;
  HashBudget(std::uint64_t capacity, std::uint64_t bytes_per_second, Clock::time_point now);

  // 0 when `bytes` may be read now; otherwise the whole seconds until they may.
  std::uint64_t seconds_until(std::uint64_t bytes, Clock::time_point now);
  void spend(std::uint64_t bytes, Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  std::uint64_t capacity_;
  std::uint64_t rate_;
  std::uint64_t available_;
  Clock::time_point last_;
};

}  // namespace wftpd
