// FTPS contexts (OpenSSL 3): the settings every TLS endpoint of a session shares, the
// certificate bundle the listener validates and hands to sessions, and the two server contexts:
// the control connection's (in the pre-auth child) and the data connections' (in the post-auth
// child). Neither ever holds the private key: a context has the certificate and a remote key
// (common/remote_key.hpp) whose signatures the session monitor makes, or (data connections with
// require_tls_session_reuse) no usable key at all.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/openssl_handles.hpp"
#include "common/remote_key.hpp"
#include "common/result.hpp"
#include "common/signing_key.hpp"

namespace wftpd {


// Session-ticket keys (name 16, HMAC 32, AES 32 bytes) of one FTP session: the tickets its
// control connection issues, and the only tickets its data connections can open.
inline constexpr std::size_t kTicketKeyBytes = 80;
using TicketKeys = std::array<unsigned char, kTicketKeyBytes>;
// Random keys: inetd mode, where each connection is a process of its own, and tests.
Result<TicketKeys> make_ticket_keys();

// The listener's secret from which every session's ticket keys are derived (random at start).
inline constexpr std::size_t kTicketSecretBytes = 32;
using TicketSecret = std::array<unsigned char, kTicketSecretBytes>;
Result<TicketSecret> make_ticket_secret();

// The ticket keys of a session of the client at `client_host` (its address as text): the same
// for every session of that address, different for every other address. Sessions of one client
// must share them because clients share tickets among their connections: Go's crypto/tls (rclone)
// keeps one ticket per server name for all its connections, so a data connection of one FTP
// session offers the ticket the client's latest control connection (another FTP session) got.
Result<TicketKeys> derive_ticket_keys(const TicketSecret& secret, std::string_view client_host);

// Why a handshake was refused by one of our callbacks (ALPN, SNI), for the log. Attached to an
// SSL with SSL_set_app_data; optional.
struct TlsHandshakeNotes {
  std::string refusal;
};

// The certificate chain and key, read by the listener, as one bundle for the sessions (a sealed
// memfd): "<certificate length>\n" + certificate PEM + the key's parameters
// (SigningKey::export_parameters).
struct TlsCredentials {
  std::string bundle;
  std::string warning;  // e.g. an expired certificate; logged, not fatal
};

// Reads tls_cert_file and tls_key_file, refuses a key file readable by group or others or a
// key type the monitor cannot sign with, and checks that certificate, key and the configured
// TLS settings make a working context.
Result<TlsCredentials> load_tls_credentials(const Config& config);

// From a bundle memfd, with pread: the certificate chain alone (what a TLS endpoint gets; the
// key's bytes are never read into memory), or the key alone (what the monitor signs with).
Result<std::string> read_certificate_chain(int bundle_fd);
Result<SigningKey> read_signing_key(int bundle_fd);

// Whether this image has TLS: false only in wardenftpd-session, the session image built without
// OpenSSL (common/tls_absent.cpp), which the listener execs for configurations without
// tls_enable and whose monitor refuses any other.
bool tls_built_in();

// Tells OpenSSL not to run its clean-up at exit (it takes locks a sandboxed role's filter does
// not allow). Called first thing in every session monitor.
void skip_tls_library_exit_cleanup();

// Sets up, in this process, what every TLS context and key of a session needs from OpenSSL and
// holds no secret: the default provider's algorithm tables, libssl's cipher, group and signature
// lists, the remote-key provider, the random generators. The session monitor calls it before it
// forks its children, which inherit the work instead of each repeating it (a fork is detected by
// OpenSSL's generators, which reseed in the child), and before it has the key.
Result<void> prepare_tls_library(const Config& config, std::string_view certificate_chain);

// Whether `key` is the private half of `certificate`'s public key.
Result<void> check_key_matches(const SigningKey& key, X509* certificate);

// The control connection's context: the certificate chain (PEM) and a remote key whose
// signatures `signer` makes. `config` (the SNI callback reads tls_sni_hostname) and `signer` must
// outlive the context.
Result<SslCtxPtr> make_control_context(const Config& config, std::string_view certificate_chain,
                                       RemoteSigner& signer, const TicketKeys& keys);

// The data connections' context. Without a signer it holds neither the certificate nor a key:
// the only handshake that can complete is a resumption of a session whose ticket was sealed with
// `keys` (this client's, see derive_ticket_keys) or that add_resumable_session put in its cache;
// every full handshake is refused. With a signer (require_tls_session_reuse=no) full handshakes
// sign through it, as the control connection's do.
Result<SslCtxPtr> make_data_context(const Config& config, std::string_view certificate_chain,
                                    RemoteSigner* signer, const TicketKeys& keys);

// A server context with a throwaway self-signed certificate that accepts full handshakes: for
// wardenftpd --sandbox-selftest only (never serves clients).
Result<SslCtxPtr> make_selftest_context(const Config& config, const TicketKeys& keys);

// Lets data connections resume the control connection's TLS 1.2 session by session ID: adds
// the DER session (from the pre-auth child) to the data context's session cache.
Result<void> add_resumable_session(SSL_CTX* data_ctx, std::string_view der);

// Drains OpenSSL's error queue into one line ("" when empty).
std::string openssl_errors();

// Wipes a string that held key material before it is freed.
void wipe(std::string& secret);

}  // namespace wftpd
