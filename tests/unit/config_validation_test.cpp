// validate_config(): the one decision on whether a configuration is usable (priv/config_validation).
#include "priv/config_validation.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace wftpd {
namespace {

class ConfigValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wftpd-validate-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_EQ(::mkdir((dir_ + "/empty").c_str(), 0755), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A configuration that validates: numeric ids (no account files needed), an empty jail, no
  // users file, no TLS.
  std::string base() const {
    return "nopriv_user=65534:65534\nsecure_chroot_dir=" + dir_ + "/empty\nusers_file=" + dir_ +
           "/users\n";
  }
  std::optional<ConfigError> validate(const std::string& extra, const ServingContext& context = {}) {
    auto parsed = parse_config(base() + extra, "t.conf");
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    if (!parsed) return ConfigError{ConfigCheck::kSyntax, parsed.error().message};
    TlsCredentials credentials;
    return validate_config(*parsed, context, credentials);
  }
  void write(const std::string& name, const std::string& text, mode_t mode) {
    std::ofstream(dir_ + "/" + name) << text;
    ASSERT_EQ(::chmod((dir_ + "/" + name).c_str(), mode), 0);
  }

  std::string dir_;
};

ConfigCheck check_of(const std::optional<ConfigError>& error) {
  return error ? error->check : ConfigCheck::kUnreadable;
}

TEST_F(ConfigValidation, AcceptsAMinimalConfiguration) {
  auto error = validate("");
  EXPECT_FALSE(error) << error->message;
}

TEST_F(ConfigValidation, PassiveRangeMustBeConsistent) {
  EXPECT_EQ(check_of(validate("pasv_min_port=40000\n")), ConfigCheck::kPassivePorts);
  EXPECT_EQ(check_of(validate("pasv_min_port=40010\npasv_max_port=40000\n")), ConfigCheck::kPassivePorts);
  EXPECT_EQ(check_of(validate("pasv_min_port=20\npasv_max_port=30\n")), ConfigCheck::kPassivePorts);
  EXPECT_FALSE(validate("pasv_min_port=40000\npasv_max_port=40010\n"));
}

TEST_F(ConfigValidation, ImplicitPortNeedsTlsEnable) {
  auto error = validate("tls_implicit_port=990\n");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->check, ConfigCheck::kImplicitTls);
  EXPECT_EQ(error->message, "tls_implicit_port needs tls_enable=yes");
}

TEST_F(ConfigValidation, ImplicitPortMustDifferFromListenPort) {
  EXPECT_EQ(check_of(validate("tls_enable=yes\nlisten_port=990\ntls_implicit_port=990\n")),
            ConfigCheck::kImplicitPort);
  EXPECT_EQ(check_of(validate("tls_enable=yes\ntls_implicit_port=21\n")),  // default 21
            ConfigCheck::kImplicitPort);
}

TEST_F(ConfigValidation, ProxyProtocolNeedsTrustedProxies) {
  EXPECT_EQ(check_of(validate("proxy_protocol=yes\n")), ConfigCheck::kProxyProtocol);
  EXPECT_FALSE(validate("proxy_protocol=yes\ntrusted_proxies=10.0.0.0/8\n"));
}

TEST_F(ConfigValidation, ImplicitTlsSocketNeedsTlsEnableWhateverTheMode) {
  ServingContext named;
  named.sockets.push_back(ServedSocket{"inherited socket 127.0.0.1:990", "ftps", 990});
  auto error = validate("", named);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->check, ConfigCheck::kImplicitTls);
  EXPECT_EQ(error->message,
            "inherited socket 127.0.0.1:990 is for implicit TLS (named ftps, or on "
            "tls_implicit_port) but tls_enable=no");
  ServingContext plain;
  plain.sockets.push_back(ServedSocket{"the inetd connection", "", 990});
  EXPECT_FALSE(validate("", plain));  // tls_implicit_port is 0: port 990 is plain FTP
  plain.sockets.push_back(ServedSocket{"a listening socket", "ftp", 21});
  EXPECT_FALSE(validate("", plain));
}

TEST_F(ConfigValidation, SecureChrootDirMustBeAnEmptyPrivateDirectory) {
  ASSERT_EQ(::chmod((dir_ + "/empty").c_str(), 0777), 0);
  auto error = validate("");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->check, ConfigCheck::kSecureChrootDir);
  EXPECT_NE(error->message.find("writable by group or others"), std::string::npos) << error->message;
  ASSERT_EQ(::chmod((dir_ + "/empty").c_str(), 0755), 0);
  write("empty/stray", "", 0600);
  EXPECT_EQ(check_of(validate("")), ConfigCheck::kSecureChrootDir);
}

TEST_F(ConfigValidation, MissingSecureChrootDirIsAcceptedAndNotCreated) {
  auto parsed = parse_config("nopriv_user=1:1\nsecure_chroot_dir=" + dir_ + "/later\n", "t.conf");
  ASSERT_TRUE(parsed.ok());
  parsed->users_file = dir_ + "/users";
  TlsCredentials credentials;
  EXPECT_FALSE(validate_config(*parsed, {}, credentials));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/later"));
}

TEST_F(ConfigValidation, UsersFileThatExistsMustBePrivateAndWellFormed) {
  write("users", "# no users\n", 0644);
  EXPECT_EQ(check_of(validate("")), ConfigCheck::kUsersFile);
  write("users", "not a users line\n", 0600);
  EXPECT_EQ(check_of(validate("")), ConfigCheck::kUsersFile);
  write("users", "# no users\n", 0600);
  EXPECT_FALSE(validate(""));
}

TEST_F(ConfigValidation, TransferLogDirectoryMustBeRootsAndNotWritableByOthers) {
  ASSERT_EQ(::mkdir((dir_ + "/log").c_str(), 0777), 0);
  ASSERT_EQ(::chmod((dir_ + "/log").c_str(), 0777), 0);
  EXPECT_EQ(check_of(validate("xferlog_enable=yes\nxferlog_file=" + dir_ + "/log/xferlog\n")),
            ConfigCheck::kTransferLog);
  ASSERT_EQ(::chmod((dir_ + "/log").c_str(), 0755), 0);
  EXPECT_FALSE(validate("xferlog_enable=yes\nxferlog_file=" + dir_ + "/log/xferlog\n"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/log/xferlog"));  // checked, not created
}

TEST_F(ConfigValidation, AnonymousRootMustBeADirectory) {
  EXPECT_EQ(check_of(validate("anonymous_enable=yes\nanon_user=1:1\nanon_root=" + dir_ + "/none\n")),
            ConfigCheck::kAnonymousRoot);
}

TEST_F(ConfigValidation, TlsCredentialsMustLoad) {
  auto error = validate("tls_enable=yes\ntls_cert_file=" + dir_ + "/cert.pem\ntls_key_file=" + dir_ +
                        "/key.pem\n");
  EXPECT_EQ(check_of(error), ConfigCheck::kTlsCredentials);
}

TEST_F(ConfigValidation, UnknownUserNameIsAnAccountsError) {
  EXPECT_EQ(check_of(validate("anonymous_enable=yes\nanon_user=no-such-user-wftpd\nanon_root=/\n")),
            ConfigCheck::kAccounts);
}

TEST_F(ConfigValidation, LoadConfigFileNamesTheFileInEveryError) {
  write("bad.conf", base() + "pasv_min_port=40000\n", 0600);
  auto loaded = load_config_file(dir_ + "/bad.conf");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message,
            dir_ + "/bad.conf: pasv_min_port and pasv_max_port must both be 0 or both be set");
  write("good.conf", base(), 0600);
  EXPECT_TRUE(load_config_file(dir_ + "/good.conf").ok());
}

}  // namespace
}  // namespace wftpd
