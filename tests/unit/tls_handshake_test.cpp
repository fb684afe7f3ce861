// Real in-memory TLS handshakes against the control and data contexts: the server side is
// TlsStream::accept() in a thread on one end of a socketpair, the client a plain OpenSSL client
// (trusting the test CA) on the other end.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/tls_context.hpp"
#include "common/unique_fd.hpp"
#include "test_pki.hpp"
#include "common/tls_stream.hpp"

namespace wftpd {
namespace {

using namespace std::chrono_literals;
using unit_test::test_pki;

constexpr auto kTimeout = 5s;
constexpr std::string_view kPing = "ping";

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct SessionDeleter {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionDeleter>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct ClientOptions {
  int max_version = 0;      // 0: the library's highest
  bool legacy = false;      // security level 0 and TLS 1.1 only (to be able to offer it at all)
  std::vector<std::string> alpn;
  std::string sni;
  SSL_SESSION* session = nullptr;  // offered for resumption
  std::string sigalgs;             // the signature algorithms offered (default: OpenSSL's)
};

struct ClientOutcome {
  bool completed = false;  // handshake and one echo round trip
  std::string error;
  SessionPtr session;      // after the round trip: holds a TLS 1.3 ticket if one was sent
  bool reused = false;
  bool verified = false;
  std::string alpn;
  int version = 0;
};

struct ServerOutcome {
  bool accepted = false;
  std::string error;
  bool not_resumed = false;
  bool resumed = false;
};

struct Exchange {
  ClientOutcome client;
  ServerOutcome server;
};

// Server: TlsStream::accept, then echoes the first bytes it reads.
ServerOutcome serve(SSL_CTX* ctx, int fd) {
  ServerOutcome out;
  auto stream = TlsStream::accept(ctx, fd, kTimeout, &out.not_resumed);
  if (!stream) {
    out.error = stream.error().message;
    ::shutdown(fd, SHUT_RDWR);  // the client sees EOF instead of waiting for its timeout
    return out;
  }
  out.accepted = true;
  out.resumed = (*stream)->resumed();
  std::array<char, 64> buffer{};
  for (;;) {
    const TlsStream::Io io = (*stream)->read(buffer);
    if (io.status == TlsStream::Status::kDone) {
      auto written = (*stream)->write_all(std::string_view(buffer.data(), io.bytes), kTimeout);
      if (!written) out.error = written.error().message;
      break;
    }
    if (io.status == TlsStream::Status::kWantRead || io.status == TlsStream::Status::kWantWrite) {
      if ((*stream)->wait(io.status, kTimeout)) continue;
      out.error = "read timed out";
      break;
    }
    out.error = "read failed: " + (*stream)->error();
    break;
  }
  (*stream)->close_notify(1s);
  return out;
}

std::string alpn_wire(const std::vector<std::string>& names) {
  std::string wire;
  for (const auto& name : names) {
    wire += static_cast<char>(name.size());
    wire += name;
  }
  return wire;
}

// Client: blocking OpenSSL on `fd`, verifying the server against the test CA as "localhost".
ClientOutcome connect_client(int fd, const ClientOptions& options) {
  ClientOutcome out;
  const timeval timeout{static_cast<time_t>(kTimeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), test_pki().ca.c_str(), nullptr) != 1) {
    out.error = "client context: " + openssl_errors();
    return out;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (options.legacy) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    if (SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0") != 1 ||
        SSL_CTX_set_min_proto_version(ctx.get(), TLS1_1_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx.get(), TLS1_1_VERSION) != 1) {
      out.error = "legacy client settings: " + openssl_errors();
      return out;
    }
  } else if (options.max_version != 0 &&
             SSL_CTX_set_max_proto_version(ctx.get(), options.max_version) != 1) {
    out.error = "SSL_CTX_set_max_proto_version: " + openssl_errors();
    return out;
  }
  if (!options.sigalgs.empty() && SSL_CTX_set1_sigalgs_list(ctx.get(), options.sigalgs.c_str()) != 1) {
    out.error = "SSL_CTX_set1_sigalgs_list: " + openssl_errors();
    return out;
  }
  if (!options.alpn.empty()) {
    const std::string wire = alpn_wire(options.alpn);
    // SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      out.error = "SSL_CTX_set_alpn_protos failed";
      return out;
    }
  }
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_set1_host(ssl.get(), "localhost") != 1) {
    out.error = "client SSL: " + openssl_errors();
    return out;
  }
  if (!options.sni.empty() && SSL_set_tlsext_host_name(ssl.get(), options.sni.c_str()) != 1) {
    out.error = "SSL_set_tlsext_host_name: " + openssl_errors();
    return out;
  }
  if (options.session != nullptr && SSL_set_session(ssl.get(), options.session) != 1) {
    out.error = "SSL_set_session: " + openssl_errors();
    return out;
  }
  if (SSL_connect(ssl.get()) != 1) {
    out.error = "SSL_connect: " + openssl_errors();
    return out;
  }
  out.reused = SSL_session_reused(ssl.get()) == 1;
  out.verified = SSL_get_verify_result(ssl.get()) == X509_V_OK;
  out.version = SSL_version(ssl.get());
  const unsigned char* selected = nullptr;
  unsigned int selected_length = 0;
  SSL_get0_alpn_selected(ssl.get(), &selected, &selected_length);
  if (selected != nullptr) out.alpn.assign(reinterpret_cast<const char*>(selected), selected_length);
  // One round trip, so that the client has read the TLS 1.3 NewSessionTicket.
  std::size_t moved = 0;
  if (SSL_write_ex(ssl.get(), kPing.data(), kPing.size(), &moved) != 1 || moved != kPing.size()) {
    out.error = "SSL_write: " + openssl_errors();
    return out;
  }
  std::string echoed;
  while (echoed.size() < kPing.size()) {
    std::array<char, 64> buffer{};
    if (SSL_read_ex(ssl.get(), buffer.data(), buffer.size(), &moved) != 1) {
      out.error = "SSL_read: " + openssl_errors();
      return out;
    }
    echoed.append(buffer.data(), moved);
  }
  if (echoed != kPing) {
    out.error = "echo mismatch: " + echoed;
    return out;
  }
  out.session.reset(SSL_get1_session(ssl.get()));
  out.completed = true;
  (void)SSL_shutdown(ssl.get());
  return out;
}

Exchange handshake(SSL_CTX* server_ctx, const ClientOptions& options) {
  std::signal(SIGPIPE, SIG_IGN);  // an alert written to a closed socket must not end the test
  Exchange exchange;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    exchange.client.error = "socketpair failed";
    return exchange;
  }
  UniqueFd server_fd(fds[0]);
  UniqueFd client_fd(fds[1]);
  std::thread server([&] { exchange.server = serve(server_ctx, server_fd.get()); });
  exchange.client = connect_client(client_fd.get(), options);
  ::shutdown(client_fd.get(), SHUT_RDWR);  // a server still waiting sees EOF
  server.join();
  return exchange;
}

class TlsHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(test_pki().error, "");
    config_.tls_enable = true;
    config_.tls_cert_file = test_pki().cert;
    config_.tls_key_file = test_pki().key;
    auto credentials = load_tls_credentials(config_);
    ASSERT_TRUE(credentials.ok()) << credentials.error().message;
    chain_ = unit_test::read_test_file(test_pki().cert);
    auto key = SigningKey::from_pem(unit_test::read_test_file(test_pki().key));
    ASSERT_TRUE(key.ok()) << key.error().message;
    signer_.emplace(std::move(*key));
    auto keys = make_ticket_keys();
    ASSERT_TRUE(keys.ok());
    keys_ = *keys;
  }

  SslCtxPtr control_context(const TicketKeys& keys) {
    auto ctx = make_control_context(config_, chain_, *signer_, keys);
    EXPECT_TRUE(ctx.ok()) << ctx.error().message;
    return ctx.ok() ? std::move(*ctx) : SslCtxPtr();
  }
  // Without a signer: resumptions only (require_tls_session_reuse); with one: full handshakes.
  SslCtxPtr data_context(bool full_handshakes, const TicketKeys& keys) {
    auto ctx = make_data_context(config_, full_handshakes ? chain_ : "",
                                 full_handshakes ? &*signer_ : nullptr, keys);
    EXPECT_TRUE(ctx.ok()) << ctx.error().message;
    return ctx.ok() ? std::move(*ctx) : SslCtxPtr();
  }

  // A completed control-connection handshake's session (with its ticket), or null.
  SessionPtr control_session(const TicketKeys& keys, int max_version) {
    SslCtxPtr control = control_context(keys);
    if (!control) return nullptr;
    ClientOptions options;
    options.max_version = max_version;
    Exchange exchange = handshake(control.get(), options);
    EXPECT_TRUE(exchange.client.completed) << exchange.client.error;
    EXPECT_TRUE(exchange.server.accepted) << exchange.server.error;
    EXPECT_FALSE(exchange.client.reused);
    if (exchange.client.session) {
      EXPECT_EQ(SSL_SESSION_is_resumable(exchange.client.session.get()), 1);
    }
    return std::move(exchange.client.session);
  }

  // A data-connection handshake (no key: resumption only) with `data_keys`, offering the session
  // a control connection with `issuing_keys` gave the client. An empty Exchange (and a test
  // failure) when the session or the context could not be made.
  Exchange resume_on_data(const TicketKeys& issuing_keys, const TicketKeys& data_keys, int version) {
    SessionPtr session = control_session(issuing_keys, version);
    SslCtxPtr data = data_context(false, data_keys);
    EXPECT_TRUE(session && data);
    if (!session || !data) return Exchange{};
    ClientOptions options;
    options.max_version = version;
    options.session = session.get();
    return handshake(data.get(), options);
  }

  Config config_;
  std::string chain_;
  std::optional<LocalSigner> signer_;
  TicketKeys keys_{};
};

TEST_F(TlsHandshake, ControlContextCompletesAVerifiedHandshake) {
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  Exchange exchange = handshake(control.get(), {});
  ASSERT_TRUE(exchange.client.completed) << exchange.client.error;
  EXPECT_TRUE(exchange.server.accepted) << exchange.server.error;
  EXPECT_EQ(exchange.server.error, "");
  EXPECT_TRUE(exchange.client.verified);
  EXPECT_EQ(exchange.client.version, TLS1_3_VERSION);
  EXPECT_FALSE(exchange.server.resumed);
}

TEST_F(TlsHandshake, DataConnectionResumesTheControlSessionWithoutTheKey) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    SessionPtr session = control_session(keys_, version);
    ASSERT_TRUE(session);
    SslCtxPtr data = data_context(false, keys_);
    ASSERT_TRUE(data);
    ClientOptions options;
    options.max_version = version;
    options.session = session.get();
    Exchange exchange = handshake(data.get(), options);
    ASSERT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
    EXPECT_TRUE(exchange.client.reused);
    EXPECT_TRUE(exchange.server.resumed);
    EXPECT_EQ(exchange.client.version, version);
  }
}

TEST_F(TlsHandshake, DataConnectionWithoutASessionIsRefused) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    SslCtxPtr data = data_context(false, keys_);
    ASSERT_TRUE(data);
    ClientOptions options;
    options.max_version = version;
    Exchange exchange = handshake(data.get(), options);
    EXPECT_FALSE(exchange.client.completed);
    EXPECT_FALSE(exchange.server.accepted);
    EXPECT_TRUE(contains(exchange.server.error, "did not resume")) << exchange.server.error;
    EXPECT_TRUE(exchange.server.not_resumed);
  }
}

// Go's crypto/tls (rclone) offers on a data connection the ticket its latest control connection
// received, which may belong to another of its FTP sessions: every session of one client
// address has the same keys, so that ticket opens.
TEST_F(TlsHandshake, TicketOfAnotherSessionOfTheSameClientResumes) {
  auto secret = make_ticket_secret();
  ASSERT_TRUE(secret.ok());
  auto issuing_session = derive_ticket_keys(*secret, "192.0.2.1");
  auto resuming_session = derive_ticket_keys(*secret, "192.0.2.1");
  ASSERT_TRUE(issuing_session.ok() && resuming_session.ok());
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    Exchange exchange = resume_on_data(*issuing_session, *resuming_session, version);
    ASSERT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
    EXPECT_TRUE(exchange.server.resumed);
  }
}

TEST_F(TlsHandshake, TicketOfAnotherClientAddressDoesNotResume) {
  auto secret = make_ticket_secret();
  ASSERT_TRUE(secret.ok());
  auto other_client = derive_ticket_keys(*secret, "192.0.2.2");
  auto this_client = derive_ticket_keys(*secret, "192.0.2.1");
  ASSERT_TRUE(other_client.ok() && this_client.ok());
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    Exchange exchange = resume_on_data(*other_client, *this_client, version);
    EXPECT_FALSE(exchange.client.completed);
    EXPECT_FALSE(exchange.server.accepted);
    EXPECT_TRUE(exchange.server.not_resumed) << exchange.server.error;
  }
}

TEST_F(TlsHandshake, TicketSealedWithOtherKeysDoesNotResume) {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    auto other_keys = make_ticket_keys();
    ASSERT_TRUE(other_keys.ok());
    Exchange exchange = resume_on_data(*other_keys, keys_, version);
    EXPECT_FALSE(exchange.client.completed);
    EXPECT_FALSE(exchange.server.accepted);
    EXPECT_TRUE(exchange.server.not_resumed) << exchange.server.error;
  }
}

TEST_F(TlsHandshake, DataContextWithTheKeyAcceptsAFullHandshake) {
  // require_tls_session_reuse=no: the post-auth child holds the bundle.
  SslCtxPtr data = data_context(true, keys_);
  ASSERT_TRUE(data);
  Exchange exchange = handshake(data.get(), {});
  ASSERT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
  EXPECT_TRUE(exchange.client.verified);
  EXPECT_FALSE(exchange.client.reused);
  // No tickets on data connections: the TLS 1.3 session the client holds cannot be resumed.
  ASSERT_TRUE(exchange.client.session);
  EXPECT_EQ(SSL_SESSION_is_resumable(exchange.client.session.get()), 0);
}

// The signer of a remote key, recording what it was asked (the monitor's role in a session).
class RecordingSigner final : public RemoteSigner {
 public:
  explicit RecordingSigner(SigningKey key) : local_(std::move(key)) {}
  Result<std::string> sign(SignatureScheme scheme, std::string_view digest) override {
    schemes.push_back(scheme);
    digest_lengths.push_back(digest.size());
    if (refuse) return make_error("refused by the test");
    return local_.sign(scheme, digest);
  }
  std::vector<SignatureScheme> schemes;
  std::vector<std::size_t> digest_lengths;
  bool refuse = false;

 private:
  LocalSigner local_;
};

struct KeyCase {
  const char* name;
  std::string cert;
  std::string key;
};

std::vector<KeyCase> key_cases() {
  return {{"EC P-256", test_pki().cert, test_pki().key},
          {"EC P-384", test_pki().p384_cert, test_pki().p384_key},
          {"RSA 2048", test_pki().rsa_cert, test_pki().rsa_key}};
}

// The control context signs through its signer for every key type and TLS version, one digest
// per full handshake, with the scheme TLS requires: PSS for RSA under TLS 1.3 (and whenever the
// client offers it), PKCS#1 v1.5 under TLS 1.2 for a client that offers only that.
TEST_F(TlsHandshake, RemoteKeySignsOneDigestPerHandshakeForEveryKeyAndVersion) {
  struct VersionCase {
    int version;
    std::string client_sigalgs;
  };
  for (const KeyCase& key_case : key_cases()) {
    for (const VersionCase& version : {VersionCase{TLS1_2_VERSION, ""}, VersionCase{TLS1_3_VERSION, ""},
                                       VersionCase{TLS1_2_VERSION, "RSA+SHA256:ECDSA+SHA384:ECDSA+SHA256"}}) {
      SCOPED_TRACE(std::string(key_case.name) + (version.version == TLS1_2_VERSION ? " TLS 1.2 " : " TLS 1.3 ") +
                   version.client_sigalgs);
      auto key = SigningKey::from_pem(unit_test::read_test_file(key_case.key));
      ASSERT_TRUE(key.ok()) << key.error().message;
      const KeyFamily family = key->family();
      RecordingSigner signer(std::move(*key));
      auto ctx = make_control_context(config_, unit_test::read_test_file(key_case.cert), signer, keys_);
      ASSERT_TRUE(ctx.ok()) << ctx.error().message;
      ClientOptions options;
      options.max_version = version.version;
      options.sigalgs = version.client_sigalgs;
      Exchange exchange = handshake(ctx->get(), options);
      ASSERT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
      EXPECT_TRUE(exchange.client.verified);
      EXPECT_EQ(exchange.client.version, version.version);
      ASSERT_EQ(signer.schemes.size(), 1u);
      const auto info = describe_scheme(static_cast<std::uint16_t>(signer.schemes[0]));
      ASSERT_TRUE(info.has_value());
      EXPECT_EQ(info->family, family);
      EXPECT_EQ(signer.digest_lengths[0], info->digest_length);
      if (family == KeyFamily::kRsa) {
        EXPECT_EQ(info->pss, version.client_sigalgs.empty());
      }
    }
  }
}

TEST_F(TlsHandshake, ResumptionAsksTheSignerNothing) {
  auto key = SigningKey::from_pem(unit_test::read_test_file(test_pki().key));
  ASSERT_TRUE(key.ok());
  RecordingSigner signer(std::move(*key));
  auto ctx = make_control_context(config_, chain_, signer, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  Exchange first = handshake(ctx->get(), {});
  ASSERT_TRUE(first.client.completed) << first.client.error << " / " << first.server.error;
  ClientOptions options;
  options.session = first.client.session.get();
  Exchange resumed = handshake(ctx->get(), options);
  ASSERT_TRUE(resumed.client.completed) << resumed.client.error << " / " << resumed.server.error;
  EXPECT_TRUE(resumed.client.reused);
  EXPECT_EQ(signer.schemes.size(), 1u);  // the first handshake's only
}

TEST_F(TlsHandshake, HandshakeFailsWhenTheSignerRefuses) {
  auto key = SigningKey::from_pem(unit_test::read_test_file(test_pki().rsa_key));
  ASSERT_TRUE(key.ok());
  RecordingSigner signer(std::move(*key));
  signer.refuse = true;
  auto ctx = make_control_context(config_, unit_test::read_test_file(test_pki().rsa_cert), signer, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    ClientOptions options;
    options.max_version = version;
    Exchange exchange = handshake(ctx->get(), options);
    EXPECT_FALSE(exchange.client.completed);
    EXPECT_FALSE(exchange.server.accepted);
    EXPECT_TRUE(contains(exchange.server.error, "refused by the test")) << exchange.server.error;
  }
}

TEST_F(TlsHandshake, StaticRsaKeyExchangeIsNeverNegotiated) {
  // It would need the key to decrypt, and the key's holder only signs.
  config_.tls_ciphers = "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
  auto key = SigningKey::from_pem(unit_test::read_test_file(test_pki().rsa_key));
  ASSERT_TRUE(key.ok());
  RecordingSigner signer(std::move(*key));
  auto ctx = make_control_context(config_, unit_test::read_test_file(test_pki().rsa_cert), signer, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx->get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    EXPECT_NE(SSL_CIPHER_get_kx_nid(sk_SSL_CIPHER_value(ciphers, i)), NID_kx_rsa)
        << SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));
  }
}

TEST_F(TlsHandshake, AlpnWithoutFtpIsRefused) {
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  ClientOptions options;
  options.alpn = {"http/1.1"};
  Exchange exchange = handshake(control.get(), options);
  EXPECT_FALSE(exchange.client.completed);
  EXPECT_FALSE(exchange.server.accepted);
  EXPECT_TRUE(contains(exchange.server.error, "http/1.1")) << exchange.server.error;
}

TEST_F(TlsHandshake, AlpnFtpIsSelected) {
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  ClientOptions options;
  options.alpn = {"http/1.1", "ftp"};
  Exchange exchange = handshake(control.get(), options);
  ASSERT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
  EXPECT_EQ(exchange.client.alpn, "ftp");
}

TEST_F(TlsHandshake, NoAlpnIsAccepted) {
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  Exchange exchange = handshake(control.get(), {});
  ASSERT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
  EXPECT_EQ(exchange.client.alpn, "");
}

TEST_F(TlsHandshake, SniForAnotherHostIsRefused) {
  config_.tls_sni_hostname = "ftp.example";
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  ClientOptions options;
  options.sni = "other.example";
  Exchange exchange = handshake(control.get(), options);
  EXPECT_FALSE(exchange.client.completed);
  EXPECT_FALSE(exchange.server.accepted);
  EXPECT_TRUE(contains(exchange.server.error, "other.example")) << exchange.server.error;
}

TEST_F(TlsHandshake, SniForOurHostOrNoSniIsAccepted) {
  config_.tls_sni_hostname = "ftp.example";
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  for (const std::string sni : {"", "ftp.example", "FTP.Example"}) {
    SCOPED_TRACE("SNI '" + sni + "'");
    ClientOptions options;
    options.sni = sni;
    Exchange exchange = handshake(control.get(), options);
    EXPECT_TRUE(exchange.client.completed) << exchange.client.error << " / " << exchange.server.error;
  }
}

TEST_F(TlsHandshake, Tls11ClientIsRefused) {
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  ClientOptions options;
  options.legacy = true;
  Exchange exchange = handshake(control.get(), options);
  EXPECT_FALSE(exchange.client.completed);
  EXPECT_FALSE(exchange.server.accepted);
  // Refused by the server's minimum version, not a client unable to say hello.
  EXPECT_TRUE(contains(exchange.server.error, "unsupported protocol")) << exchange.server.error;
}

TEST_F(TlsHandshake, Tls12ClientIsRefusedWhenTheMinimumIsTls13) {
  config_.tls_min_version = "TLSv1.3";
  SslCtxPtr control = control_context(keys_);
  ASSERT_TRUE(control);
  ClientOptions options;
  options.max_version = TLS1_2_VERSION;
  Exchange exchange = handshake(control.get(), options);
  EXPECT_FALSE(exchange.client.completed);
  EXPECT_FALSE(exchange.server.accepted);
  options.max_version = TLS1_3_VERSION;
  EXPECT_TRUE(handshake(control.get(), options).client.completed);
}

}  // namespace
}  // namespace wftpd
