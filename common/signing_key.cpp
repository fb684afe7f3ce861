#include "common/signing_key.hpp"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/remote_key.hpp"
#include "common/tls_context.hpp"

namespace wftpd {
namespace {

// Keys must never be read with a passphrase prompt on a daemon's terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

}  // namespace

Result<SigningKey> SigningKey::from_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error("BIO_new_mem_buf: " + openssl_errors());
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return make_error("no usable PEM private key (encrypted keys are not supported): " +
                      openssl_errors());
  }
  auto family = supported_key_family(key.get());
  if (!family) return family.error();
  return SigningKey(std::move(key), *family);
}

Result<std::string> SigningKey::sign(std::uint16_t code, std::string_view digest) const {
  const auto scheme = describe_scheme(code);
  // SECURITY: the signing oracle's whole vocabulary: a known scheme of this key's family, and
  // a digest exactly as long as that scheme's hash. No raw RSA, no decryption, no other hash.
  if (!scheme) return make_error("unknown signature scheme " + std::to_string(code));
  if (scheme->family != family_) {
    return make_error("signature scheme " + std::to_string(code) + " does not fit the key");
  }
  if (digest.size() != scheme->digest_length) {
    return make_error("digest of " + std::to_string(digest.size()) + " bytes for a " +
                      std::to_string(scheme->digest_length) + "-byte hash");
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  EVP_MD* md = EVP_MD_fetch(nullptr, std::string(scheme->digest).c_str(), nullptr);
  bool ready = ctx && md != nullptr && EVP_PKEY_sign_init(ctx.get()) == 1 &&
               EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1;
  if (ready && scheme->family == KeyFamily::kRsa) {
    ready = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), scheme->pss ? RSA_PKCS1_PSS_PADDING
                                                                : RSA_PKCS1_PADDING) == 1;
    if (ready && scheme->pss) {
      ready = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) == 1;
    }
  }
  EVP_MD_free(md);
  const auto* in = reinterpret_cast<const unsigned char*>(digest.data());
  std::size_t length = 0;
  if (!ready || EVP_PKEY_sign(ctx.get(), nullptr, &length, in, digest.size()) != 1 ||
      length == 0 || length > kMaxSignatureLength) {
    return make_error("signing: " + openssl_errors());
  }
  std::string signature(length, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, in,
                    digest.size()) != 1) {
    return make_error("EVP_PKEY_sign: " + openssl_errors());
  }
  signature.resize(length);
  return signature;
}

}  // namespace wftpd
