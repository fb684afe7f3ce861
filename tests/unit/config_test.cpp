#include "common/config.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

TEST(Config, DefaultsAreUsedForMissingKeys) {
  auto config = parse_config("# nothing\n\n", "f.conf");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->listen_port, 21);
  EXPECT_EQ(config->max_clients, 200u);
}

TEST(Config, ValuesAreParsed) {
  auto config = parse_config(
      "listen_address = 127.0.0.1, ::1\nlisten_port=2121\nmax_clients=5\nlocal_umask=027\n"
      "pasv_min_port=40000\npasv_max_port=40010\nnopriv_user=123:456\n",
      "f.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(config->listen_port, 2121);
  EXPECT_EQ(config->max_clients, 5u);
  EXPECT_EQ(config->policy.local_umask, 027u);
  EXPECT_EQ(config->nopriv_uid, 123u);
  EXPECT_EQ(config->nopriv_gid, 456u);
}

TEST(Config, UnknownKeyNamesFileAndLine) {
  auto config = parse_config("listen_port=21\n\nlisten_prot=21\n", "/etc/w.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.rfind("/etc/w.conf:3: unknown key 'listen_prot'", 0), 0u)
      << config.error().message;
}

TEST(Config, BadValueNamesFileAndLine) {
  auto config = parse_config("max_clients=0\n", "w.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.rfind("w.conf:1: bad value for 'max_clients'", 0), 0u);
  EXPECT_FALSE(parse_config("listen_port=70000\n", "w").ok());
  EXPECT_FALSE(parse_config("listen_port=21x\n", "w").ok());
  EXPECT_FALSE(parse_config("listen_port=-1\n", "w").ok());
  EXPECT_FALSE(parse_config("listen_address=example.com\n", "w").ok());
  EXPECT_FALSE(parse_config("users_file=relative/path\n", "w").ok());
  EXPECT_FALSE(parse_config("users_file=/a/../b\n", "w").ok());
  EXPECT_FALSE(parse_config("local_umask=999\n", "w").ok());
  EXPECT_FALSE(parse_config("nopriv_user=0:0\n", "w").ok());
  EXPECT_FALSE(parse_config("log_level=verbose\n", "w").ok());
}

TEST(Config, DuplicateKeyIsAnError) {
  auto config = parse_config("listen_port=21\nlisten_port=22\n", "w.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("w.conf:2:"), std::string::npos);
}

TEST(Config, TrustedProxiesAreStrictPrefixes) {
  auto config = parse_config(
      "proxy_protocol=yes\ntrusted_proxies = 10.0.0.0/8, 127.0.0.1,2001:db8::/32\n"
      "proxy_header_timeout=2\n",
      "w.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->proxy_protocol);
  EXPECT_EQ(config->trusted_proxies,
            (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1", "2001:db8::/32"}));
  EXPECT_EQ(config->proxy_header_timeout, 2u);
  // The canonical text the monitors get reads back the same.
  auto again = parse_config(serialize_config(*config), "memfd");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->trusted_proxies, config->trusted_proxies);
  EXPECT_FALSE(parse_config("trusted_proxies=10.0.0.1/8\n", "w").ok());
  EXPECT_FALSE(parse_config("trusted_proxies=proxy.example\n", "w").ok());
  EXPECT_FALSE(parse_config("proxy_header_timeout=0\n", "w").ok());
  EXPECT_FALSE(parse_config("proxy_header_timeout=61\n", "w").ok());
}

TEST(Config, LineWithoutEqualsIsAnError) {
  EXPECT_FALSE(parse_config("listen_port\n", "w").ok());
}

TEST(Config, SerializedFormParsesBackToTheSameValue) {
  auto config = parse_config("listen_address=::1\nlisten_port=2121\nftpd_banner=Hi there\n"
                             "nopriv_user=7:8\nlocal_umask=077\n",
                             "w");
  ASSERT_TRUE(config.ok());
  const std::string text = serialize_config(*config);
  auto again = parse_config(text, "serialized");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(serialize_config(*again), text);
  EXPECT_EQ(again->ftpd_banner, "Hi there");
  EXPECT_EQ(again->policy.local_umask, 077u);
}

TEST(Config, EveryKeyIsDocumented) {
  for (const auto& key : config_keys()) {
    EXPECT_FALSE(key.description.empty()) << key.name;
  }
}

TEST(Config, BannerWithControlCharacterIsRefused) {
  EXPECT_FALSE(parse_config(std::string("ftpd_banner=a\x01" "b\n"), "w").ok());
}

TEST(Config, TlsKeysAreParsed) {
  auto config = parse_config(
      "tls_enable=yes\ntls_cert_file=/etc/w/cert.pem\ntls_key_file=/etc/w/key.pem\n"
      "tls_implicit_port=990\ntls_min_version=TLSv1.3\ntls_ciphers=ECDHE-ECDSA-AES128-GCM-SHA256\n"
      "tls_ciphersuites=TLS_AES_128_GCM_SHA256\ntls_groups=P-384\ntls_sni_hostname=ftp.example\n"
      "require_tls_login=no\nrequire_tls_data=no\nanon_require_tls=yes\n"
      "require_tls_session_reuse=no\n",
      "w");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->tls_enable);
  EXPECT_EQ(config->tls_cert_file, "/etc/w/cert.pem");
  EXPECT_EQ(config->tls_key_file, "/etc/w/key.pem");
  EXPECT_EQ(config->tls_implicit_port, 990);
  EXPECT_EQ(config->tls_min_version, "TLSv1.3");
  EXPECT_EQ(config->tls_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(config->tls_ciphersuites, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(config->tls_groups, "P-384");
  EXPECT_EQ(config->tls_sni_hostname, "ftp.example");
  EXPECT_FALSE(config->require_tls_login);
  EXPECT_FALSE(config->require_tls_data);
  EXPECT_TRUE(config->anon_require_tls);
  EXPECT_FALSE(config->require_tls_session_reuse);
}

TEST(Config, TlsDefaultsAreOffAndStrict) {
  auto config = parse_config("", "w");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->tls_enable);
  EXPECT_EQ(config->tls_implicit_port, 0);
  EXPECT_EQ(config->tls_min_version, "TLSv1.2");
  EXPECT_TRUE(config->require_tls_login);
  EXPECT_TRUE(config->require_tls_data);
  EXPECT_TRUE(config->require_tls_session_reuse);
  EXPECT_FALSE(config->anon_require_tls);
}

TEST(Config, TlsVersionsBelow12AreRefused) {
  EXPECT_FALSE(parse_config("tls_min_version=TLSv1.1\n", "w").ok());
  EXPECT_FALSE(parse_config("tls_min_version=TLSv1\n", "w").ok());
  EXPECT_FALSE(parse_config("tls_min_version=SSLv3\n", "w").ok());
  EXPECT_FALSE(parse_config("tls_min_version=tlsv1.2\n", "w").ok());
  EXPECT_TRUE(parse_config("tls_min_version=TLSv1.2\n", "w").ok());
}

TEST(Config, TlsListsRefuseSpacesAndSeparators) {
  for (const std::string key : {"tls_ciphers", "tls_ciphersuites", "tls_groups"}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(parse_config(key + "=AES128 AES256\n", "w").ok());
    EXPECT_FALSE(parse_config(key + "=AES128;AES256\n", "w").ok());
    EXPECT_FALSE(parse_config(key + "=\n", "w").ok());
    EXPECT_FALSE(parse_config(key + "=" + std::string(1025, 'A') + "\n", "w").ok());
    EXPECT_TRUE(parse_config(key + "=AES128:!aNULL:+SHA@STRENGTH\n", "w").ok());
  }
}

TEST(Config, SniHostnameMustBeADnsName) {
  EXPECT_FALSE(parse_config("tls_sni_hostname=ftp example\n", "w").ok());
  EXPECT_FALSE(parse_config("tls_sni_hostname=ftp_example\n", "w").ok());
  EXPECT_FALSE(parse_config("tls_sni_hostname=" + std::string(254, 'a') + "\n", "w").ok());
  EXPECT_TRUE(parse_config("tls_sni_hostname=ftp-1.example.org\n", "w").ok());
}

TEST(Config, TlsPathsMustBeCleanAbsolutePaths) {
  EXPECT_FALSE(parse_config("tls_cert_file=cert.pem\n", "w").ok());
  EXPECT_FALSE(parse_config("tls_key_file=/etc/../key.pem\n", "w").ok());
}

TEST(Config, UploadEventSocketIsOffByDefaultAndMustFitAUnixSocketAddress) {
  auto config = parse_config("", "w");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->upload_event_socket, "");
  config = parse_config("upload_event_socket=/run/scan/events.sock\n", "w");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->upload_event_socket, "/run/scan/events.sock");
  auto again = parse_config(serialize_config(*config), "serialized");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->upload_event_socket, "/run/scan/events.sock");
  EXPECT_TRUE(parse_config("upload_event_socket=\n", "w").ok());
  EXPECT_FALSE(parse_config("upload_event_socket=events.sock\n", "w").ok());
  EXPECT_FALSE(parse_config("upload_event_socket=/run/../events.sock\n", "w").ok());
  // sun_path holds 107 bytes and the NUL.
  EXPECT_TRUE(parse_config("upload_event_socket=/" + std::string(106, 'a') + "\n", "w").ok());
  EXPECT_FALSE(parse_config("upload_event_socket=/" + std::string(107, 'a') + "\n", "w").ok());
}

TEST(Config, SerializedFormKeepsTheTlsKeys) {
  auto config = parse_config(
      "tls_enable=yes\ntls_cert_file=/c.pem\ntls_key_file=/k.pem\ntls_implicit_port=990\n"
      "tls_min_version=TLSv1.3\ntls_ciphers=ECDHE-RSA-AES128-GCM-SHA256\n"
      "tls_ciphersuites=TLS_CHACHA20_POLY1305_SHA256\ntls_groups=X25519\n"
      "tls_sni_hostname=ftp.example\nrequire_tls_login=no\nrequire_tls_data=no\n"
      "anon_require_tls=yes\nrequire_tls_session_reuse=no\n",
      "w");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const std::string text = serialize_config(*config);
  auto again = parse_config(text, "serialized");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(serialize_config(*again), text);
  EXPECT_TRUE(again->tls_enable);
  EXPECT_EQ(again->tls_cert_file, "/c.pem");
  EXPECT_EQ(again->tls_key_file, "/k.pem");
  EXPECT_EQ(again->tls_implicit_port, 990);
  EXPECT_EQ(again->tls_min_version, "TLSv1.3");
  EXPECT_EQ(again->tls_ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(again->tls_ciphersuites, "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(again->tls_groups, "X25519");
  EXPECT_EQ(again->tls_sni_hostname, "ftp.example");
  EXPECT_FALSE(again->require_tls_login);
  EXPECT_FALSE(again->require_tls_data);
  EXPECT_TRUE(again->anon_require_tls);
  EXPECT_FALSE(again->require_tls_session_reuse);
}

TEST(Config, ByteSizesTakeBinarySuffixes) {
  EXPECT_EQ(*parse_byte_size("0", 0, 1ull << 62), 0u);
  EXPECT_EQ(*parse_byte_size("1500", 0, 1ull << 62), 1500u);
  EXPECT_EQ(*parse_byte_size("4K", 0, 1ull << 62), 4096u);
  EXPECT_EQ(*parse_byte_size("10M", 0, 1ull << 62), 10485760u);
  EXPECT_EQ(*parse_byte_size("2G", 0, 1ull << 62), 2147483648u);
  EXPECT_EQ(*parse_byte_size("3T", 0, 1ull << 62), 3298534883328u);
  EXPECT_EQ(*parse_byte_size("1k", 0, 1ull << 62), 1024u);  // either case
  for (const char* bad : {"", "K", "1KB", "1.5M", "-1", " 1", "1 M", "0x10", "99999999999T"}) {
    EXPECT_FALSE(parse_byte_size(bad, 0, 1ull << 62).ok()) << bad;
  }
  EXPECT_FALSE(parse_byte_size("5M", 0, 1000).ok());  // out of range after the suffix
  EXPECT_FALSE(parse_byte_size("16777216T", 0, ~0ull).ok());  // 2^64: would overflow
}

TEST(Config, QuotaKeysAreClassKeys) {
  auto config = parse_config(
      "quota_bytes=1G\nquota_dir=/var/lib/q\n[class small]\nquota_bytes=10M\nquota_files=100\n"
      "max_file_size=512K\nupload_files_per_hour=20\n",
      "test.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->policy.quota_bytes, 1ull << 30);
  EXPECT_EQ(config->quota_dir, "/var/lib/q");
  auto policy = effective_policy(*config, "bob", "small", false);
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_EQ(policy->quota_bytes, 10ull << 20);
  EXPECT_EQ(policy->quota_files, 100u);
  EXPECT_EQ(policy->max_file_size, 512u << 10);
  EXPECT_EQ(policy->upload_files_per_hour, 20u);
  EXPECT_TRUE(policy->has_quota() && policy->limits_uploads());
  // The canonical text reads back to the same values.
  auto again = parse_config(serialize_config(*config), "again.conf");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->policy.quota_bytes, 1ull << 30);
  EXPECT_FALSE(parse_config("quota_bytes=5P\n", "bad.conf").ok());
  EXPECT_FALSE(parse_config("upload_files_per_hour=2000000\n", "bad.conf").ok());
}

}  // namespace
}  // namespace wftpd
