// The signatures a TLS handshake asks of the server's private key, named by their TLS
// SignatureScheme code (RFC 8446, 4.2.3). They are the whole vocabulary of the signing request
// between a TLS endpoint and the process that holds the key (common/remote_key.hpp,
// common/signing_key.hpp): the endpoint sends a scheme and the digest it computed, never a
// message, a padded block or a ciphertext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wftpd {

enum class KeyFamily : std::uint8_t { kRsa = 1, kEc = 2 };

enum class SignatureScheme : std::uint16_t {
  kRsaPkcs1Sha256 = 0x0401,  // TLS 1.2 only
  kRsaPkcs1Sha384 = 0x0501,
  kRsaPkcs1Sha512 = 0x0601,
  kEcdsaSha256 = 0x0403,  // ecdsa_secp256r1_sha256 (TLS 1.3 ties it to P-256; 1.2 does not)
  kEcdsaSha384 = 0x0503,
  kEcdsaSha512 = 0x0603,
  kRsaPssSha256 = 0x0804,  // rsa_pss_rsae_*: an rsaEncryption key, PSS, salt = digest length
  kRsaPssSha384 = 0x0805,
  kRsaPssSha512 = 0x0806,
};

struct SchemeInfo {
  SignatureScheme scheme;
  KeyFamily family;
  bool pss;                   // RSA: PSS (else PKCS#1 v1.5); false for ECDSA
  std::string_view digest;    // OpenSSL digest name
  std::size_t digest_length;  // bytes; also the PSS salt length
};

// The scheme with this code, if it is one of ours (anything else is refused).
std::optional<SchemeInfo> describe_scheme(std::uint16_t code);

// The scheme for a key family, padding and digest name as OpenSSL spells it ("SHA256",
// "SHA2-256", ...); nothing when it is not one of ours.
std::optional<SignatureScheme> scheme_for(KeyFamily family, bool pss, std::string_view digest);

// For SSL_CTX_set1_sigalgs_list: exactly the schemes above, so a handshake never needs another.
inline constexpr char kHandshakeSignatureAlgorithms[] =
    "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512:"
    "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:"
    "rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512";

// The largest signature any supported key makes (RSA 8192 bits); bigger keys are refused.
inline constexpr std::size_t kMaxSignatureLength = 1024;
inline constexpr std::size_t kMaxDigestLength = 64;

}  // namespace wftpd
