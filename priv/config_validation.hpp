// Is this configuration usable? One answer, given by validate_config(), for every way the
// daemon meets a configuration file: --check-config, the listener's start, its SIGHUP reload,
// inetd mode (and --print-config / --print-policy --config). parse_config() checks each key's
// syntax; everything that relates keys to each other or to the system is decided here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/result.hpp"
#include "common/tls_context.hpp"

namespace wftpd {

// Which rule a configuration broke (errors are types: callers and tests never match text).
enum class ConfigCheck {
  kUnreadable,            // the file cannot be read
  kSyntax,                // parse_config: FILE:LINE
  kPassivePorts,          // pasv_min_port/pasv_max_port
  kImplicitTls,           // implicit TLS (a port or a socket) without tls_enable
  kImplicitPort,          // tls_implicit_port equal to listen_port
  kProxyProtocol,         // proxy_protocol without (valid) trusted_proxies
  kAccounts,              // nopriv_user, anon_user, group_allow/group_deny names
  kPam,                   // pam_helper, pam_service
  kAnonymousRoot,         // anon_root, anon_upload_dir
  kSecureChrootDir,       // secure_chroot_dir
  kUsersFile,             // users_file
  kUserPolicy,            // user_config_dir, classes named by users_file
  kTransferLog,           // xferlog_file
  kTlsCredentials,        // tls_cert_file, tls_key_file and the TLS settings
};

struct ConfigError {
  ConfigCheck check;
  std::string message;  // without the file name
};

// A socket the configuration will serve that was not bound from it: inherited from the service
// manager, kept across a reload, or the connection in inetd mode.
struct ServedSocket {
  std::string description;   // for the message: "inherited socket 127.0.0.1:990"
  std::string name;          // "ftps": implicit TLS; "ftp": not; else by local_port
                             // (serves_implicit_tls in socket_activation.hpp decides)
  std::uint16_t local_port = 0;
};

// What a configuration must fit besides itself.
struct ServingContext {
  std::vector<ServedSocket> sockets;
};

// The one decision. Checks `config` (as parse_config() returned it) against its own keys, the
// system (accounts, directories, files, PAM, certificate and key) and `context`; resolves user
// and group names to ids in `config`, and with tls_enable loads the certificate and key into
// `credentials` (the caller wipes the bundle). Changes nothing on the system. Returns the first
// problem found.
std::optional<ConfigError> validate_config(Config& config, const ServingContext& context,
                                           TlsCredentials& credentials);

// A configuration that validate_config() accepted, with what it loaded.
struct ValidConfig {
  Config config;
  TlsCredentials tls;  // tls_enable only: bundle and a warning (e.g. expired certificate)
  ValidConfig() = default;
  ValidConfig(ValidConfig&&) = default;
  ValidConfig& operator=(ValidConfig&&) = default;
  ~ValidConfig() { wipe(tls.bundle); }
};

// Reads, parses and validates the file at `path`; the error is "PATH: message" (parse errors
// "PATH:LINE: message"), the same text whichever mode asks.
Result<ValidConfig> load_config_file(const std::string& path, const ServingContext& context = {});

}  // namespace wftpd
