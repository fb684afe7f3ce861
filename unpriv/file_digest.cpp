// OpenSSL 3 marks the low-level digest functions (SHA256_Init ...) deprecated in favour of
// EVP_Digest*. They are used here all the same, and the deprecation warnings are silenced in this
// file only, because EVP would bring OpenSSL's provider machinery (in a test program: 3.8 MB of
// text and 16,651 relocated pointers, dirtied at every exec) into wardenftpd-session, the image
// that exists to leave it out. The low-level functions are self-contained: statically linked
// they pull in 11 objects of libcrypto.a (the digests, their assembler, the CPU feature probe),
// about 72 KB of text and no relocated data, and they allocate, lock and open nothing, so they
// run under every post-auth filter as they are. Measurements: docs/ARCHITECTURE.md, "Two
// session images". If OpenSSL drops them, this file is the one place to change.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "unpriv/file_digest.hpp"

#include <openssl/md5.h>
#include <openssl/sha.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <variant>
#include <vector>

#include "common/ascii.hpp"

namespace wftpd {

struct FileDigest::State {
  std::variant<SHA256_CTX, SHA512_CTX, SHA_CTX, MD5_CTX> context;
};

std::string_view digest_name(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256: return "SHA-256";
    case DigestAlgorithm::kSha512: return "SHA-512";
    case DigestAlgorithm::kSha1: return "SHA-1";
    case DigestAlgorithm::kMd5: return "MD5";
  }
  return "SHA-256";
}

std::optional<DigestAlgorithm> parse_digest_name(std::string_view name) {
  for (const DigestAlgorithm algorithm : kAllDigests) {
    if (equals_ignoring_ascii_case(name, digest_name(algorithm))) return algorithm;
  }
  return std::nullopt;
}

FileDigest::FileDigest(DigestAlgorithm algorithm) : state_(std::make_unique<State>()) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      SHA256_Init(&state_->context.emplace<SHA256_CTX>());
      return;
    case DigestAlgorithm::kSha512:
      SHA512_Init(&state_->context.emplace<SHA512_CTX>());
      return;
    case DigestAlgorithm::kSha1:
      SHA1_Init(&state_->context.emplace<SHA_CTX>());
      return;
    case DigestAlgorithm::kMd5:
      MD5_Init(&state_->context.emplace<MD5_CTX>());
      return;
  }
}

FileDigest::~FileDigest() = default;

void FileDigest::update(std::span<const std::byte> bytes) {
  const void* data = bytes.data();
  const std::size_t size = bytes.size();
  std::visit(
      [&](auto& context) {
        using Context = std::decay_t<decltype(context)>;
        if constexpr (std::is_same_v<Context, SHA256_CTX>) SHA256_Update(&context, data, size);
        else if constexpr (std::is_same_v<Context, SHA512_CTX>) SHA512_Update(&context, data, size);
        else if constexpr (std::is_same_v<Context, SHA_CTX>) SHA1_Update(&context, data, size);
        else MD5_Update(&context, data, size);
      },
      state_->context);
}

std::string FileDigest::finish_hex() {
  std::array<unsigned char, SHA512_DIGEST_LENGTH> digest{};
  std::size_t length = 0;
  std::visit(
      [&](auto& context) {
        using Context = std::decay_t<decltype(context)>;
        if constexpr (std::is_same_v<Context, SHA256_CTX>) {
          SHA256_Final(digest.data(), &context);
          length = SHA256_DIGEST_LENGTH;
        } else if constexpr (std::is_same_v<Context, SHA512_CTX>) {
          SHA512_Final(digest.data(), &context);
          length = SHA512_DIGEST_LENGTH;
        } else if constexpr (std::is_same_v<Context, SHA_CTX>) {
          SHA1_Final(digest.data(), &context);
          length = SHA_DIGEST_LENGTH;
        } else {
          MD5_Final(digest.data(), &context);
          length = MD5_DIGEST_LENGTH;
        }
      },
      state_->context);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(length * 2);
  for (std::size_t i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0x0f];
  }
  return text;
}

std::string digest_hex(DigestAlgorithm algorithm, std::string_view bytes) {
  FileDigest digest(algorithm);
  digest.update(std::as_bytes(std::span(bytes.data(), bytes.size())));
  return digest.finish_hex();
}

DigestRead digest_file_range(int fd, std::uint64_t offset, std::uint64_t length,
                             FileDigest& digest, const std::function<bool()>& abort_requested) {
  constexpr std::size_t kChunk = 256u << 10;
  constexpr std::uint64_t kAbortCheckStep = 1ull << 20;
  DigestRead outcome;
  if (abort_requested()) return DigestRead{DigestReadResult::kAborted, 0, 0};
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return DigestRead{DigestReadResult::kFailed, 0, errno};
  }
  std::vector<std::byte> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, length)));
  std::uint64_t next_check = kAbortCheckStep;
  while (outcome.bytes < length) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - outcome.bytes));
    const ssize_t n = ::read(fd, buffer.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return DigestRead{DigestReadResult::kFailed, outcome.bytes, errno};
    if (n == 0) return DigestRead{DigestReadResult::kShrank, outcome.bytes, 0};
    digest.update(std::span(buffer.data(), static_cast<std::size_t>(n)));
    outcome.bytes += static_cast<std::uint64_t>(n);
    if (outcome.bytes >= next_check && outcome.bytes < length) {
      if (abort_requested()) return DigestRead{DigestReadResult::kAborted, outcome.bytes, 0};
      next_check = outcome.bytes + kAbortCheckStep;
    }
  }
  return outcome;
}

}  // namespace wftpd
