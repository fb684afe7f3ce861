// The digests HASH answers with (draft-bryan-ftpext-hash-02): SHA-256, SHA-512, SHA-1 and MD5,
// computed incrementally. The one place that says which library computes them
// (file_digest.cpp): OpenSSL's low-level digest functions, which both session images link
// (the lean one only those objects; see docs/ARCHITECTURE.md, "Two session images").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace wftpd {

enum class DigestAlgorithm { kSha256, kSha512, kSha1, kMd5 };

inline constexpr DigestAlgorithm kDefaultDigest = DigestAlgorithm::kSha256;
inline constexpr DigestAlgorithm kAllDigests[] = {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512,
                                                  DigestAlgorithm::kSha1, DigestAlgorithm::kMd5};

// The IANA "Hash Function Textual Names" spelling: "SHA-256", "SHA-512", "SHA-1", "MD5".
std::string_view digest_name(DigestAlgorithm algorithm);
// The algorithm a name denotes, compared without regard to ASCII case; nothing for any other.
std::optional<DigestAlgorithm> parse_digest_name(std::string_view name);

// One digest being computed: update() any number of times, then finish_hex() once.
class FileDigest {
 public:
  explicit FileDigest(DigestAlgorithm algorithm);
  ~FileDigest();
  FileDigest(const FileDigest&) = delete;
  FileDigest& operator=(const FileDigest&) = delete;

  void update(std::span<const std::byte> bytes);
  // The digest in lowercase hexadecimal (the draft's SHOULD); the object is spent afterwards.
  std::string finish_hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The digest of `bytes` in one call (tests, and anything small).
std::string digest_hex(DigestAlgorithm algorithm, std::string_view bytes);

enum class DigestReadResult {
  kComplete,
  kAborted,  // abort_requested() said so (ABOR, or the control connection closed)
  kShrank,   // the file ended before `length` bytes (it was cut while being read)
  kFailed,   // a read failed: error_number
};
struct DigestRead {
  DigestReadResult result = DigestReadResult::kComplete;
  std::uint64_t bytes = 0;  // read and digested
  int error_number = 0;
};

// Feeds `digest` the `length` bytes of the open file `fd` from `offset`, read in 256 KiB chunks.
// Before the first read and after every MiB it asks `abort_requested` (which looks at the control
// connection without waiting), so a long digest ends on ABOR as a transfer does.
DigestRead digest_file_range(int fd, std::uint64_t offset, std::uint64_t length,
                             FileDigest& digest, const std::function<bool()>& abort_requested);

}  // namespace wftpd
