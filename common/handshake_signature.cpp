#include "common/handshake_signature.hpp"

#include <array>

namespace wftpd {
namespace {

constexpr std::array<SchemeInfo, 9> kSchemes = {{
    {SignatureScheme::kRsaPkcs1Sha256, KeyFamily::kRsa, false, "SHA256", 32},
    {SignatureScheme::kRsaPkcs1Sha384, KeyFamily::kRsa, false, "SHA384", 48},
    {SignatureScheme::kRsaPkcs1Sha512, KeyFamily::kRsa, false, "SHA512", 64},
    {SignatureScheme::kEcdsaSha256, KeyFamily::kEc, false, "SHA256", 32},
    {SignatureScheme::kEcdsaSha384, KeyFamily::kEc, false, "SHA384", 48},
    {SignatureScheme::kEcdsaSha512, KeyFamily::kEc, false, "SHA512", 64},
    {SignatureScheme::kRsaPssSha256, KeyFamily::kRsa, true, "SHA256", 32},
    {SignatureScheme::kRsaPssSha384, KeyFamily::kRsa, true, "SHA384", 48},
    {SignatureScheme::kRsaPssSha512, KeyFamily::kRsa, true, "SHA512", 64},
}};

// OpenSSL names a digest several ways ("SHA256", "SHA2-256", "sha256"); ours is the first.
std::string_view canonical_digest(std::string_view name) {
  auto equals = [&](std::string_view other) {
    if (name.size() != other.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != other[i]) return false;
    }
    return true;
  };
  if (equals("SHA256") || equals("SHA2-256")) return "SHA256";
  if (equals("SHA384") || equals("SHA2-384")) return "SHA384";
  if (equals("SHA512") || equals("SHA2-512")) return "SHA512";
  return {};
}

}  // namespace

std::optional<SchemeInfo> describe_scheme(std::uint16_t code) {
  for (const SchemeInfo& info : kSchemes) {
    if (static_cast<std::uint16_t>(info.scheme) == code) return info;
  }
  return std::nullopt;
}

std::optional<SignatureScheme> scheme_for(KeyFamily family, bool pss, std::string_view digest) {
  const std::string_view canonical = canonical_digest(digest);
  if (canonical.empty()) return std::nullopt;
  for (const SchemeInfo& info : kSchemes) {
    if (info.family == family && info.pss == pss && info.digest == canonical) return info.scheme;
  }
  return std::nullopt;
}

}  // namespace wftpd
