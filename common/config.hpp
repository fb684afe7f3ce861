// The daemon's configuration: one immutable value, validated once by the listener and handed to
// every session monitor through a sealed memfd in canonical form.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/account_files.hpp"
#include "common/result.hpp"
#include "common/session_policy.hpp"

namespace wftpd {

// Where `make install` puts the PAM helper (the build passes the libexec directory).
#if defined(WFTPD_PAM_HELPER_PATH)
inline constexpr const char* kDefaultPamHelper = WFTPD_PAM_HELPER_PATH;
#else
inline constexpr const char* kDefaultPamHelper = "/usr/local/libexec/wardenftpd-pam-helper";
#endif

// Groups named in group_allow / group_deny: numeric gids as written, and names until
// resolve_users() turns them into gids (a session's copy holds gids only).
struct GroupList {
  std::vector<gid_t> ids;
  std::vector<std::string> names;
  bool empty() const { return ids.empty() && names.empty(); }
};

// A named class: a [class NAME] section, the default policy with the keys it sets.
struct UserClass {
  std::string name;
  SessionPolicy policy;
};

// One user's overrides: a [user NAME] section, or the file NAME in user_config_dir. The keys are
// kept as text (each checked when read) and applied over the user's class at login.
struct UserOverride {
  std::string user;
  std::string class_name;  // empty: the class the user has otherwise
  std::vector<std::pair<std::string, std::string>> settings;
  std::string source;  // "FILE" or "FILE:LINE", for messages
};

inline constexpr std::size_t kMaxClasses = 256;
inline constexpr std::size_t kMaxUserOverrides = 10000;

struct Config {
  // The default class: the policy keys at the top of the file (common/session_policy.hpp).
  SessionPolicy policy;
  std::vector<UserClass> classes;
  std::string default_class;  // the class of users without one; empty: the top-level policy
  std::string anon_class;     // the class of anonymous sessions; empty: as default_class
  std::string user_config_dir;  // per-user override files, read by the listener; empty: none
  std::vector<UserOverride> user_overrides;
  std::vector<std::string> listen_addresses{"0.0.0.0", "::"};
  std::uint16_t listen_port = 21;
  std::uint32_t max_clients = 200;
  // Per client address (IPv6: per /64), 0: no limit (priv/client_limits.hpp). The defaults let
  // one busy client open all its parallel sessions at once (rclone sync: --checkers 8 +
  // --transfers 4 + 1; FileZilla: up to 10 transfers + 1), while one address holds at most a
  // tenth of the default max_clients and starts at most 10 sessions a second after its first 20.
  std::uint32_t max_per_ip = 20;          // sessions at once per client address
  std::uint32_t connect_rate_per_ip = 10;  // new connections per second per address, bursts of 20
  // Who may connect at all (addresses or CIDR prefixes, canonical text); deny wins; an empty
  // allow list allows everyone. Decided before anything is forked (priv/client_access.hpp).
  std::vector<std::string> allow_clients;
  std::vector<std::string> deny_clients;
  // Automatic bans (priv/ban_list.hpp): ban_after_failures failed logins from one address (IPv6:
  // its /64) within ban_window seconds refuse it for ban_time seconds; 0 turns them off.
  // Addresses in ban_exempt are never banned.
  std::uint32_t ban_after_failures = 10;
  std::string ban_state_file = "/var/lib/wardenftpd/bans";  // empty: in memory only
  // Each quota user's usage, one file per user (priv/quota_usage.hpp); empty: in memory only.
  std::string quota_dir = "/var/lib/wardenftpd/quota";
  // The operator's control socket (wardenftpd-ctl); empty: none. control_group: who else may use it.
  std::string control_socket = "/run/wardenftpd/ctl";
  std::string control_group;
  std::string metrics_textfile;  // node_exporter textfile collector; empty: none
  std::uint32_t metrics_interval = 15;
  std::uint32_t ban_window = 600;
  std::uint32_t ban_time = 3600;
  std::vector<std::string> ban_exempt = {"127.0.0.0/8", "::1"};
  // PROXY protocol (v1/v2) from load balancers: connections from trusted_proxies must begin
  // with a header naming the real client; other connections are served as they are.
  bool proxy_protocol = false;
  std::vector<std::string> trusted_proxies;  // addresses or CIDR prefixes, canonical text
  std::uint32_t proxy_header_timeout = 5;    // seconds a trusted proxy has to send its header
  std::string nopriv_user = "nobody";  // a name, or "UID:GID" (canonical form after resolution)
  uid_t nopriv_uid = 65534;            // filled by resolve_nopriv_user()
  gid_t nopriv_gid = 65534;
  std::string secure_chroot_dir = "/run/wardenftpd/empty";
  std::string users_file = "/etc/wardenftpd/users";
  std::uint16_t pasv_min_port = 0;  // 0/0: the kernel picks an ephemeral port
  std::uint16_t pasv_max_port = 0;
  std::string pasv_address;  // IPv4 address announced in 227 replies (behind NAT); empty: local
  bool connect_from_port_20 = false;  // active-mode data connections from port 20 (RFC 959)
  std::uint32_t login_fail_delay_ms = 1000;
  std::uint32_t max_login_attempts = 3;
  std::uint32_t idle_timeout = 300;             // seconds
  std::uint32_t login_timeout = 60;             // seconds from connect to a completed login
  std::uint32_t data_connection_timeout = 60;   // seconds to wait for a PASV connection
  std::uint32_t data_timeout = 300;             // seconds a transfer may stall
  // All sessions' transfers together, bytes/s (0: no cap); each running transfer gets an
  // equal part (priv/rate_share.hpp).
  std::uint64_t max_download_rate = 0;
  std::uint64_t max_upload_rate = 0;
  std::uint64_t ascii_size_limit = 64ull << 20;  // SIZE in TYPE A reads files up to this size
  // HASH (draft-bryan-ftpext-hash): bytes one command may read (0: HASH off), and the rate at
  // which a session's allowance of that many bytes refills.
  std::uint64_t hash_max_bytes = 4ull << 30;
  std::uint64_t hash_bytes_per_second = 64ull << 20;
  std::string ftpd_banner = "wardenftpd ready.";
  bool anonymous_enable = false;        // USER anonymous / ftp, read-only
  std::string anon_user = "ftp";        // a name, or "UID:GID" (canonical form after resolution)
  uid_t anon_uid = 0;                   // filled by resolve_users() when anonymous is enabled
  gid_t anon_gid = 0;
  std::string anon_root = "/srv/ftp";
  std::string anon_upload_dir;          // drop box inside anon_root ("/incoming"); empty: none
  std::string log_level = "info";
  std::string log_output = "syslog";       // syslog or stderr (wardenftpd --stderr forces stderr)
  std::string log_format = "text";         // text or json (one JSON object per line)
  std::string syslog_socket = "/dev/log";  // the syslog daemon's datagram socket
  std::string syslog_facility = "daemon";  // daemon, ftp, user, local0..local7
  // Upload events (priv/upload_event.hpp): each completed upload as one JSON datagram to the
  // consumer's Unix datagram socket at this path; empty: none.
  std::string upload_event_socket;
  bool xferlog_enable = false;             // a wu-ftpd format transfer log
  std::string xferlog_file = "/var/log/xferlog";
  // System users through PAM, checked in a short-lived helper process (after virtual users).
  bool pam_enable = false;
  std::string pam_service = "wardenftpd";
  std::string pam_helper = kDefaultPamHelper;
  // Who may log in at all, whatever the backend; deny wins. Empty allow lists allow everyone.
  std::vector<std::string> user_allow;
  std::vector<std::string> user_deny;
  GroupList group_allow;
  GroupList group_deny;
  // FTPS (RFC 4217). TLS is offered only with tls_enable; the key never reaches a post-auth child
  // while require_tls_session_reuse is on.
  bool tls_enable = false;
  std::string tls_cert_file = "/etc/wardenftpd/tls/cert.pem";  // chain, leaf first
  std::string tls_key_file = "/etc/wardenftpd/tls/key.pem";
  std::uint16_t tls_implicit_port = 0;  // implicit FTPS (TLS from the first byte); 0: off
  std::string tls_min_version = "TLSv1.2";
  std::string tls_ciphers =
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
      "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
  std::string tls_ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
  std::string tls_groups = "X25519:P-256:P-384";
  std::string tls_sni_hostname;  // when set, a client's SNI (if sent) must equal it
  bool require_tls_login = true;          // local/virtual users log in only over TLS
  bool require_tls_data = true;           // local/virtual users transfer only with PROT P
  bool anon_require_tls = false;          // the same two rules for anonymous sessions
  bool require_tls_session_reuse = true;  // data TLS must resume the control session
};

// One documented configuration key (the table drives the parser, --print-config and the docs).
struct ConfigKey {
  std::string_view name;
  std::string_view description;
  bool per_class = false;  // a policy key: [class NAME] sections and user overrides may set it
};
std::span<const ConfigKey> config_keys();

// Parses key=value text. Strict: unknown keys, duplicates and bad values are errors, reported
// as "FILE:LINE: message". Each key is checked alone; how keys relate to each other and to the
// system is validate_config()'s decision (priv/config_validation.hpp).
Result<Config> parse_config(std::string_view text, std::string_view file_name);

// Canonical key=value text of every key, which parse_config() reads back to the same value.
std::string serialize_config(const Config& config);

// Parses one per-user override file (user_config_dir/NAME): policy keys and `class`, as strictly
// as the main file. `known_classes` is checked by the caller (load_user_overrides).
Result<UserOverride> parse_user_override(std::string_view text, std::string_view file_name,
                                         std::string_view user);

// The policy of a session, decided by the monitor at login: the class (the override's `class`,
// else `assigned_class` from the users file, else anon_class for anonymous sessions, else
// default_class), then the user's override keys. An unknown class is an error (the login is
// refused).
// `origin`, when given, says where the class and the overrides came from (--print-config).
struct PolicyOrigin {
  std::string class_from;     // "default_class", "anon_class", "users_file", "FILE[:LINE]"
  std::string override_from;  // the override's FILE[:LINE]; empty: none
};
Result<SessionPolicy> effective_policy(const Config& config, std::string_view user,
                                       std::string_view assigned_class, bool anonymous,
                                       PolicyOrigin* origin = nullptr);

// Whether `name` names a class: empty and "default" name the top-level policy.
bool has_class(const Config& config, std::string_view name);

// The policy keys of `policy` as key=value lines (--print-config USER).
std::string format_policy(const SessionPolicy& policy);

// Helpers shared with common/session_policy.cpp: a comma-separated list (and its inverse) (blanks around items
// ignored; an empty item or more than max_items is an error), and a file-name glob (one name
// component, no '/', no control characters, at most 255 bytes).
Result<std::vector<std::string>> split_list(std::string_view value, std::size_t max_items);
std::string join_list(const std::vector<std::string>& items);  // the inverse: "a,b"
bool is_name_pattern(std::string_view item);

// A byte size: decimal digits, optionally followed by K, M, G or T (powers of 1024; "1M" is
// 1048576), within [min, max]. The one parser for sizes in the configuration (byte_size_key in
// config.cpp uses it).
Result<std::uint64_t> parse_byte_size(std::string_view value, std::uint64_t min, std::uint64_t max);
std::string format_byte_size(std::uint64_t bytes);  // the shortest exact form: "256K"

// Resolves nopriv_user (and anon_user when anonymous FTP is enabled) to numeric ids and stores
// them as "UID:GID"; resolves the group names of group_allow and group_deny to gids. Names are
// looked up in the files `files` names (/etc/passwd, /etc/group), never through NSS: see
// common/account_files.hpp. Call before any sandbox.
Result<void> resolve_users(Config& config, const AccountFiles& files = AccountFiles{});

}  // namespace wftpd
