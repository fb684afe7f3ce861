// The signing oracle's input path in the monitor: a SignRequest payload from a possibly
// compromised child, decoded, then handed to SigningKey::sign with a real EC and a real RSA key
// (as MonitorDispatcher::sign_for does through the session's ports).
//
// Checked: a decoded request names a handshake scheme and carries a digest of exactly that
// scheme's length; the key signs it if and only if the scheme is of the key's family; a
// signature is never empty and never longer than kMaxSignatureLength; the SignResult that
// carries it decodes back to the same bytes. The input also goes to SignResult's decoder.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/signing_key.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace wftpd;

std::optional<SigningKey> make_key(EVP_PKEY* generated) {
  FUZZ_CHECK(generated != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  FUZZ_CHECK(PEM_write_bio_PrivateKey(bio, generated, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  auto key = SigningKey::from_pem(std::string_view(data, static_cast<std::size_t>(length)));
  BIO_free(bio);
  EVP_PKEY_free(generated);
  FUZZ_CHECK(key.ok());
  return std::move(*key);
}

std::optional<SigningKey>& ec_key() {
  static std::optional<SigningKey> key;
  return key;
}
std::optional<SigningKey>& rsa_key() {
  static std::optional<SigningKey> key;
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ec_key() = make_key(EVP_EC_gen("P-256"));
  rsa_key() = make_key(EVP_RSA_gen(2048));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  (void)decode_payload<SignResult>(payload);
  auto request = decode_payload<SignRequest>(payload);
  if (!request) {
    FUZZ_CHECK(!request.error().message.empty());
    return 0;
  }
  const auto info = describe_scheme(static_cast<std::uint16_t>(request->scheme));
  FUZZ_CHECK(info.has_value() && request->digest.size() == info->digest_length);
  FUZZ_CHECK(encode_message(*request).substr(kMonitorHeaderSize) == payload);
  for (const SigningKey* key : {&*ec_key(), &*rsa_key()}) {
    auto signature = key->sign(static_cast<std::uint16_t>(request->scheme), request->digest);
    FUZZ_CHECK(signature.ok() == (info->family == key->family()));
    if (!signature) continue;
    FUZZ_CHECK(!signature->empty() && signature->size() <= kMaxSignatureLength);
    const std::string datagram = encode_message(SignResult{*signature});
    auto result = decode_payload<SignResult>(std::string_view(datagram).substr(kMonitorHeaderSize));
    FUZZ_CHECK(result.ok() && result->signature == *signature);
  }
  return 0;
}
