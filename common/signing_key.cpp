#include "common/signing_key.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <vector>

#include "common/wire_codec.hpp"

#include "common/remote_key.hpp"
#include "common/tls_context.hpp"

namespace wftpd {
namespace {

// Keys must never be read with a passphrase prompt on a daemon's terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

// Bounds of the parameter encoding: RSA-8192 has 8 numbers of at most 1024 bytes; EC a curve
// name, a point of at most 133 bytes and a scalar of at most 66, plus a few small settings.
constexpr std::uint16_t kMaxKeyParameters = 16;
constexpr std::size_t kMaxParameterName = 64;
constexpr std::size_t kMaxParameterValue = 2048;
constexpr char kParametersMagic[] = "wardenftpd-key-1";

void wipe_all(std::vector<std::string>& values) {
  for (auto& value : values) {
    OPENSSL_cleanse(value.data(), value.size());
    value.clear();
  }
}

}  // namespace

Result<std::string> SigningKey::export_parameters() const {
  OSSL_PARAM* params = nullptr;
  if (EVP_PKEY_todata(key_.get(), EVP_PKEY_KEYPAIR, &params) != 1) {
    return make_error("EVP_PKEY_todata: " + openssl_errors());
  }
  // SECURITY: sized first, so the buffer holding the key's numbers is never reallocated (which
  // would leave a copy in freed memory of the listener).
  std::size_t total = 2 + sizeof(kParametersMagic) + 1 + 2;
  for (const OSSL_PARAM* p = params; p->key != nullptr; ++p) {
    total += 2 + std::strlen(p->key) + 1 + 2 + p->data_size;
  }
  WireWriter out;
  out.reserve(total);
  out.bytes(kParametersMagic);
  out.u8(static_cast<std::uint8_t>(family_));
  std::uint16_t count = 0;
  for (const OSSL_PARAM* p = params; p->key != nullptr; ++p) ++count;
  out.u16(count);
  bool fits = count <= kMaxKeyParameters;
  for (const OSSL_PARAM* p = params; fits && p->key != nullptr; ++p) {
    const std::string_view name(p->key);
    // Strings are stored without their terminator (data_size excludes it once filled in).
    std::size_t size = p->data_size;
    if (p->data_type == OSSL_PARAM_UTF8_STRING) size = std::strlen(static_cast<const char*>(p->data));
    fits = name.size() <= kMaxParameterName && size <= kMaxParameterValue &&
           (p->data_type == OSSL_PARAM_UNSIGNED_INTEGER || p->data_type == OSSL_PARAM_INTEGER ||
            p->data_type == OSSL_PARAM_UTF8_STRING || p->data_type == OSSL_PARAM_OCTET_STRING);
    if (!fits) break;
    out.bytes(name);
    out.u8(static_cast<std::uint8_t>(p->data_type));
    out.bytes(std::string_view(static_cast<const char*>(p->data), size));
  }
  // OpenSSL 3.0 has no OSSL_PARAM_clear_free: clear the values, then free.
  for (OSSL_PARAM* p = params; p->key != nullptr; ++p) OPENSSL_cleanse(p->data, p->data_size);
  OSSL_PARAM_free(params);
  std::string encoded = out.take();
  if (!fits) {
    OPENSSL_cleanse(encoded.data(), encoded.size());
    return make_error("key parameters out of bounds");
  }
  return encoded;
}

Result<SigningKey> SigningKey::from_parameters(std::string_view encoded) {
  WireReader in(encoded);
  auto magic = in.bytes(sizeof(kParametersMagic));
  if (!magic || *magic != kParametersMagic) return make_error("not a key parameter block");
  auto family_code = in.u8();
  auto count = in.u16();
  if (!family_code || !count || (*family_code != 1 && *family_code != 2) || *count > kMaxKeyParameters) {
    return make_error("malformed key parameter block");
  }
  const auto family = static_cast<KeyFamily>(*family_code);
  std::vector<std::string> names;
  std::vector<std::string> values;
  std::vector<std::uint8_t> types;
  names.reserve(*count);
  values.reserve(*count);
  for (std::uint16_t i = 0; i < *count; ++i) {
    auto name = in.bytes(kMaxParameterName);
    auto type = in.u8();
    auto value = in.bytes(kMaxParameterValue);
    if (!name || !type || !value || name->empty()) {
      wipe_all(values);
      return make_error("malformed key parameter block");
    }
    names.push_back(std::move(*name));
    types.push_back(*type);
    values.push_back(std::move(*value));
  }
  if (!in.at_end()) {
    wipe_all(values);
    return make_error("trailing bytes after the key parameters");
  }
  std::vector<OSSL_PARAM> params;
  params.reserve(names.size() + 1);
  bool known = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    char* data = values[i].data();
    switch (types[i]) {
      case OSSL_PARAM_UNSIGNED_INTEGER:
        params.push_back(OSSL_PARAM_construct_BN(names[i].c_str(), reinterpret_cast<unsigned char*>(data),
                                                 values[i].size()));
        break;
      case OSSL_PARAM_INTEGER: {
        OSSL_PARAM p = OSSL_PARAM_construct_end();
        p.key = names[i].c_str();
        p.data_type = OSSL_PARAM_INTEGER;
        p.data = data;
        p.data_size = values[i].size();
        params.push_back(p);
        break;
      }
      case OSSL_PARAM_UTF8_STRING:
        params.push_back(OSSL_PARAM_construct_utf8_string(names[i].c_str(), data, values[i].size()));
        break;
      case OSSL_PARAM_OCTET_STRING:
        params.push_back(OSSL_PARAM_construct_octet_string(names[i].c_str(), data, values[i].size()));
        break;
      default: known = false;
    }
  }
  params.push_back(OSSL_PARAM_construct_end());
  EVP_PKEY* key = nullptr;
  if (known) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, family == KeyFamily::kRsa ? "RSA" : "EC", nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.data()) != 1) {
      key = nullptr;
    }
  }
  wipe_all(values);
  if (key == nullptr) return make_error("key parameters: " + (known ? openssl_errors() : "unknown type"));
  EvpPkeyPtr owned(key);
  auto checked = supported_key_family(owned.get());
  if (!checked) return checked.error();
  if (*checked != family) return make_error("key parameters: family mismatch");
  return SigningKey(std::move(owned), family);
}

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
