// load_tls_credentials() and the construction of the control and data contexts. Handshakes
// against these contexts are in tls_handshake_test.cpp.
#include "common/tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <optional>
#include <string>

#include "test_pki.hpp"

namespace wftpd {
namespace {

using unit_test::read_test_file;
using unit_test::test_pki;
using unit_test::write_test_file;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class TlsCredentials : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(test_pki().error, "");
    config_.tls_enable = true;
    config_.tls_cert_file = test_pki().cert;
    config_.tls_key_file = test_pki().key;
  }
  Config config_;
};

TEST_F(TlsCredentials, MatchingEcPairIsLoadedWithoutWarning) {
  auto credentials = load_tls_credentials(config_);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->warning, "");
  // "<certificate bytes>\n" + certificate PEM + the key's parameters
  const std::string certificate = read_test_file(test_pki().cert);
  const std::string prefix = std::to_string(certificate.size()) + "\n" + certificate;
  ASSERT_EQ(credentials->bundle.substr(0, prefix.size()), prefix);
  auto key = SigningKey::from_parameters(credentials->bundle.substr(prefix.size()));
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto pem_key = SigningKey::from_pem(read_test_file(test_pki().key));
  ASSERT_TRUE(pem_key.ok());
  EXPECT_EQ(EVP_PKEY_eq(key->get(), pem_key->get()), 1);
}

TEST_F(TlsCredentials, KeyReadableByOthersIsRefused) {
  config_.tls_key_file = write_test_file("open-key.pem", read_test_file(test_pki().key), 0644);
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "readable by group or others"))
      << credentials.error().message;
  EXPECT_TRUE(contains(credentials.error().message, config_.tls_key_file));
}

TEST_F(TlsCredentials, KeyReadableByGroupIsRefused) {
  config_.tls_key_file = write_test_file("group-key.pem", read_test_file(test_pki().key), 0640);
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "readable by group or others"))
      << credentials.error().message;
}

TEST_F(TlsCredentials, CertificateMayBeWorldReadable) {
  config_.tls_cert_file = write_test_file("public-cert.pem", read_test_file(test_pki().cert), 0644);
  auto credentials = load_tls_credentials(config_);
  EXPECT_TRUE(credentials.ok()) << credentials.error().message;
}

TEST_F(TlsCredentials, KeyOfAnotherCertificateIsRefused) {
  config_.tls_key_file = test_pki().other_key;
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  // OpenSSL's SSL_CTX_use_PrivateKey() finds the mismatch before SSL_CTX_check_private_key().
  const std::string& message = credentials.error().message;
  EXPECT_TRUE(contains(message, "key values mismatch") ||
              contains(message, "does not match the certificate"))
      << message;
  EXPECT_TRUE(contains(message, config_.tls_key_file)) << message;
}

TEST_F(TlsCredentials, MissingCertificateFileIsNamed) {
  config_.tls_cert_file = test_pki().dir + "/no-such-cert.pem";
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, config_.tls_cert_file))
      << credentials.error().message;
}

TEST_F(TlsCredentials, MissingKeyFileIsNamed) {
  config_.tls_key_file = test_pki().dir + "/no-such-key.pem";
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, config_.tls_key_file))
      << credentials.error().message;
}

TEST_F(TlsCredentials, DirectoryInsteadOfCertificateIsRefused) {
  config_.tls_cert_file = test_pki().dir;
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "not a regular file"))
      << credentials.error().message;
}

TEST_F(TlsCredentials, GarbageCertificateIsRefused) {
  config_.tls_cert_file = write_test_file("garbage-cert.pem", "this is not PEM\n", 0644);
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "no PEM certificate"))
      << credentials.error().message;
}

TEST_F(TlsCredentials, GarbageKeyIsRefused) {
  config_.tls_key_file = write_test_file(
      "garbage-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0600);
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "no usable PEM private key"))
      << credentials.error().message;
}

TEST_F(TlsCredentials, UnknownCipherListIsRefused) {
  config_.tls_ciphers = "NO-SUCH-CIPHER";
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "tls_ciphers 'NO-SUCH-CIPHER'"))
      << credentials.error().message;
}

TEST_F(TlsCredentials, UnknownCipherSuiteIsRefused) {
  config_.tls_ciphersuites = "TLS_NO_SUCH_SUITE";
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "tls_ciphersuites"))
      << credentials.error().message;
}

TEST_F(TlsCredentials, UnknownGroupIsRefused) {
  config_.tls_groups = "P-999";
  auto credentials = load_tls_credentials(config_);
  ASSERT_FALSE(credentials.ok());
  EXPECT_TRUE(contains(credentials.error().message, "tls_groups")) << credentials.error().message;
}

TEST_F(TlsCredentials, ExpiredCertificateIsAWarningNotAnError) {
  config_.tls_cert_file = test_pki().expired_cert;
  auto credentials = load_tls_credentials(config_);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_TRUE(contains(credentials->warning, "expired")) << credentials->warning;
  EXPECT_TRUE(contains(credentials->warning, config_.tls_cert_file)) << credentials->warning;
}

TEST_F(TlsCredentials, KeyBelowSecurityLevelTwoIsRefused) {
  config_.tls_cert_file = test_pki().weak_cert;
  config_.tls_key_file = test_pki().weak_key;
  EXPECT_FALSE(load_tls_credentials(config_).ok());
}

class TlsContexts : public TlsCredentials {
 protected:
  void SetUp() override {
    TlsCredentials::SetUp();
    auto credentials = load_tls_credentials(config_);
    ASSERT_TRUE(credentials.ok()) << credentials.error().message;
    chain_ = read_test_file(test_pki().cert);
    auto key = SigningKey::from_pem(read_test_file(test_pki().key));
    ASSERT_TRUE(key.ok()) << key.error().message;
    signer_.emplace(std::move(*key));
    auto keys = make_ticket_keys();
    ASSERT_TRUE(keys.ok());
    keys_ = *keys;
  }
  std::string chain_;
  std::optional<LocalSigner> signer_;
  TicketKeys keys_{};
};

TEST_F(TlsContexts, ControlContextHoldsTheCertificate) {
  auto ctx = make_control_context(config_, chain_, *signer_, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  X509* leaf = SSL_CTX_get0_certificate(ctx->get());
  ASSERT_NE(leaf, nullptr);
  char name[256] = {};
  X509_NAME_oneline(X509_get_subject_name(leaf), name, sizeof(name));
  EXPECT_EQ(std::string(name), "/CN=localhost");
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_num_tickets(ctx->get()), 1u);
}

TEST_F(TlsContexts, MinimumVersionFollowsTheConfiguration) {
  config_.tls_min_version = "TLSv1.3";
  auto ctx = make_control_context(config_, chain_, *signer_, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->get()), TLS1_3_VERSION);
}

TEST_F(TlsContexts, ControlContextNeedsACertificate) {
  EXPECT_FALSE(make_control_context(config_, "", *signer_, keys_).ok());
  EXPECT_FALSE(make_control_context(config_, "-----BEGIN CERTIFICATE-----\nshort", *signer_, keys_).ok());
  EXPECT_FALSE(make_control_context(config_, read_test_file(test_pki().key), *signer_, keys_).ok());
}

TEST_F(TlsContexts, ControlContextHoldsNoPrivateKeyMaterial) {
  auto ctx = make_control_context(config_, chain_, *signer_, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EVP_PKEY* key = SSL_CTX_get0_privatekey(ctx->get());
  ASSERT_NE(key, nullptr);
  // The context's key is the remote one: it cannot be written out as a private key.
  BioPtr out(BIO_new(BIO_s_mem()));
  EXPECT_NE(PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  ERR_clear_error();
}

TEST_F(TlsContexts, DataContextWithoutBundleHoldsNoRealCertificate) {
  auto ctx = make_data_context(config_, "", nullptr, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  X509* placeholder = SSL_CTX_get0_certificate(ctx->get());
  ASSERT_NE(placeholder, nullptr);  // see use_placeholder_certificate()
  auto control = make_control_context(config_, chain_, *signer_, keys_);
  ASSERT_TRUE(control.ok());
  EXPECT_NE(X509_cmp(placeholder, SSL_CTX_get0_certificate(control->get())), 0);
  EXPECT_EQ(SSL_CTX_get_num_tickets(ctx->get()), 0u);
}

TEST_F(TlsContexts, DataContextWithSignerHoldsTheCertificate) {
  auto ctx = make_data_context(config_, chain_, &*signer_, keys_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  auto control = make_control_context(config_, chain_, *signer_, keys_);
  ASSERT_TRUE(control.ok());
  EXPECT_EQ(X509_cmp(SSL_CTX_get0_certificate(ctx->get()),
                     SSL_CTX_get0_certificate(control->get())),
            0);
}

TEST_F(TlsContexts, DataContextRefusesAMalformedCertificate) {
  EXPECT_FALSE(make_data_context(config_, "garbage", &*signer_, keys_).ok());
}

TEST(TlsTicketKeys, AreFreshEachTime) {
  auto first = make_ticket_keys();
  auto second = make_ticket_keys();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_NE(*first, TicketKeys{});
}

TEST(TlsTicketKeys, DerivedKeysAreOnePerClientAddress) {
  auto secret = make_ticket_secret();
  ASSERT_TRUE(secret.ok());
  auto first = derive_ticket_keys(*secret, "192.0.2.1");
  auto again = derive_ticket_keys(*secret, "192.0.2.1");
  auto other_address = derive_ticket_keys(*secret, "192.0.2.10");
  auto other_family = derive_ticket_keys(*secret, "2001:db8::1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(again.ok() && other_address.ok() && other_family.ok());
  EXPECT_EQ(*first, *again);  // every session of one client opens the others' tickets
  EXPECT_NE(*first, *other_address);
  EXPECT_NE(*first, *other_family);
  EXPECT_NE(*first, TicketKeys{});
}

TEST(TlsTicketKeys, DerivedKeysDependOnTheSecret) {
  auto one = make_ticket_secret();
  auto two = make_ticket_secret();
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE(*one, *two);
  auto first = derive_ticket_keys(*one, "192.0.2.1");
  auto second = derive_ticket_keys(*two, "192.0.2.1");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST(TlsWipe, EmptiesTheString) {
  std::string secret = "-----BEGIN PRIVATE KEY-----";
  wipe(secret);
  EXPECT_TRUE(secret.empty());
}

}  // namespace
}  // namespace wftpd
