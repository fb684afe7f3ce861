#include "common/tls_context.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/io.hpp"
#include "common/remote_key.hpp"
#include "common/secret_wipe.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxPemFileBytes = 1u << 20;
constexpr std::size_t kMaxBundleHeader = 16;  // the decimal certificate length
constexpr long kSessionLifetimeSeconds = 86400;  // tickets outlive any sane FTP session
constexpr unsigned char kSessionIdContext[] = "wardenftpd";

void note_refusal(SSL* ssl, std::string reason) {
  if (auto* notes = static_cast<TlsHandshakeNotes*>(SSL_get_app_data(ssl))) {
    notes->refusal = std::move(reason);
  }
}

// ALPACA defence: a client that names an application protocol must name "ftp"; an HTTP (or any
// other) client that was steered to this port gets a fatal no_application_protocol alert.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                const unsigned char* in, unsigned int in_length, void*) {
  std::string offered;
  // Bounded by in_length: every turn consumes at least one byte.
  for (unsigned int i = 0; i < in_length;) {
    const unsigned int length = in[i];
    if (length == 0 || i + 1 + length > in_length) break;
    const std::string_view name(reinterpret_cast<const char*>(in + i + 1), length);
    if (name == "ftp") {
      *out = in + i + 1;
      *out_length = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    if (!offered.empty()) offered += ',';
    offered += escape_for_log(name, 64);
    i += 1 + length;
  }
  note_refusal(ssl, "client offered ALPN [" + offered + "] without \"ftp\" (cross-protocol attack?)");
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Strict SNI: a client that sends a server name must send ours.
int check_server_name(SSL* ssl, int* alert, void* argument) {
  const auto* expected = static_cast<const std::string*>(argument);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr || ::strcasecmp(name, expected->c_str()) == 0) return SSL_TLSEXT_ERR_OK;
  note_refusal(ssl, "client asked for server name '" + escape_for_log(name, 253) +
                        "', not tls_sni_hostname");
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Keys must never be read with a passphrase prompt on a daemon's terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

Result<SslCtxPtr> base_context(const Config& config, const TicketKeys& keys) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return make_error("SSL_CTX_new: " + openssl_errors());
  SSL_CTX* c = ctx.get();
  const int minimum = config.tls_min_version == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(c, minimum) != 1) {
    return make_error("SSL_CTX_set_min_proto_version: " + openssl_errors());
  }
  SSL_CTX_set_security_level(c, 2);  // RSA >= 2048 bits, EC >= 224 bits, no SHA-1 signatures
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                             SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // SECURITY: no static RSA key exchange: it needs the private key to decrypt, and the key's
  // holder only signs (common/remote_key.hpp). It is not forward secret either.
  const std::string ciphers = config.tls_ciphers + ":!kRSA";
  if (SSL_CTX_set_cipher_list(c, ciphers.c_str()) != 1) {
    return make_error("tls_ciphers '" + config.tls_ciphers + "': " + openssl_errors());
  }
  if (SSL_CTX_set_ciphersuites(c, config.tls_ciphersuites.c_str()) != 1) {
    return make_error("tls_ciphersuites '" + config.tls_ciphersuites + "': " + openssl_errors());
  }
  if (SSL_CTX_set1_groups_list(c, config.tls_groups.c_str()) != 1) {
    return make_error("tls_groups '" + config.tls_groups + "': " + openssl_errors());
  }
  // Only used if an administrator adds DHE suites: parameters sized to the certificate.
  SSL_CTX_set_dh_auto(c, 1);
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  // Resumption through tickets sealed with this FTP session's own keys, or (TLS 1.2 clients
  // that turn tickets off, like curl) by session ID from a cache that lives in this one
  // process of this one FTP session.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR);
  SSL_CTX_sess_set_cache_size(c, 16);
  if (SSL_CTX_set_tlsext_ticket_keys(c, const_cast<unsigned char*>(keys.data()),
                                     static_cast<long>(keys.size())) != 1) {
    return make_error("SSL_CTX_set_tlsext_ticket_keys: " + openssl_errors());
  }
  SSL_CTX_set_timeout(c, kSessionLifetimeSeconds);
  SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);
  if (!config.tls_sni_hostname.empty()) {
    SSL_CTX_set_tlsext_servername_callback(c, check_server_name);
    SSL_CTX_set_tlsext_servername_arg(c, const_cast<std::string*>(&config.tls_sni_hostname));
  }
  return ctx;
}

// The leaf certificate and its chain, from PEM.
Result<void> use_certificate_chain(SSL_CTX* ctx, std::string_view pem) {
  BioPtr chain(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!chain) return make_error("BIO_new_mem_buf: " + openssl_errors());
  X509* leaf = PEM_read_bio_X509_AUX(chain.get(), nullptr, no_passphrase, nullptr);
  if (leaf == nullptr) return make_error("no PEM certificate in tls_cert_file: " + openssl_errors());
  const int used = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (used != 1) return make_error("SSL_CTX_use_certificate: " + openssl_errors());
  // Intermediates follow the leaf; bounded by the file size.
  while (X509* intermediate = PEM_read_bio_X509(chain.get(), nullptr, no_passphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, intermediate) != 1) {
      X509_free(intermediate);
      return make_error("SSL_CTX_add0_chain_cert: " + openssl_errors());
    }
  }
  ERR_clear_error();  // the end of the chain reads as "no start line"
  return ok_result();
}

// SECURITY: the context gets the certificate's public key and a signer, never the private key:
// each signature the handshake needs is a digest sent to `signer` (the monitor, in a session).
// Only the schemes the signer serves are offered, and static RSA key exchange (which would
// need the key to decrypt) is never negotiated (base_context).
Result<void> use_remote_key(SSL_CTX* ctx, RemoteSigner& signer) {
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  EVP_PKEY* public_key = leaf != nullptr ? X509_get0_pubkey(leaf) : nullptr;
  if (public_key == nullptr) return make_error("certificate without a usable public key: " + openssl_errors());
  auto key = make_remote_key(public_key, signer);
  if (!key) return make_error("tls_cert_file: " + key.error().message);
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return make_error("remote key: " + openssl_errors());
  }
  if (SSL_CTX_set1_sigalgs_list(ctx, kHandshakeSignatureAlgorithms) != 1) {
    return make_error("SSL_CTX_set1_sigalgs_list: " + openssl_errors());
  }
  return ok_result();
}

Result<std::string> read_pem_file(const std::string& path, bool secret) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error("open(" + path + ")", errno);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return system_error("fstat(" + path + ")", errno);
  if (!S_ISREG(st.st_mode)) return make_error(path + " is not a regular file");
  // SECURITY: a key others can read is a key others may already have.
  if (secret && (st.st_mode & 0077) != 0) {
    return make_error(path + " is readable by group or others; chmod 600 it");
  }
  auto text = read_whole_fd(fd.get(), kMaxPemFileBytes);
  if (!text) return make_error(path + ": " + text.error().message);
  return text;
}

// Data connections of a session with require_tls_session_reuse: only a resumption may complete.
// OpenSSL calls the certificate callback for full handshakes only, so refusing there refuses
// exactly the handshakes that do not resume the control session.
int refuse_full_handshake(SSL* ssl, void*) {
  note_refusal(ssl, "the client did not resume the control connection's TLS session");
  return 0;
}

// OpenSSL chooses a TLS 1.3 cipher suite only when a certificate is configured, even for a
// resumption that never uses one. A throwaway self-signed certificate with a fresh random key
// fills that slot; it is never sent (full handshakes are refused before the certificate goes
// out) and says nothing about the server's real key.
Result<void> use_placeholder_certificate(SSL_CTX* ctx, bool refuse_full_handshakes) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return make_error("EVP_EC_gen: " + openssl_errors());
  X509* certificate = X509_new();
  bool made = certificate != nullptr && X509_set_version(certificate, 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1) == 1 &&
              X509_gmtime_adj(X509_getm_notBefore(certificate), 0) != nullptr &&
              X509_gmtime_adj(X509_getm_notAfter(certificate), kSessionLifetimeSeconds) != nullptr &&
              X509_set_pubkey(certificate, key) == 1;
  if (made) {
    X509_NAME* name = X509_get_subject_name(certificate);
    made = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>("wardenftpd placeholder"),
                                      -1, -1, 0) == 1 &&
           X509_set_issuer_name(certificate, name) == 1 &&
           X509_sign(certificate, key, EVP_sha256()) > 0 &&
           SSL_CTX_use_certificate(ctx, certificate) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  }
  X509_free(certificate);
  EVP_PKEY_free(key);
  if (!made) return make_error("placeholder certificate: " + openssl_errors());
  if (refuse_full_handshakes) SSL_CTX_set_cert_cb(ctx, refuse_full_handshake, nullptr);
  return ok_result();
}

Result<void> fill_random(unsigned char* out, std::size_t size) {
  std::size_t filled = 0;
  // Bounded: getrandom fills at least one byte per successful call.
  while (filled < size) {
    const ssize_t n = ::getrandom(out + filled, size - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("getrandom", errno);
    }
    filled += static_cast<std::size_t>(n);
  }
  return ok_result();
}

// One part of the sealed credential memfd ("<certificate length>\n<certificate><key>"), read
// with pread so that reading the certificate never brings the key into this process's memory.
Result<std::string> read_bundle(int fd, bool key_part) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return system_error("fstat(TLS credentials)", errno);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > 2 * kMaxPemFileBytes + kMaxBundleHeader) return make_error("TLS credential bundle too large");
  auto read_at = [fd](std::size_t offset, std::size_t length) -> Result<std::string> {
    std::string out(length, '\0');
    std::size_t filled = 0;
    // Bounded: each turn reads at least one byte or ends.
    while (filled < length) {
      const ssize_t n = ::pread(fd, out.data() + filled, length - filled, static_cast<off_t>(offset + filled));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return system_error("pread(TLS credentials)", errno);
      if (n == 0) return make_error("TLS credential bundle truncated");
      filled += static_cast<std::size_t>(n);
    }
    return out;
  };
  auto header = read_at(0, std::min(size, kMaxBundleHeader + 1));
  if (!header) return header.error();
  const auto newline = header->find('\n');
  std::size_t certificate_length = 0;
  if (newline == std::string::npos ||
      std::from_chars(header->data(), header->data() + newline, certificate_length).ec != std::errc() ||
      certificate_length > size - newline - 1) {
    return make_error("malformed TLS credential bundle");
  }
  const std::size_t key_offset = newline + 1 + certificate_length;
  return key_part ? read_at(key_offset, size - key_offset) : read_at(newline + 1, certificate_length);
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  // Bounded by OpenSSL's per-thread error queue (16 entries).
  for (;;) {
    const char* data = nullptr;
    int flags = 0;
    const unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags);
    if (code == 0) break;
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
    // The detail a callback added (the remote signer's reason, for one).
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      out += " (";
      out += data;
      out += ")";
    }
  }
  return out;
}

void wipe(std::string& secret) {
  wipe_secret(secret);  // the whole buffer, not only its size
  secret.shrink_to_fit();
}

Result<TicketKeys> make_ticket_keys() {
  TicketKeys keys{};
  auto filled = fill_random(keys.data(), keys.size());
  if (!filled) return filled.error();
  return keys;
}

Result<TicketSecret> make_ticket_secret() {
  TicketSecret secret{};
  auto filled = fill_random(secret.data(), secret.size());
  if (!filled) return filled.error();
  return secret;
}

Result<TicketKeys> derive_ticket_keys(const TicketSecret& secret, std::string_view client_host) {
  // HKDF-SHA256 (RFC 5869): the address is the context, so keys of one address say nothing
  // about another's, and the secret never leaves the listener.
  std::string info = "wardenftpd session-ticket keys v1 ";
  info.append(client_host);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return make_error("EVP_KDF HKDF: " + openssl_errors());
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<unsigned char*>(secret.data()),
                                        secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  TicketKeys keys{};
  const int derived = EVP_KDF_derive(ctx, keys.data(), keys.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (derived != 1) return make_error("HKDF: " + openssl_errors());
  return keys;
}

namespace {

// load_tls_credentials' work, in the process that runs it (a short-lived child).
Result<TlsCredentials> load_credentials_here(const Config& config) {
  auto certificate = read_pem_file(config.tls_cert_file, false);
  if (!certificate) return certificate.error();
  auto key_text = read_pem_file(config.tls_key_file, true);
  if (!key_text) return key_text.error();
  auto key = SigningKey::from_pem(*key_text);
  wipe(*key_text);
  if (!key) return make_error("tls_key_file " + config.tls_key_file + ": " + key.error().message);
  // The sessions' monitors get the key's numbers, not its PEM (SigningKey::export_parameters).
  auto parameters = key->export_parameters();
  if (!parameters) return make_error("tls_key_file " + config.tls_key_file + ": " + parameters.error().message);
  TlsCredentials credentials;
  const std::string header = std::to_string(certificate->size()) + "\n";
  credentials.bundle.reserve(header.size() + certificate->size() + parameters->size());
  credentials.bundle.append(header).append(*certificate).append(*parameters);
  wipe(*parameters);
  // Build the real context once, signing through the key as a session's monitor will: bad
  // cipher lists, a key that does not match, a weak key or an unreadable PEM are found now, by
  // the listener, not by each session.
  auto keys = make_ticket_keys();
  if (!keys) return keys.error();
  LocalSigner signer(std::move(*key));
  auto ctx = make_control_context(config, *certificate, signer, *keys);
  auto matched = ctx ? check_key_matches(signer.key(), SSL_CTX_get0_certificate(ctx->get()))
                     : Result<void>(ctx.error());
  if (!matched) {
    wipe(credentials.bundle);
    return make_error(config.tls_cert_file + " / " + config.tls_key_file + ": " + matched.error().message);
  }
  if (X509* leaf = SSL_CTX_get0_certificate(ctx->get())) {
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
      credentials.warning = config.tls_cert_file + ": the certificate has expired";
    } else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
      credentials.warning = config.tls_cert_file + ": the certificate is not valid yet";
    }
  }
  return credentials;
}

constexpr std::size_t kMaxCredentialReply = 2 * kMaxPemFileBytes + (64u << 10);

}  // namespace

// SECURITY: the listener keeps the key only in the memfd it hands on. Decoding the PEM and
// signing the test handshake leave OpenSSL's intermediate copies of the key (DER buffers,
// numbers) in freed heap memory, so that work happens in a child that exits at once; the
// listener receives the finished bundle (certificate and the key's parameters) through a pipe
// into one buffer that never grows, which ValidConfig wipes.
Result<TlsCredentials> load_tls_credentials(const Config& config) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return system_error("pipe2", errno);
  UniqueFd read_end(ends[0]), write_end(ends[1]);
  const pid_t child = ::fork();
  if (child < 0) return system_error("fork", errno);
  if (child == 0) {
    read_end.reset();
    auto loaded = load_credentials_here(config);
    std::string reply;
    if (loaded) {
      const std::uint32_t warning_length = static_cast<std::uint32_t>(loaded->warning.size());
      reply.reserve(5 + loaded->warning.size() + loaded->bundle.size());
      reply += 'K';
      for (int shift = 24; shift >= 0; shift -= 8) reply += static_cast<char>(warning_length >> shift);
      reply.append(loaded->warning).append(loaded->bundle);
    } else {
      reply = "E" + loaded.error().message;
    }
    const bool sent = write_all(write_end.get(), reply).ok();
    ::_exit(sent ? 0 : 1);
  }
  write_end.reset();
  std::string reply(kMaxCredentialReply, '\0');  // sized once: the key never moves
  std::size_t filled = 0;
  Result<void> received = ok_result();
  // Bounded: every turn reads at least one byte into the fixed buffer or ends.
  while (filled < reply.size()) {
    const ssize_t n = ::read(read_end.get(), reply.data() + filled, reply.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) received = system_error("read(TLS credentials)", errno);
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(child, &status, 0);
  } while (waited < 0 && errno == EINTR);
  reply.resize(filled);  // never reallocates when shrinking
  auto fail = [&reply](Error error) -> Result<TlsCredentials> {
    wipe(reply);
    return error;
  };
  if (!received) return fail(received.error());
  if (waited != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty()) {
    return fail(make_error("loading the TLS credentials failed in the helper process"));
  }
  if (reply[0] == 'E') return fail(make_error(reply.substr(1)));
  if (reply[0] != 'K' || reply.size() < 5) return fail(make_error("malformed TLS credential reply"));
  std::uint32_t warning_length = 0;
  for (int i = 1; i <= 4; ++i) warning_length = (warning_length << 8) | static_cast<unsigned char>(reply[i]);
  if (warning_length > reply.size() - 5) return fail(make_error("malformed TLS credential reply"));
  TlsCredentials credentials;
  credentials.warning = reply.substr(5, warning_length);
  // The bundle is the rest of the buffer: moved, not copied, after the header is cut off in place.
  reply.erase(0, 5 + warning_length);
  credentials.bundle = std::move(reply);
  return credentials;
}

bool tls_built_in() { return true; }

void skip_tls_library_exit_cleanup() { OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr); }

Result<void> prepare_tls_library(const Config& config, std::string_view certificate_chain) {
  // A signer that is never asked: no handshake runs on this context.
  class NoSigner final : public RemoteSigner {
   public:
    Result<std::string> sign(SignatureScheme, std::string_view) override {
      return make_error("no signer");
    }
  } no_signer;
  const TicketKeys no_keys{};
  auto ctx = make_control_context(config, certificate_chain, no_signer, no_keys);
  if (!ctx) return ctx.error();
  unsigned char sample[1];
  if (RAND_bytes(sample, sizeof(sample)) != 1 || RAND_priv_bytes(sample, sizeof(sample)) != 1) {
    return make_error("RAND_bytes: " + openssl_errors());
  }
  return ok_result();
}

Result<void> check_key_matches(const SigningKey& key, X509* certificate) {
  EVP_PKEY* public_key = certificate != nullptr ? X509_get0_pubkey(certificate) : nullptr;
  if (public_key == nullptr || EVP_PKEY_eq(key.get(), public_key) != 1) {
    ERR_clear_error();
    return make_error("tls_key_file does not match the certificate");
  }
  return ok_result();
}

Result<std::string> read_certificate_chain(int bundle_fd) {
  auto bundle = read_bundle(bundle_fd, false);
  if (!bundle) return bundle.error();
  return bundle;
}

Result<SigningKey> read_signing_key(int bundle_fd) {
  auto encoded = read_bundle(bundle_fd, true);
  if (!encoded) return encoded.error();
  auto key = SigningKey::from_parameters(*encoded);
  wipe(*encoded);
  return key;
}

Result<SslCtxPtr> make_selftest_context(const Config& config, const TicketKeys& keys) {
  auto ctx = base_context(config, keys);
  if (!ctx) return ctx;
  auto used = use_placeholder_certificate(ctx->get(), false);
  if (!used) return used.error();
  return ctx;
}

Result<void> add_resumable_session(SSL_CTX* data_ctx, std::string_view der) {
  if (der.empty()) return ok_result();
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  SSL_SESSION* session = d2i_SSL_SESSION(nullptr, &in, static_cast<long>(der.size()));
  if (session == nullptr) return make_error("d2i_SSL_SESSION: " + openssl_errors());
  const bool whole = in == reinterpret_cast<const unsigned char*>(der.data()) + der.size();
  const bool tls12 = SSL_SESSION_get_protocol_version(session) == TLS1_2_VERSION;
  const int added = whole && tls12 ? SSL_CTX_add_session(data_ctx, session) : 0;
  SSL_SESSION_free(session);
  if (!whole || !tls12) return make_error("not a whole TLS 1.2 session");
  if (added != 1) return make_error("SSL_CTX_add_session: " + openssl_errors());
  return ok_result();
}

Result<SslCtxPtr> make_control_context(const Config& config, std::string_view certificate_chain,
                                       RemoteSigner& signer, const TicketKeys& keys) {
  auto ctx = base_context(config, keys);
  if (!ctx) return ctx;
  auto used = use_certificate_chain(ctx->get(), certificate_chain);
  if (used) used = use_remote_key(ctx->get(), signer);
  if (!used) return used.error();
  SSL_CTX_set_num_tickets(ctx->get(), 1);  // one ticket: what data connections resume
  return ctx;
}

Result<SslCtxPtr> make_data_context(const Config& config, std::string_view certificate_chain,
                                    RemoteSigner* signer, const TicketKeys& keys) {
  auto ctx = base_context(config, keys);
  if (!ctx) return ctx;
  Result<void> used = ok_result();
  if (signer == nullptr) {
    used = use_placeholder_certificate(ctx->get(), true);
  } else {
    used = use_certificate_chain(ctx->get(), certificate_chain);
    if (used) used = use_remote_key(ctx->get(), *signer);
  }
  if (!used) return used.error();
  // Clients keep resuming the control connection's session; no new tickets on data.
  SSL_CTX_set_num_tickets(ctx->get(), 0);
  return ctx;
}

}  // namespace wftpd
