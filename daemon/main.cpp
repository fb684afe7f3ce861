// wardenftpd: one binary for every role. The listener runs by default; "--session" is how the
// listener execs a session monitor (never meant to be typed by hand).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/session_roles.hpp"
#include "common/tls_context.hpp"
#include "common/users_file.hpp"
#include "daemon/sandbox_selftest.hpp"
#include "daemon/session_command.hpp"
#include "policy/embedded_policy.hpp"
#include "priv/config_validation.hpp"
#include "priv/inetd_session.hpp"
#include "priv/listener.hpp"
#include "priv/login_policy.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/wardenftpd/wardenftpd.conf";

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: wardenftpd [-c FILE] [--stderr] run the daemon (foreground); --stderr logs\n"
               "                                       to stderr whatever log_output says; under\n"
               "                                       systemd, sockets passed with LISTEN_FDS are\n"
               "                                       used instead of binding, and NOTIFY_SOCKET\n"
               "                                       gets READY=1\n"
               "       wardenftpd --inetd [--implicit-tls] [--stderr] [-c FILE]\n"
               "                                       serve the one connection on stdin (inetd, or\n"
               "                                       systemd Accept=yes); implicit TLS also when its\n"
               "                                       local port is tls_implicit_port\n"
               "       wardenftpd --check-config FILE  validate a configuration file\n"
               "       wardenftpd --print-config [FILE [USER]] show the effective configuration;\n"
               "                                       with USER, the policy that user's sessions\n"
               "                                       get (class, overrides, every policy key)\n"
               "       wardenftpd --describe-config    every key: name, default, meaning, scope\n"
               "                                       (server, or class: a [class] section or a\n"
               "                                       user override may set it)\n"
               "       wardenftpd --print-policy ROLE [--config FILE]  a role's compiled seccomp\n"
               "                                       filter (libseccomp PFC); with a configuration,\n"
               "                                       the filter that configuration uses for ROLE\n"
               "       wardenftpd --print-policy-source ROLE [--config FILE]  the policy text\n"
               "       wardenftpd --list-roles [--verbose]  the roles with a seccomp filter (with BPF\n"
               "                                       length and syscall counts; the listener's is\n"
               "                                       a deny list inherited by every process)\n"
               "       wardenftpd --sandbox-selftest   check that every role works under its filter\n"
               "                                       on this kernel and libc\n"
               "       wardenftpd --version\n"
               "default configuration file: %s\n",
               kDefaultConfig);
}

int check_config(const std::string& path) {
  // The same decision as the listener's start and reload and inetd mode (validate_config).
  auto valid = wftpd::load_config_file(path);
  if (!valid) {
    std::fprintf(stderr, "%s\n", valid.error().message.c_str());
    return 1;
  }
  if (!valid->tls.warning.empty()) std::fprintf(stderr, "warning: %s\n", valid->tls.warning.c_str());
  std::printf("%s: configuration OK (%zu classes, %zu user overrides)\n", path.c_str(),
              valid->config.classes.size(), valid->config.user_overrides.size());
  return 0;
}

// The policy a login as `name` gets, decided as the session monitor decides it
// (effective_policy), with where its class and overrides came from.
int print_user_policy(const wftpd::Config& config, const std::string& name) {
  const bool anonymous = config.anonymous_enable && wftpd::LoginPolicy(config).is_anonymous(name);
  std::string kind = anonymous ? "anonymous" : "not in users_file (PAM, when pam_enable=yes)";
  std::string assigned_class;
  if (!anonymous) {
    auto users = wftpd::read_users_file(config.users_file);
    if (users) {
      if (const auto* user = wftpd::find_user(*users, name)) {
        kind = "virtual user (users_file)";
        assigned_class = user->user_class;
      }
      wftpd::wipe_hashes(*users);
    }
  }
  wftpd::PolicyOrigin origin;
  auto policy = wftpd::effective_policy(config, anonymous ? "anonymous" : name, assigned_class,
                                        anonymous, &origin);
  if (!policy) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), policy.error().message.c_str());
    return 1;
  }
  std::printf("# user %s: %s\n# class %s (from %s)\n# overrides: %s\n", name.c_str(), kind.c_str(),
              policy->class_name.c_str(), origin.class_from.c_str(),
              origin.override_from.empty() ? "none" : origin.override_from.c_str());
  std::fputs(wftpd::format_policy(*policy).c_str(), stdout);
  return 0;
}

int print_config(const std::string& path, const std::string& user) {
  wftpd::Config config;
  if (!path.empty()) {
    auto loaded = wftpd::load_config_file(path);
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
      return 1;
    }
    config = std::move(loaded->config);
  }
  if (!user.empty()) return print_user_policy(config, user);
  std::fputs(wftpd::serialize_config(config).c_str(), stdout);
  return 0;
}

// One line per configuration key: name, default value, description (tab-separated), from the
// code's own table; tools/gen-config-docs turns it into the man page and the sample file.
int describe_config() {
  const std::string defaults = wftpd::serialize_config(wftpd::Config{});
  for (const auto& key : wftpd::config_keys()) {
    std::string value;
    const std::string prefix = std::string(key.name) + "=";
    const auto at = defaults.find("\n" + prefix);
    const auto start = defaults.rfind(prefix, 0) == 0 ? prefix.size()
                       : at == std::string::npos  ? std::string::npos
                                                  : at + 1 + prefix.size();
    if (start != std::string::npos) value = defaults.substr(start, defaults.find('\n', start) - start);
    std::printf("%.*s\t%s\t%.*s\t%s\n", static_cast<int>(key.name.size()), key.name.data(),
                value.c_str(), static_cast<int>(key.description.size()), key.description.data(),
                key.per_class ? "class" : "server");
  }
  return 0;
}

int print_policy(std::string_view requested, bool source, const std::string& config_path) {
  const wftpd::RoleSpec* role = wftpd::find_role(requested);
  if (!config_path.empty()) {
    auto config = wftpd::load_config_file(config_path);
    if (!config) {
      std::fprintf(stderr, "%s\n", config.error().message.c_str());
      return 1;
    }
    role = wftpd::effective_role(requested, config->config);
    if (role != nullptr) {
      std::printf("# role %s with %s: filter \"%.*s\"\n", std::string(requested).c_str(),
                  config_path.c_str(), static_cast<int>(role->policy.size()), role->policy.data());
    }
  }
  const auto* policy = role == nullptr ? nullptr : wftpd::policy::find_policy(role->policy);
  if (policy == nullptr) {
    std::fprintf(stderr, "unknown role '%.*s'; try --list-roles\n",
                 static_cast<int>(requested.size()), requested.data());
    return 1;
  }
  const std::string_view text = source ? policy->source : policy->pfc;
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

// The roles of the roles table that have a filter, by name; verbose: with the filter's figures.
int list_roles(bool verbose) {
  std::vector<const wftpd::policy::EmbeddedPolicy*> policies;
  for (const auto& role : wftpd::role_table()) {
    if (role.policy.empty()) continue;  // the PAM helper: no filter
    const auto* policy = wftpd::policy::find_policy(role.policy);
    if (policy == nullptr) {
      std::fprintf(stderr, "role %.*s has no filter in this binary\n",
                   static_cast<int>(role.name.size()), role.name.data());
      return 1;
    }
    policies.push_back(policy);
  }
  std::sort(policies.begin(), policies.end(),
            [](const auto* a, const auto* b) { return a->role < b->role; });
  for (const auto* policy : policies) {
    if (verbose && policy->denylist) {
      std::printf("%.*s %zu denylist %zu %zu\n", static_cast<int>(policy->role.size()),
                  policy->role.data(), policy->filter.size(), policy->trapped_syscalls,
                  policy->errno_syscalls);
    } else if (verbose) {
      std::printf("%.*s %zu %zu %zu\n", static_cast<int>(policy->role.size()), policy->role.data(),
                  policy->filter.size(), policy->allowed_syscalls, policy->errno_syscalls);
    } else {
      std::printf("%.*s\n", static_cast<int>(policy->role.size()), policy->role.data());
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "--session") return wftpd::run_session_command(argc, argv);
  if (command == "--check-config" && argc == 3) return check_config(argv[2]);
  if (command == "--describe-config" && argc == 2) return describe_config();
  if (command == "--print-config" && argc <= 4) {
    return print_config(argc >= 3 ? argv[2] : "", argc == 4 ? argv[3] : "");
  }
  if ((command == "--print-policy" || command == "--print-policy-source") &&
      (argc == 3 || (argc == 5 && std::string_view(argv[3]) == "--config"))) {
    return print_policy(argv[2], command == "--print-policy-source", argc == 5 ? argv[4] : "");
  }
  if (command == "--list-roles" && (argc == 2 || (argc == 3 && std::string_view(argv[2]) == "--verbose"))) {
    // Verbose: ROLE BPF_LENGTH ALLOWED ERRNO for an allowlist (everything else traps);
    // ROLE BPF_LENGTH denylist TRAPPED ERRNO for the listener's deny list (everything else is
    // allowed).
    return list_roles(argc == 3);
  }
  if (command == "--sandbox-selftest" && argc == 2) return wftpd::run_sandbox_selftest();
  if (command == "--version") {
#if defined(WFTPD_SANITIZE)
    std::printf("wardenftpd %s (ASan+UBSan build)\n", WARDENFTPD_VERSION);
#else
    std::printf("wardenftpd %s\n", WARDENFTPD_VERSION);
#endif
    return 0;
  }
  if (command == "--help" || command == "-h") {
    usage(stdout);
    return 0;
  }
  std::string config_path = kDefaultConfig;
  bool inetd = false;
  wftpd::InetdOptions inetd_options;
  bool force_stderr = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--inetd") {
      inetd = true;
    } else if (arg == "--implicit-tls") {
      inetd_options.implicit_tls = true;
    } else if (arg == "--stderr") {
      force_stderr = true;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (inetd_options.implicit_tls && !inetd) {
    usage(stderr);
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "wardenftpd: must be started as root (it drops privileges per role)\n");
    return 1;
  }
  if (inetd) {
    inetd_options.config_path = config_path;
    inetd_options.force_stderr = force_stderr;
    return wftpd::run_inetd_session(inetd_options);
  }
  return wftpd::run_listener(config_path, force_stderr);
}
