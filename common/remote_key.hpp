// A private key that is somewhere else. A TLS endpoint that must never hold the server's key
// (the pre-auth child, which parses TLS records from unauthenticated clients; the post-auth
// child) gives OpenSSL an EVP_PKEY that has only the certificate's public key and a signer: when
// the handshake needs a signature, OpenSSL hashes the handshake data here and the signer is
// asked to sign that digest under one of the schemes of common/handshake_signature.hpp (in the
// daemon, a SignRequest to the session monitor, which holds the key).
//
// How: an OpenSSL 3 provider, in a library context of its own so that no other fetch of "RSA"
// or "EC" ever finds it, with a key manager (public half, delegated to the default provider,
// plus the signer) and a signature implementation (digest here, sign there). The design follows
// Cloudflare's Keyless SSL and the pkcs11-provider: the process with the key signs digests; it
// never decrypts and never signs a block the endpoint padded itself.
#pragma once

#include <string>
#include <string_view>

#include "common/handshake_signature.hpp"
#include "common/openssl_handles.hpp"
#include "common/result.hpp"

namespace wftpd {

class RemoteSigner {
 public:
  virtual ~RemoteSigner() = default;
  // The signature of `digest` (its length fits the scheme) as TLS sends it: the RSA signature
  // block, or the DER ECDSA signature. An error fails the handshake.
  virtual Result<std::string> sign(SignatureScheme scheme, std::string_view digest) = 0;
};

// An EVP_PKEY with the public half of `public_key` (RSA or EC) whose signatures `signer` makes.
// `signer` must outlive the key and every SSL_CTX and SSL that holds it.
Result<EvpPkeyPtr> make_remote_key(EVP_PKEY* public_key, RemoteSigner& signer);

// The family of a key this design supports: RSA of 2048 to 8192 bits, or EC on P-256, P-384 or
// P-521; anything else is an error naming what it is.
Result<KeyFamily> supported_key_family(EVP_PKEY* key);

}  // namespace wftpd
