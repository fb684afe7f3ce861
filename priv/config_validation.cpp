// See config_validation.hpp. The order of the checks is the order of the report: the file's own
// consistency first, then the system it names.
#include "priv/config_validation.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "common/address_prefix.hpp"
#include "common/io.hpp"
#include "common/unique_fd.hpp"
#include "common/users_file.hpp"
#include "priv/pam_backend.hpp"
#include "priv/secure_directory.hpp"
#include "priv/socket_activation.hpp"
#include "priv/transfer_log.hpp"
#include "priv/user_config_dir.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;

ConfigError problem(ConfigCheck check, std::string message) {
  return ConfigError{check, std::move(message)};
}

// Keys that must agree with each other or with the sockets in `context`.
std::optional<ConfigError> check_key_relations(const Config& config, const ServingContext& context) {
  if ((config.pasv_min_port == 0) != (config.pasv_max_port == 0)) {
    return problem(ConfigCheck::kPassivePorts,
                   "pasv_min_port and pasv_max_port must both be 0 or both be set");
  }
  if (config.pasv_min_port > config.pasv_max_port) {
    return problem(ConfigCheck::kPassivePorts, "pasv_min_port is above pasv_max_port");
  }
  if (config.pasv_min_port != 0 && config.pasv_min_port < 1024) {
    return problem(ConfigCheck::kPassivePorts, "passive ports below 1024 are refused");
  }
  if (config.tls_implicit_port != 0 && !config.tls_enable) {
    return problem(ConfigCheck::kImplicitTls, "tls_implicit_port needs tls_enable=yes");
  }
  if (config.tls_implicit_port != 0 && config.tls_implicit_port == config.listen_port) {
    return problem(ConfigCheck::kImplicitPort, "tls_implicit_port must differ from listen_port");
  }
  // SECURITY: a socket whose clients speak TLS from the first byte cannot be served in clear.
  for (const auto& socket : context.sockets) {
    if (!config.tls_enable &&
        serves_implicit_tls(socket.name, socket.local_port, config.tls_implicit_port)) {
      return problem(ConfigCheck::kImplicitTls,
                     socket.description +
                         " is for implicit TLS (named ftps, or on tls_implicit_port) but tls_enable=no");
    }
  }
  if (config.proxy_protocol && config.trusted_proxies.empty()) {
    return problem(ConfigCheck::kProxyProtocol, "proxy_protocol=yes needs trusted_proxies");
  }
  if (auto trusted = parse_prefix_list(config.trusted_proxies); !trusted) {
    return problem(ConfigCheck::kProxyProtocol, "trusted_proxies: " + trusted.error().message);
  }
  return std::nullopt;
}

bool is_directory(const std::string& path, bool follow) {
  struct stat st{};
  return (follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::optional<ConfigError> validate_config(Config& config, const ServingContext& context,
                                           TlsCredentials& credentials) {
  if (auto relations = check_key_relations(config, context)) return relations;
  if (auto resolved = resolve_users(config); !resolved) {
    return problem(ConfigCheck::kAccounts, resolved.error().message);
  }
  if (auto overrides = load_user_overrides(config); !overrides) {
    return problem(ConfigCheck::kUserPolicy, overrides.error().message);
  }
  // Every session monitor reads this text back (at most 1 MiB: session_monitor.cpp).
  if (serialize_config(config).size() > kMaxConfigFileBytes) {
    return problem(ConfigCheck::kUserPolicy,
                   "the configuration with its classes and user overrides is larger than 1 MiB");
  }
  if (auto pam = check_pam_configuration(config); !pam) {
    return problem(ConfigCheck::kPam, pam.error().message);
  }
  if (config.anonymous_enable) {
    if (!is_directory(config.anon_root, true)) {
      return problem(ConfigCheck::kAnonymousRoot, "anon_root " + config.anon_root + " is not a directory");
    }
    const std::string upload = config.anon_root + config.anon_upload_dir;
    if (!config.anon_upload_dir.empty() && !is_directory(upload, false)) {
      return problem(ConfigCheck::kAnonymousRoot, "anon_upload_dir " + upload + " is not a directory");
    }
  }
  // Created at start if missing; what exists must already be a safe, empty jail.
  if (auto jail = check_empty_directory(config.secure_chroot_dir, true); !jail) {
    return problem(ConfigCheck::kSecureChrootDir, "secure_chroot_dir: " + jail.error().message);
  }
  // A missing users file leaves only PAM and anonymous logins (the monitor logs it per session);
  // one that exists must be safe and well-formed.
  // SECURITY: the hashes it reads are wiped before it returns: the listener keeps none.
  if (auto users = read_users_file(config.users_file); !users) {
    struct stat st{};
    if (::lstat(config.users_file.c_str(), &st) == 0 || errno != ENOENT) {
      return problem(ConfigCheck::kUsersFile, "users_file: " + users.error().message);
    }
  } else {
    std::string unknown;
    for (const auto& user : *users) {
      if (!has_class(config, user.user_class)) {
        unknown = "users_file: user '" + user.name + "' has class '" + user.user_class +
                  "', which no [class] section defines";
        break;
      }
    }
    wipe_hashes(*users);
    if (!unknown.empty()) return problem(ConfigCheck::kUserPolicy, unknown);
  }
  if (config.xferlog_enable) {
    if (auto location = check_transfer_log_location(config.xferlog_file); !location) {
      return problem(ConfigCheck::kTransferLog, location.error().message);
    }
  }
  if (config.tls_enable) {
    auto loaded = load_tls_credentials(config);
    if (!loaded) return problem(ConfigCheck::kTlsCredentials, loaded.error().message);
    credentials = std::move(*loaded);
  }
  return std::nullopt;
}

Result<ValidConfig> load_config_file(const std::string& path, const ServingContext& context) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error("open(" + path + ")", errno);
  auto text = read_whole_fd(fd.get(), kMaxConfigFileBytes);
  if (!text) return make_error(path + ": " + text.error().message);
  auto parsed = parse_config(*text, path);
  if (!parsed) return parsed.error();
  ValidConfig valid;
  valid.config = std::move(*parsed);
  if (auto error = validate_config(valid.config, context, valid.tls)) {
    return make_error(path + ": " + error->message);
  }
  return valid;
}

}  // namespace wftpd
