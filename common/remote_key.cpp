#include "common/remote_key.hpp"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <charconv>
#include <cstring>
#include <mutex>

#include "common/tls_context.hpp"

namespace wftpd {
namespace {

constexpr char kProviderName[] = "wardenftpd-remote-key";
constexpr char kProperties[] = "provider=wardenftpd-remote-key";
// The import parameter that carries the signer (an OSSL_PARAM_OCTET_PTR to a RemoteSigner).
constexpr char kSignerParam[] = "wardenftpd-remote-signer";
// Where the public half lives and the digests are computed: the default provider in the
// default library context.
constexpr char kDefaultProvider[] = "provider=default";

// ---------------------------------------------------------------------------------------------
// Key manager: the public half (a default-provider key) and the signer.

struct RemoteKeyData {
  KeyFamily family;
  EVP_PKEY* public_key = nullptr;
  RemoteSigner* signer = nullptr;  // null for a key imported for a comparison
};

const char* family_name(KeyFamily family) { return family == KeyFamily::kRsa ? "RSA" : "EC"; }

template <KeyFamily Family>
void* key_new(void*) {
  return new (std::nothrow) RemoteKeyData{Family};
}

void key_free(void* keydata) {
  auto* key = static_cast<RemoteKeyData*>(keydata);
  if (key == nullptr) return;
  EVP_PKEY_free(key->public_key);
  delete key;
}

int key_has(const void* keydata, int selection) {
  const auto* key = static_cast<const RemoteKeyData*>(keydata);
  if (key == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0 && key->public_key == nullptr) return 0;
  // The private half is "present" exactly when there is someone to sign with it.
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && key->signer == nullptr) return 0;
  return 1;
}

int key_match(const void* keydata1, const void* keydata2, int) {
  const auto* a = static_cast<const RemoteKeyData*>(keydata1);
  const auto* b = static_cast<const RemoteKeyData*>(keydata2);
  if (a == nullptr || b == nullptr || a->public_key == nullptr || b->public_key == nullptr) return 0;
  return EVP_PKEY_eq(a->public_key, b->public_key) == 1 ? 1 : 0;
}

template <KeyFamily Family>
int key_import(void* keydata, int, const OSSL_PARAM params[]) {
  auto* key = static_cast<RemoteKeyData*>(keydata);
  if (key == nullptr || key->public_key != nullptr) return 0;
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, kSignerParam)) {
    const void* pointer = nullptr;
    std::size_t size = 0;
    if (OSSL_PARAM_get_octet_ptr(p, &pointer, &size) != 1 || size != sizeof(RemoteSigner)) return 0;
    key->signer = static_cast<RemoteSigner*>(const_cast<void*>(pointer));
  }
  // SECURITY: only the public half is taken, whatever else the parameters hold.
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, family_name(Family), kDefaultProvider);
  const bool made = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                    EVP_PKEY_fromdata(ctx, &key->public_key, EVP_PKEY_PUBLIC_KEY,
                                      const_cast<OSSL_PARAM*>(params)) == 1;
  EVP_PKEY_CTX_free(ctx);
  return made ? 1 : 0;
}

// SECURITY (of the design, not of a secret): the key never leaves this provider. OpenSSL tries
// to export a key to the provider of the first signature implementation it finds (the default
// provider's, which would then sign with a key that has no private half); refusing the export
// makes it use this provider's signature. Comparisons still work: OpenSSL then imports the
// other key here instead (key_import, key_match).
int key_export(void*, int, OSSL_CALLBACK*, void*) { return 0; }

template <KeyFamily Family>
const OSSL_PARAM* key_types(int) {
  static const OSSL_PARAM kRsa[] = {OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
                                    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0), OSSL_PARAM_END};
  static const OSSL_PARAM kEc[] = {
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0), OSSL_PARAM_END};
  return Family == KeyFamily::kRsa ? kRsa : kEc;
}

int key_get_params(void* keydata, OSSL_PARAM params[]) {
  const auto* key = static_cast<const RemoteKeyData*>(keydata);
  if (key == nullptr || key->public_key == nullptr) return 0;
  // Sizes, security bits, the EC group and point format: the public key's answers.
  return EVP_PKEY_get_params(key->public_key, params);
}

template <KeyFamily Family>
const OSSL_PARAM* key_gettable_params(void*) {
  // The default provider's list for the same key type (static data of that provider).
  EVP_KEYMGMT* keymgmt = EVP_KEYMGMT_fetch(nullptr, family_name(Family), kDefaultProvider);
  const OSSL_PARAM* gettable = keymgmt != nullptr ? EVP_KEYMGMT_gettable_params(keymgmt) : nullptr;
  EVP_KEYMGMT_free(keymgmt);
  return gettable;
}

template <KeyFamily Family>
const char* key_operation_name(int operation) {
  if (operation != OSSL_OP_SIGNATURE) return nullptr;
  return Family == KeyFamily::kRsa ? "RSA" : "ECDSA";
}

using Function = void (*)();
template <class F>
Function fn(F* f) {
  return reinterpret_cast<Function>(f);
}

template <KeyFamily Family>
const OSSL_DISPATCH kKeyManager[] = {
    {OSSL_FUNC_KEYMGMT_NEW, fn(&key_new<Family>)},
    {OSSL_FUNC_KEYMGMT_FREE, fn(&key_free)},
    {OSSL_FUNC_KEYMGMT_HAS, fn(&key_has)},
    {OSSL_FUNC_KEYMGMT_MATCH, fn(&key_match)},
    {OSSL_FUNC_KEYMGMT_IMPORT, fn(&key_import<Family>)},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, fn(&key_types<Family>)},
    {OSSL_FUNC_KEYMGMT_EXPORT, fn(&key_export)},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, fn(&key_types<Family>)},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, fn(&key_get_params)},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, fn(&key_gettable_params<Family>)},
    {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, fn(&key_operation_name<Family>)},
    {0, nullptr}};

// ---------------------------------------------------------------------------------------------
// Signature: the digest is computed here, the signature is the signer's.

struct SignContext {
  RemoteKeyData* key = nullptr;  // the provider key; owned by its EVP_PKEY
  EVP_MD* md = nullptr;
  EVP_MD_CTX* digest = nullptr;
  int padding = RSA_PKCS1_PADDING;
  int salt_length = RSA_PSS_SALTLEN_DIGEST;
  bool mgf1_differs = false;  // an MGF1 digest other than the message digest was asked for
};

void* sign_newctx(void*, const char*) { return new (std::nothrow) SignContext; }

void sign_freectx(void* context) {
  auto* ctx = static_cast<SignContext*>(context);
  if (ctx == nullptr) return;
  EVP_MD_CTX_free(ctx->digest);
  EVP_MD_free(ctx->md);
  delete ctx;
}

void* sign_dupctx(void* context) {
  const auto* from = static_cast<const SignContext*>(context);
  auto* to = new (std::nothrow) SignContext(*from);
  if (to == nullptr) return nullptr;
  to->md = nullptr;
  to->digest = nullptr;
  if (from->md != nullptr) {
    if (EVP_MD_up_ref(from->md) != 1) {
      sign_freectx(to);
      return nullptr;
    }
    to->md = from->md;
  }
  if (from->digest != nullptr) {
    to->digest = EVP_MD_CTX_new();
    if (to->digest == nullptr || EVP_MD_CTX_copy_ex(to->digest, from->digest) != 1) {
      sign_freectx(to);
      return nullptr;
    }
  }
  return to;
}

int sign_set_ctx_params(void* context, const OSSL_PARAM params[]) {
  auto* ctx = static_cast<SignContext*>(context);
  if (ctx == nullptr) return 0;
  if (params == nullptr) return 1;
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) {
    if (p->data_type == OSSL_PARAM_UTF8_STRING) {
      const char* mode = nullptr;
      if (OSSL_PARAM_get_utf8_string_ptr(p, &mode) != 1) return 0;
      if (std::strcmp(mode, "pss") == 0) ctx->padding = RSA_PKCS1_PSS_PADDING;
      else if (std::strcmp(mode, "pkcs1") == 0) ctx->padding = RSA_PKCS1_PADDING;
      else return 0;
    } else if (OSSL_PARAM_get_int(p, &ctx->padding) != 1) {
      return 0;
    }
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) {
    if (p->data_type == OSSL_PARAM_UTF8_STRING) {
      const char* text = nullptr;
      if (OSSL_PARAM_get_utf8_string_ptr(p, &text) != 1) return 0;
      const std::string_view value(text);
      if (value == "digest") {
        ctx->salt_length = RSA_PSS_SALTLEN_DIGEST;
      } else if (std::from_chars(value.data(), value.data() + value.size(), ctx->salt_length).ec !=
                 std::errc()) {
        return 0;
      }
    } else if (OSSL_PARAM_get_int(p, &ctx->salt_length) != 1) {
      return 0;
    }
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) {
    const char* name = nullptr;
    if (OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1) return 0;
    ctx->mgf1_differs = ctx->md == nullptr || !EVP_MD_is_a(ctx->md, name);
  }
  return 1;
}

const OSSL_PARAM* sign_settable_ctx_params(void*, void*) {
  static const OSSL_PARAM kSettable[] = {
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, nullptr, 0), OSSL_PARAM_END};
  return kSettable;
}

int sign_digest_init(void* context, const char* md_name, void* provkey, const OSSL_PARAM params[]) {
  auto* ctx = static_cast<SignContext*>(context);
  if (ctx == nullptr || provkey == nullptr) return 0;
  ctx->key = static_cast<RemoteKeyData*>(provkey);
  EVP_MD_free(ctx->md);
  ctx->md = EVP_MD_fetch(nullptr, md_name != nullptr ? md_name : "SHA256", kDefaultProvider);
  if (ctx->md == nullptr) return 0;
  if (ctx->digest == nullptr) ctx->digest = EVP_MD_CTX_new();
  if (ctx->digest == nullptr || EVP_DigestInit_ex(ctx->digest, ctx->md, nullptr) != 1) return 0;
  return sign_set_ctx_params(context, params);
}

int sign_digest_update(void* context, const unsigned char* data, std::size_t length) {
  auto* ctx = static_cast<SignContext*>(context);
  if (ctx == nullptr || ctx->digest == nullptr) return 0;
  return EVP_DigestUpdate(ctx->digest, data, length);
}

int sign_digest_final(void* context, unsigned char* signature, std::size_t* signature_length,
                      std::size_t signature_size) {
  auto* ctx = static_cast<SignContext*>(context);
  if (ctx == nullptr || ctx->key == nullptr || ctx->key->public_key == nullptr || ctx->md == nullptr) {
    return 0;
  }
  if (signature == nullptr) {
    // The size query (EVP_DigestSign's first call): nothing is signed.
    const int size = EVP_PKEY_get_size(ctx->key->public_key);
    if (size <= 0) return 0;
    *signature_length = static_cast<std::size_t>(size);
    return 1;
  }
  if (ctx->key->signer == nullptr) return 0;
  const KeyFamily family = ctx->key->family;
  const bool pss = family == KeyFamily::kRsa && ctx->padding == RSA_PKCS1_PSS_PADDING;
  if (family == KeyFamily::kRsa && !pss && ctx->padding != RSA_PKCS1_PADDING) return 0;
  const auto scheme = scheme_for(family, pss, EVP_MD_get0_name(ctx->md));
  if (!scheme) return 0;
  const auto info = describe_scheme(static_cast<std::uint16_t>(*scheme));
  // TLS signs with PSS salts as long as the digest and MGF1 over the same digest; nothing else
  // is asked of the key's holder.
  if (pss && ((ctx->salt_length != RSA_PSS_SALTLEN_DIGEST &&
               ctx->salt_length != static_cast<int>(info->digest_length)) ||
              ctx->mgf1_differs)) {
    return 0;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_DigestFinal_ex(ctx->digest, digest, &digest_length) != 1 ||
      digest_length != info->digest_length) {
    return 0;
  }
  auto signed_digest = ctx->key->signer->sign(
      *scheme, std::string_view(reinterpret_cast<const char*>(digest), digest_length));
  if (!signed_digest) {
    ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "remote signer: %s",
                   signed_digest.error().message.c_str());
    return 0;
  }
  if (signed_digest->empty() || signed_digest->size() > signature_size) return 0;
  std::memcpy(signature, signed_digest->data(), signed_digest->size());
  *signature_length = signed_digest->size();
  return 1;
}

const OSSL_DISPATCH kSignature[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, fn(&sign_newctx)},
    {OSSL_FUNC_SIGNATURE_FREECTX, fn(&sign_freectx)},
    {OSSL_FUNC_SIGNATURE_DUPCTX, fn(&sign_dupctx)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, fn(&sign_digest_init)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, fn(&sign_digest_update)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, fn(&sign_digest_final)},
    {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, fn(&sign_set_ctx_params)},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, fn(&sign_settable_ctx_params)},
    {0, nullptr}};

// ---------------------------------------------------------------------------------------------
// The provider.

const OSSL_ALGORITHM kKeyManagers[] = {
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kProperties, kKeyManager<KeyFamily::kRsa>,
     "RSA key whose signatures are made elsewhere"},
    {"EC:id-ecPublicKey:1.2.840.10045.2.1", kProperties, kKeyManager<KeyFamily::kEc>,
     "EC key whose signatures are made elsewhere"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM kSignatures[] = {
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kProperties, kSignature, "remote RSA signature"},
    {"ECDSA", kProperties, kSignature, "remote ECDSA signature"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM* provider_query(void*, int operation, int* no_cache) {
  *no_cache = 0;
  switch (operation) {
    case OSSL_OP_KEYMGMT: return kKeyManagers;
    case OSSL_OP_SIGNATURE: return kSignatures;
    default: return nullptr;
  }
}

const OSSL_DISPATCH kProvider[] = {{OSSL_FUNC_PROVIDER_QUERY_OPERATION, fn(&provider_query)},
                                   {0, nullptr}};

int provider_init(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out,
                  void** provider_context) {
  *out = kProvider;
  *provider_context = nullptr;
  return 1;
}

// The library context that holds only this provider (so no ordinary fetch can find it), made
// once per process.
OSSL_LIB_CTX* remote_key_library() {
  static OSSL_LIB_CTX* library = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
    if (ctx == nullptr) return;
    if (OSSL_PROVIDER_add_builtin(ctx, kProviderName, provider_init) != 1 ||
        OSSL_PROVIDER_load(ctx, kProviderName) == nullptr) {
      OSSL_LIB_CTX_free(ctx);
      return;
    }
    library = ctx;
  });
  return library;
}

}  // namespace

Result<KeyFamily> supported_key_family(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < 2048 || bits > 8192) {
      return make_error("RSA key of " + std::to_string(bits) + " bits (2048 to 8192 are supported)");
    }
    return KeyFamily::kRsa;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &length) != 1) {
      return make_error("EC key without a named curve");
    }
    const std::string_view name(group, length);
    if (name != "prime256v1" && name != "P-256" && name != "secp384r1" && name != "P-384" &&
        name != "secp521r1" && name != "P-521") {
      return make_error("EC key on curve " + std::string(name) + " (P-256, P-384 and P-521 are supported)");
    }
    return KeyFamily::kEc;
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return make_error(std::string("key type ") + (type != nullptr ? type : "unknown") +
                    " (RSA and ECDSA keys are supported)");
}

Result<EvpPkeyPtr> make_remote_key(EVP_PKEY* public_key, RemoteSigner& signer) {
  auto family = supported_key_family(public_key);
  if (!family) return family.error();
  OSSL_LIB_CTX* library = remote_key_library();
  if (library == nullptr) return make_error("remote-key provider: " + openssl_errors());
  OSSL_PARAM* public_params = nullptr;
  if (EVP_PKEY_todata(public_key, EVP_PKEY_PUBLIC_KEY, &public_params) != 1) {
    return make_error("EVP_PKEY_todata: " + openssl_errors());
  }
  void* signer_pointer = &signer;
  const OSSL_PARAM signer_param[] = {
      OSSL_PARAM_construct_octet_ptr(kSignerParam, &signer_pointer, sizeof(RemoteSigner)),
      OSSL_PARAM_construct_end()};
  // The merged list points into public_params' data: both are freed after the import.
  OSSL_PARAM* params = OSSL_PARAM_merge(public_params, signer_param);
  if (params == nullptr) {
    OSSL_PARAM_free(public_params);
    return make_error("OSSL_PARAM_merge: " + openssl_errors());
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(library, family_name(*family), kProperties));
  EVP_PKEY* key = nullptr;
  const bool made = ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
                    EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params) == 1;
  OSSL_PARAM_free(params);
  OSSL_PARAM_free(public_params);
  if (!made) return make_error("remote key: " + openssl_errors());
  return EvpPkeyPtr(key);
}

}  // namespace wftpd
