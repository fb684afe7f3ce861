// The server's private key where it is kept: the session monitor, which signs the digests the
// TLS endpoints send it (SignRequest) and does nothing else with the key. Every request is
// checked against the key: a scheme of the other key family, a digest of the wrong length or an
// unknown scheme is refused before OpenSSL sees it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/handshake_signature.hpp"
#include "common/openssl_handles.hpp"
#include "common/remote_key.hpp"
#include "common/result.hpp"

namespace wftpd {

class SigningKey {
 public:
  // Parses an unencrypted PEM private key (RSA 2048-8192 bits, or EC on P-256/P-384/P-521).
  // The caller wipes `pem`. The listener does this once per configuration.
  static Result<SigningKey> from_pem(std::string_view pem);

  // The key's numbers in the form the listener hands to sessions (the credential memfd): the
  // key family and its OpenSSL parameters, each a bounded, length-prefixed field. Loading it
  // costs a session monitor tens of microseconds, where decoding PEM costs it more than a
  // millisecond (OpenSSL 3's decoder framework, set up anew in every exec'd monitor). The
  // caller wipes the result.
  Result<std::string> export_parameters() const;
  // The inverse; the same checks as from_pem. The caller wipes `encoded`.
  static Result<SigningKey> from_parameters(std::string_view encoded);

  KeyFamily family() const { return family_; }
  EVP_PKEY* get() const { return key_.get(); }

  // Signs `digest` with `scheme` (a SignatureScheme code). Refuses anything that is not one of
  // the handshake schemes for this key's family with a digest of exactly that scheme's length.
  Result<std::string> sign(std::uint16_t scheme, std::string_view digest) const;

 private:
  SigningKey(EvpPkeyPtr key, KeyFamily family) : key_(std::move(key)), family_(family) {}
  EvpPkeyPtr key_;
  KeyFamily family_;
};

// A signer that holds the key itself: the listener's check of its credentials (which signs as a
// session's monitor would), and tests. Never used in a process that holds a client socket.
class LocalSigner final : public RemoteSigner {
 public:
  explicit LocalSigner(SigningKey key) : key_(std::move(key)) {}
  Result<std::string> sign(SignatureScheme scheme, std::string_view digest) override {
    return key_.sign(static_cast<std::uint16_t>(scheme), digest);
  }
  const SigningKey& key() const { return key_; }

 private:
  SigningKey key_;
};

}  // namespace wftpd
