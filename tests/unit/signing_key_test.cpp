// The monitor's side of the signing oracle: SigningKey accepts exactly the handshake schemes of
// its key's family with a digest of the scheme's length, and its signatures verify; the
// SignRequest decoder refuses the same things before a handler sees them.
#include "common/signing_key.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <string>

#include "common/monitor_protocol.hpp"
#include "test_pki.hpp"

namespace wftpd {
namespace {

using unit_test::read_test_file;
using unit_test::test_pki;

SigningKey load(const std::string& path) {
  auto key = SigningKey::from_pem(read_test_file(path));
  EXPECT_TRUE(key.ok()) << key.error().message;
  return std::move(*key);
}

bool verifies(const SigningKey& key, const SchemeInfo& scheme, const std::string& digest,
              const std::string& signature) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  EVP_MD* md = EVP_MD_fetch(nullptr, std::string(scheme.digest).c_str(), nullptr);
  bool ok = ctx && md != nullptr && EVP_PKEY_verify_init(ctx.get()) == 1 &&
            EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1;
  if (ok && scheme.family == KeyFamily::kRsa) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), scheme.pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1;
    if (ok && scheme.pss) ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  EVP_MD_free(md);
  return ok && EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                               signature.size(), reinterpret_cast<const unsigned char*>(digest.data()),
                               digest.size()) == 1;
}

constexpr std::uint16_t kAllSchemes[] = {0x0401, 0x0501, 0x0601, 0x0403, 0x0503,
                                         0x0603, 0x0804, 0x0805, 0x0806};

TEST(SigningKey, SignsEverySchemeOfItsFamilyAndTheSignaturesVerify) {
  ASSERT_EQ(test_pki().error, "");
  for (const std::string& path : {test_pki().key, test_pki().rsa_key, test_pki().p384_key}) {
    SCOPED_TRACE(path);
    SigningKey key = load(path);
    for (const std::uint16_t code : kAllSchemes) {
      const auto scheme = describe_scheme(code);
      ASSERT_TRUE(scheme.has_value());
      const std::string digest(scheme->digest_length, '\x5a');
      auto signature = key.sign(code, digest);
      if (scheme->family != key.family()) {
        EXPECT_FALSE(signature.ok()) << code;
        continue;
      }
      ASSERT_TRUE(signature.ok()) << code << ": " << signature.error().message;
      EXPECT_LE(signature->size(), kMaxSignatureLength);
      EXPECT_TRUE(verifies(key, *scheme, digest, *signature)) << code;
    }
  }
}

TEST(SigningKey, RefusesUnknownSchemesAndDigestsOfTheWrongLength) {
  SigningKey rsa = load(test_pki().rsa_key);
  // SHA-1 and SHA-224 PKCS#1, rsa_pss_pss_*, ed25519: not handshake schemes of ours.
  for (const std::uint16_t code : {std::uint16_t{0x0201}, std::uint16_t{0x0301}, std::uint16_t{0x0809},
                                   std::uint16_t{0x0807}, std::uint16_t{0x0000}, std::uint16_t{0xffff}}) {
    EXPECT_FALSE(rsa.sign(code, std::string(32, 'x')).ok()) << code;
  }
  EXPECT_FALSE(rsa.sign(0x0804, std::string(31, 'x')).ok());
  EXPECT_FALSE(rsa.sign(0x0804, std::string(48, 'x')).ok());
  EXPECT_FALSE(rsa.sign(0x0401, "").ok());
  // A whole message or a padded block is never signed: only a digest's length is accepted.
  EXPECT_FALSE(rsa.sign(0x0401, std::string(256, 'x')).ok());
}

TEST(SigningKey, RefusesUnsupportedKeys) {
  EXPECT_FALSE(SigningKey::from_pem(read_test_file(test_pki().weak_key)).ok());  // RSA-1024
  EXPECT_FALSE(SigningKey::from_pem("").ok());
  EXPECT_FALSE(SigningKey::from_pem(read_test_file(test_pki().cert)).ok());
}

TEST(SigningKey, ParametersRoundTripToTheSameKey) {
  for (const std::string& path : {test_pki().key, test_pki().rsa_key, test_pki().p384_key}) {
    SCOPED_TRACE(path);
    SigningKey key = load(path);
    auto encoded = key.export_parameters();
    ASSERT_TRUE(encoded.ok()) << encoded.error().message;
    auto again = SigningKey::from_parameters(*encoded);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->family(), key.family());
    EXPECT_EQ(EVP_PKEY_eq(again->get(), key.get()), 1);
    // It signs: the private half came through.
    const auto scheme = describe_scheme(key.family() == KeyFamily::kRsa ? 0x0804 : 0x0403);
    const std::string digest(32, 'q');
    auto signature = again->sign(static_cast<std::uint16_t>(scheme->scheme), digest);
    ASSERT_TRUE(signature.ok()) << signature.error().message;
    EXPECT_TRUE(verifies(key, *scheme, digest, *signature));
  }
}

TEST(SigningKey, MalformedParametersAreRefused) {
  SigningKey key = load(test_pki().key);
  auto encoded = key.export_parameters();
  ASSERT_TRUE(encoded.ok());
  EXPECT_FALSE(SigningKey::from_parameters("").ok());
  EXPECT_FALSE(SigningKey::from_parameters(encoded->substr(0, encoded->size() - 1)).ok());
  EXPECT_FALSE(SigningKey::from_parameters(*encoded + "x").ok());
  std::string other_family = *encoded;
  other_family[2 + std::string_view("wardenftpd-key-1").size()] = 1;  // claims RSA
  EXPECT_FALSE(SigningKey::from_parameters(other_family).ok());
  EXPECT_FALSE(SigningKey::from_parameters(read_test_file(test_pki().key)).ok());  // PEM
}

TEST(SignRequest, DecoderTakesOnlyKnownSchemesWithDigestsOfTheirLength) {
  for (const std::uint16_t code : kAllSchemes) {
    const auto scheme = describe_scheme(code);
    const SignRequest request{scheme->scheme, std::string(scheme->digest_length, 'd')};
    const std::string datagram = encode_message(request);
    auto header = decode_header(datagram);
    ASSERT_TRUE(header.ok());
    auto decoded = decode_payload<SignRequest>(header->payload);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->scheme, request.scheme);
    EXPECT_EQ(decoded->digest, request.digest);
  }
  auto decode = [](std::uint16_t code, std::size_t digest_length) {
    WireWriter out;
    out.u16(code);
    out.bytes(std::string(digest_length, 'd'));
    return decode_payload<SignRequest>(out.data()).ok();
  };
  EXPECT_TRUE(decode(0x0403, 32));
  EXPECT_FALSE(decode(0x0403, 31));
  EXPECT_FALSE(decode(0x0403, 64));
  EXPECT_FALSE(decode(0x0201, 20));  // SHA-1
  EXPECT_FALSE(decode(0x0807, 32));  // ed25519 signs messages, not digests
  EXPECT_FALSE(decode(0x0806, 65));
}

TEST(SignResult, SignatureIsBounded) {
  WireWriter out;
  out.bytes(std::string(kMaxSignatureLength + 1, 's'));
  EXPECT_FALSE(decode_payload<SignResult>(out.data()).ok());
  WireWriter fits;
  fits.bytes(std::string(kMaxSignatureLength, 's'));
  EXPECT_TRUE(decode_payload<SignResult>(fits.data()).ok());
}

}  // namespace
}  // namespace wftpd
