#include "common/config.hpp"

#include "common/address_prefix.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <optional>
#include <set>

#include "common/account_files.hpp"
#include "common/pam_protocol.hpp"
#include "common/users_file.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxConfigLine = 4096;
constexpr std::size_t kMaxConfigLines = 10000;

// A key's parser and printer, for the Config (server keys) or for a SessionPolicy (the keys a
// class or a user's override may set).
template <class Owner>
struct BasicKeyHandler {
  ConfigKey key;
  std::function<Result<void>(Owner&, std::string_view)> set;
  std::function<std::string(const Owner&)> get;
};
using KeyHandler = BasicKeyHandler<Config>;
using PolicyKeyHandler = BasicKeyHandler<SessionPolicy>;

Result<std::uint64_t> parse_unsigned(std::string_view value, std::uint64_t min, std::uint64_t max,
                                     int base = 10) {
  if (value.empty()) return make_error("empty number");
  std::uint64_t parsed = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed, base);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return make_error("'" + std::string(value) + "' is not a number");
  }
  if (parsed < min || parsed > max) {
    return make_error("'" + std::string(value) + "' is out of range " + std::to_string(min) +
                      ".." + std::to_string(max));
  }
  return parsed;
}

}  // namespace

// The shortest exact form: "0", "100000", "256K", "10M", "1G", "2T".
std::string format_byte_size(std::uint64_t bytes) {
  if (bytes != 0) {
    for (const auto& [shift, suffix] :
         {std::pair{40, 'T'}, std::pair{30, 'G'}, std::pair{20, 'M'}, std::pair{10, 'K'}}) {
      if (bytes % (1ull << shift) == 0) return std::to_string(bytes >> shift) + suffix;
    }
  }
  return std::to_string(bytes);
}

namespace {

template <class Owner, class Field>
BasicKeyHandler<Owner> number_key(std::string_view name, std::string_view description,
                                  Field Owner::*field, std::uint64_t min, std::uint64_t max) {
  return BasicKeyHandler<Owner>{
      {name, description},
      [field, min, max](Owner& config, std::string_view value) -> Result<void> {
        auto parsed = parse_unsigned(value, min, max);
        if (!parsed) return parsed.error();
        config.*field = static_cast<Field>(*parsed);
        return ok_result();
      },
      [field](const Owner& config) { return std::to_string(config.*field); }};
}

// A size in bytes, or bytes a second (parse_byte_size): K, M, G, T suffixes; printed back in
// the shortest exact form (format_byte_size).
template <class Owner, class Field>
BasicKeyHandler<Owner> byte_size_key(std::string_view name, std::string_view description,
                                     Field Owner::*field, std::uint64_t max) {
  return BasicKeyHandler<Owner>{
      {name, description},
      [field, max](Owner& config, std::string_view value) -> Result<void> {
        auto parsed = parse_byte_size(value, 0, max);
        if (!parsed) return parsed.error();
        config.*field = static_cast<Field>(*parsed);
        return ok_result();
      },
      [field](const Owner& config) { return format_byte_size(config.*field); }};
}

bool is_absolute_clean_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > 4096) return false;
  if (path.size() > 1 && path.back() == '/') return false;
  for (const char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return path.find("//") == std::string_view::npos && path.find("/./") == std::string_view::npos &&
         path.find("/../") == std::string_view::npos && !path.ends_with("/..") &&
         !path.ends_with("/.");
}

KeyHandler path_key(std::string_view name, std::string_view description,
                    std::string Config::*field) {
  return KeyHandler{{name, description},
                    [field](Config& config, std::string_view value) -> Result<void> {
                      if (!is_absolute_clean_path(value)) {
                        return make_error("'" + std::string(value) +
                                          "' is not a clean absolute path");
                      }
                      config.*field = std::string(value);
                      return ok_result();
                    },
                    [field](const Config& config) { return config.*field; }};
}

// A path that may also be empty (the feature is off).
KeyHandler optional_path_key(std::string_view name, std::string_view description,
                             std::string Config::*field) {
  return KeyHandler{{name, description},
                    [field](Config& config, std::string_view value) -> Result<void> {
                      if (!value.empty() && !is_absolute_clean_path(value)) {
                        return make_error("'" + std::string(value) +
                                          "' is not a clean absolute path (or empty)");
                      }
                      config.*field = std::string(value);
                      return ok_result();
                    },
                    [field](const Config& config) { return config.*field; }};
}

bool is_ip_literal(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

}  // namespace

// Splits a comma-separated list (blanks around items ignored; empty text: empty list). An empty
// item (",," or a trailing ',') and more than max_items items are errors.
Result<std::vector<std::string>> split_list(std::string_view value, std::size_t max_items) {
  std::vector<std::string> items;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string item(value.substr(0, comma));
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) return make_error("empty list item");
    items.push_back(std::move(item));
    if (items.size() > max_items) {
      return make_error("more than " + std::to_string(max_items) + " list items");
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
    if (value.empty()) return make_error("empty list item after ','");
  }
  return items;
}

Result<std::uint64_t> parse_byte_size(std::string_view value, std::uint64_t min, std::uint64_t max) {
  unsigned shift = 0;
  if (!value.empty()) {
    switch (value.back()) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      case 'T': case 't': shift = 40; break;
      default: break;
    }
    if (shift != 0) value.remove_suffix(1);
  }
  auto number = parse_unsigned(value, 0, std::numeric_limits<std::uint64_t>::max() >> shift);
  if (!number) return make_error(number.error().message + " (expected bytes, or a number with K, M, G or T)");
  const std::uint64_t bytes = *number << shift;
  if (bytes < min || bytes > max) {
    return make_error(std::to_string(bytes) + " bytes is out of range " + std::to_string(min) + ".." +
                      std::to_string(max));
  }
  return bytes;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

// A file-name glob (unpriv/wildcard.hpp): one name component, no '/', no control characters,
// at most 255 bytes.
bool is_name_pattern(std::string_view item) {
  return item.size() <= 255 && std::none_of(item.begin(), item.end(), [](char c) {
           return c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
         });
}

namespace {

constexpr std::size_t kMaxListEntries = 1000;       // user and group lists
constexpr std::size_t kMaxAddressEntries = 64;      // listen addresses, trusted proxies

Result<void> set_listen_addresses(Config& config, std::string_view value) {
  auto addresses = split_list(value, kMaxAddressEntries);
  if (!addresses) return addresses.error();
  for (const auto& item : *addresses) {
    if (!is_ip_literal(item)) return make_error("'" + item + "' is not an IPv4 or IPv6 address");
  }
  if (addresses->empty()) return make_error("no listen address given");
  config.listen_addresses = std::move(*addresses);
  return ok_result();
}

// A user given as a name or as "UID:GID" (ids 1..4294967294: never root).
Result<void> set_user_spec(std::string_view value, std::string& text, uid_t& uid, gid_t& gid) {
  const auto colon = value.find(':');
  if (colon != std::string_view::npos) {
    auto parsed_uid = parse_unsigned(value.substr(0, colon), 1, 4294967294u);
    auto parsed_gid = parse_unsigned(value.substr(colon + 1), 1, 4294967294u);
    if (!parsed_uid || !parsed_gid) return make_error("expected a user name or UID:GID (not 0)");
    uid = static_cast<uid_t>(*parsed_uid);
    gid = static_cast<gid_t>(*parsed_gid);
  } else {
    if (value.empty() || value.size() > 64) return make_error("bad user name");
    for (const char c : value) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
      if (!ok) return make_error("bad user name '" + std::string(value) + "'");
    }
  }
  text = std::string(value);
  return ok_result();
}

Result<void> set_nopriv_user(Config& config, std::string_view value) {
  return set_user_spec(value, config.nopriv_user, config.nopriv_uid, config.nopriv_gid);
}

Result<void> set_bool(bool& field, std::string_view value) {
  if (value == "yes" || value == "YES" || value == "true" || value == "1") {
    field = true;
  } else if (value == "no" || value == "NO" || value == "false" || value == "0") {
    field = false;
  } else {
    return make_error("expected yes or no");
  }
  return ok_result();
}

template <class Owner>
BasicKeyHandler<Owner> bool_key(std::string_view name, std::string_view description,
                                bool Owner::*field) {
  return BasicKeyHandler<Owner>{{name, description},
                    [field](Owner& config, std::string_view value) {
                      return set_bool(config.*field, value);
                    },
                    [field](const Owner& config) {
                      return std::string(config.*field ? "yes" : "no");
                    }};
}

// A key whose value is one of a fixed set of words.
KeyHandler choice_key(std::string_view name, std::string_view description,
                      std::string Config::*field, std::vector<std::string_view> choices) {
  return KeyHandler{{name, description},
                    [field, choices](Config& config, std::string_view value) -> Result<void> {
                      for (const auto choice : choices) {
                        if (value == choice) {
                          config.*field = std::string(value);
                          return ok_result();
                        }
                      }
                      std::string expected;
                      for (const auto choice : choices) {
                        expected += (expected.empty() ? "" : ", ") + std::string(choice);
                      }
                      return make_error("expected one of " + expected);
                    },
                    [field](const Config& config) { return config.*field; }};
}

// An OpenSSL list (ciphers, suites, groups): names, ':', '+', '-', '!', '@', '=' only. OpenSSL
// itself checks the names when the listener builds its contexts.
KeyHandler cipher_key(std::string_view name, std::string_view description,
                      std::string Config::*field) {
  return KeyHandler{{name, description},
                    [field](Config& config, std::string_view value) -> Result<void> {
                      if (value.empty() || value.size() > 1024) {
                        return make_error("expected a non-empty list of at most 1024 bytes");
                      }
                      for (const char c : value) {
                        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                        (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                                        c == ':' || c == '+' || c == '!' || c == '@' || c == '=' ||
                                        c == '.';
                        if (!ok) return make_error("unexpected character in list");
                      }
                      config.*field = std::string(value);
                      return ok_result();
                    },
                    [field](const Config& config) { return config.*field; }};
}

// A comma-separated list whose every item `valid` accepts; `what` names an item in the error.
template <class Owner>
BasicKeyHandler<Owner> checked_list_key(std::string_view name, std::string_view description,
                                        std::vector<std::string> Owner::*field,
                                        bool (*valid)(std::string_view item), const char* what) {
  return BasicKeyHandler<Owner>{{name, description},
                    [field, valid, what](Owner& config, std::string_view value) -> Result<void> {
                      auto items = split_list(value, kMaxListEntries);
                      if (!items) return items.error();
                      for (const auto& item : *items) {
                        if (!valid(item)) return make_error("'" + item + "' is not " + what);
                      }
                      config.*field = std::move(*items);
                      return ok_result();
                    },
                    [field](const Owner& config) { return join_list(config.*field); }};
}

KeyHandler user_list_key(std::string_view name, std::string_view description,
                         std::vector<std::string> Config::*field) {
  return checked_list_key(name, description, field, &is_valid_user_name, "a user name");
}

PolicyKeyHandler name_glob_list_key(std::string_view name, std::string_view description,
                                    std::vector<std::string> SessionPolicy::*field) {
  return checked_list_key(name, description, field, &is_name_pattern,
                          "a file-name pattern (one name, no '/', at most 255 bytes)");
}

// A group list: names, or gids (1..4294967294); names are resolved to gids by resolve_users().
KeyHandler group_list_key(std::string_view name, std::string_view description,
                          GroupList Config::*field) {
  return KeyHandler{{name, description},
                    [field](Config& config, std::string_view value) -> Result<void> {
                      auto items = split_list(value, kMaxListEntries);
                      if (!items) return items.error();
                      GroupList list;
                      for (const auto& item : *items) {
                        if (!item.empty() && item.front() >= '0' && item.front() <= '9') {
                          auto id = parse_unsigned(item, 0, 4294967294u);
                          if (!id) return make_error("bad gid: " + id.error().message);
                          list.ids.push_back(static_cast<gid_t>(*id));
                        } else if (is_valid_user_name(item)) {
                          list.names.push_back(item);
                        } else {
                          return make_error("'" + item + "' is not a group name or gid");
                        }
                      }
                      config.*field = std::move(list);
                      return ok_result();
                    },
                    [field](const Config& config) {
                      std::vector<std::string> items;
                      for (const auto id : (config.*field).ids) items.push_back(std::to_string(id));
                      for (const auto& group : (config.*field).names) items.push_back(group);
                      return join_list(items);
                    }};
}

// Addresses or CIDR prefixes (trusted_proxies, allow_clients, deny_clients): each item is
// validated here and kept as text; the listener parses the list again when it applies it.
template <class Owner>
BasicKeyHandler<Owner> prefix_list_key(std::string_view name, std::string_view description,
                                       std::vector<std::string> Owner::*field) {
  return BasicKeyHandler<Owner>{{name, description},
                    [field](Owner& config, std::string_view value) -> Result<void> {
                      auto items = split_list(value, kMaxAddressEntries);
                      if (!items) return items.error();
                      auto prefixes = parse_prefix_list(*items);
                      if (!prefixes) return prefixes.error();
                      config.*field = std::move(*items);
                      return ok_result();
                    },
                    [field](const Owner& config) { return join_list(config.*field); }};
}

// The keys a class or a user's override may set: the session policy (common/session_policy.hpp).
// At the top of the file they set the default class.
const std::vector<PolicyKeyHandler>& policy_handlers() {
  static const std::vector<PolicyKeyHandler> table = {
      {{"permissions",
        "What sessions may do with files: a comma-separated list of read (RETR, HASH), write (STOR, "
        "APPE, STOU), delete (DELE), rename (RNFR, RNTO), mkdir (MKD), rmdir (RMD), chmod (SITE "
        "CHMOD), mfmt (MFMT) and list (LIST, NLST, MLSD, MLST, STAT with a path); or all, or "
        "none. A command without its permission gets 550, and the log names the class and the "
        "permission. Anonymous sessions are read-only whatever this says (uploads only into "
        "anon_upload_dir, with write)."},
       [](SessionPolicy& p, std::string_view value) -> Result<void> {
         auto parsed = parse_permissions(value);
         if (!parsed) return parsed.error();
         p.permissions = *parsed;
         return ok_result();
       },
       [](const SessionPolicy& p) { return format_permissions(p.permissions); }},
      {{"local_umask",
        "Octal umask for files and directories created by users. SITE UMASK can add bits to "
        "it for a session, never take them away."},
       [](SessionPolicy& p, std::string_view value) -> Result<void> {
         auto parsed = parse_unsigned(value, 0, 0777, 8);
         if (!parsed) return parsed.error();
         p.local_umask = static_cast<std::uint32_t>(*parsed);
         return ok_result();
       },
       [](const SessionPolicy& p) {
         std::string out = "0";
         for (int shift = 6; shift >= 0; shift -= 3) {
           out += static_cast<char>('0' + ((p.local_umask >> shift) & 7));
         }
         return out;
       }},
      number_key("max_sessions_per_user",
                 "Logged-in sessions one user may have at once; a login beyond them gets 530 "
                 "(and the log says why). 0: no limit.",
                 &SessionPolicy::max_sessions_per_user, 0, 100000),
      prefix_list_key("allow_networks",
                      "Comma-separated addresses or CIDR prefixes a user of this class may log in "
                      "from (behind a trusted proxy: the client it names); a login from elsewhere "
                      "gets 530 and the log names the rule. Empty: any address.",
                      &SessionPolicy::allow_networks),
      name_glob_list_key(
          "deny_names",
          "Comma-separated file-name patterns ('*', '?', '[...]'; a leading '.' is matched only "
          "by a pattern that starts with '.'), e.g. .htaccess, *.php: a path with a component "
          "that matches can be neither created nor opened by any command (550, and a log line "
          "naming the pattern). Listings still show such entries. Empty: none.",
          &SessionPolicy::deny_names),
      name_glob_list_key(
          "hide_names",
          "Comma-separated file-name patterns, as deny_names: matching entries never appear in "
          "listings (LIST, NLST, MLSD, STAT, wildcards), and a path with a matching component "
          "can be neither opened nor created (550). Empty: none.",
          &SessionPolicy::hide_names),
      number_key("upload_name_max_bytes",
                 "The longest name, in bytes, a new file or directory may get (STOR, APPE, STOU, "
                 "MKD, RNTO); longer names get 553.",
                 &SessionPolicy::upload_name_max_bytes, 1, 255),
      bool_key("upload_names_plain",
               "yes: the name of a new file or directory may not hold control characters "
               "(bytes 0x01-0x1f and 0x7f) or start with '-' (553): such names break terminals, "
               "log readers and shell scripts of whoever handles the files later.",
               &SessionPolicy::upload_names_plain),
      bool_key("utf8_names_only",
               "yes: the name of a new file or directory must be valid UTF-8 (553).",
               &SessionPolicy::utf8_names_only),
      byte_size_key("quota_bytes",
                    "Bytes all of a user's files may hold (a number, or with K, M, G or T: powers "
                    "of 1024), over all their sessions; an upload (STOR, APPE, STOU, STOR after "
                    "REST) that would go beyond it is stopped with 552, and the file is left as "
                    "it was before the command (a replaced file stays whole, an appended one is "
                    "cut back, a new one is removed). Usage is kept by the listener in quota_dir "
                    "and counts what uploads and DELE change; files that arrive otherwise are "
                    "counted by wardenftpd-ctl quota --rescan USER. For anon_class, the drop "
                    "box's total (all anonymous sessions are the user anonymous). 0: none.",
                    &SessionPolicy::quota_bytes, kMaxByteSize),
      number_key("quota_files",
                 "Files a user may have, over all their sessions, counted as quota_bytes is; an "
                 "upload that would create one more gets 552. 0: none.",
                 &SessionPolicy::quota_files, 0, kMaxQuotaFiles),
      byte_size_key("max_file_size",
                    "The largest file an upload may leave (K, M, G, T allowed); an upload that "
                    "would write beyond it is stopped with 552 and the file is left as it was. "
                    "With anon_class: the drop box's largest file. 0: none.",
                    &SessionPolicy::max_file_size, kMaxByteSize),
      number_key("upload_files_per_hour",
                 "Uploads (STOR, APPE, STOU) one client address (IPv6: its /64) may start within "
                 "an hour, in sessions of this class; more get 550 until the oldest is an hour "
                 "old. With anon_class: the drop box's files per client per hour. 0: none.",
                 &SessionPolicy::upload_files_per_hour, 0, kMaxUploadsPerHour),
      byte_size_key("download_rate",
                    "Bytes per second one session may download (RETR), with K, M or G for "
                    "1024, 1024^2, 1024^3 (e.g. 256K). 0: no limit of its own. With "
                    "user_download_rate or max_download_rate too, a transfer gets the smallest of "
                    "its limits and its equal parts of the shared ones. The post-auth child "
                    "enforces it (a token bucket, steps of about 1/8 s), so it is a fair-use "
                    "limit, not a defence against a compromised session (SECURITY.md).",
                    &SessionPolicy::download_rate, kMaxByteRate),
      byte_size_key("upload_rate",
                    "Bytes per second one session may upload (STOR, APPE, STOU); as "
                    "download_rate. 0: no limit of its own.",
                    &SessionPolicy::upload_rate, kMaxByteRate),
      byte_size_key("user_download_rate",
                    "Bytes per second all of one user's sessions may download together: each of "
                    "the user's running downloads gets an equal part, recomputed by the listener "
                    "when one starts or ends (the downloads already running adopt their smaller "
                    "parts within 250 ms; a part one session leaves unused is not given to the "
                    "others). 0: no per-user limit.",
                    &SessionPolicy::user_download_rate, kMaxByteRate),
      byte_size_key("user_upload_rate",
                    "Bytes per second all of one user's sessions may upload together; as "
                    "user_download_rate. 0: no per-user limit.",
                    &SessionPolicy::user_upload_rate, kMaxByteRate),
  };
  return table;
}

// A policy key at the top of the file: it sets the default class's value.
KeyHandler top_level_policy_key(const PolicyKeyHandler& policy) {
  return KeyHandler{{policy.key.name, policy.key.description, true},
                    [set = policy.set](Config& config, std::string_view value) {
                      return set(config.policy, value);
                    },
                    [get = policy.get](const Config& config) { return get(config.policy); }};
}

KeyHandler class_name_key(std::string_view name, std::string_view description,
                          std::string Config::*field) {
  return KeyHandler{{name, description},
                    [field](Config& config, std::string_view value) -> Result<void> {
                      if (!value.empty() && !is_valid_class_name(value)) {
                        return make_error("'" + std::string(value) +
                                          "' is not a class name (1-32 bytes of [A-Za-z0-9_-])");
                      }
                      config.*field = std::string(value);
                      return ok_result();
                    },
                    [field](const Config& config) { return config.*field; }};
}

const std::vector<KeyHandler>& server_handlers() {
  static const std::vector<KeyHandler> table = {
      {{"listen_address", "Comma-separated IPv4/IPv6 addresses to listen on."},
       set_listen_addresses,
       [](const Config& c) { return join_list(c.listen_addresses); }},
      number_key("listen_port", "TCP port of the control connection.", &Config::listen_port, 1,
                 65535),
      number_key("max_clients", "Sessions served at once; more are refused with 421.",
                 &Config::max_clients, 1, 100000),
      number_key("max_per_ip",
                 "Sessions at once per client address (IPv6: per /64), logged in or not; more "
                 "are refused with 421; 0 means no limit. The default, 20, covers one client's "
                 "parallel sessions (rclone sync opens up to 13, FileZilla up to 11) with room "
                 "for a second user behind the same NAT, while one address can hold at most a "
                 "tenth of the default max_clients. Raise it when many users share one address (an "
                 "office or carrier-grade NAT, a load balancer without proxy_protocol). "
                 "ban_exempt does not exempt from it.",
                 &Config::max_per_ip, 0, 100000),
      number_key("connect_rate_per_ip",
                 "New connections per second per client address (IPv6: per /64), with bursts of "
                 "twice that; more are refused with 421; 0 means no limit. The default, 10 "
                 "(bursts of 20, the default max_per_ip), lets a client open all its parallel "
                 "sessions at once and a script make one short session after another, while one "
                 "address makes the listener start at most 10 sessions a second after its first "
                 "20. ban_exempt does not exempt from it.",
                 &Config::connect_rate_per_ip, 0, 100000),
      prefix_list_key("allow_clients",
                      "Comma-separated addresses or CIDR prefixes (IPv4 and IPv6) that may connect; "
                      "empty: every address. Others get 421 before anything is forked (behind a "
                      "trusted proxy: the client it names).",
                      &Config::allow_clients),
      prefix_list_key("deny_clients",
                      "Comma-separated addresses or CIDR prefixes that may not connect, even "
                      "inside allow_clients; they get 421 before anything is forked (behind a "
                      "trusted proxy: the client it names).",
                      &Config::deny_clients),
      number_key("ban_after_failures",
                 "Failed logins from one client address (IPv6: its /64) within ban_window that "
                 "ban it: its connections get 421 before anything is forked, for ban_time; 0 "
                 "turns automatic bans off. Behind a trusted proxy, the client it names.",
                 &Config::ban_after_failures, 0, 1000),
      number_key("ban_window", "Seconds within which ban_after_failures failed logins ban an address.",
                 &Config::ban_window, 1, 86400),
      number_key("ban_time", "Seconds an automatically banned address is refused.",
                 &Config::ban_time, 1, 604800),
      prefix_list_key("ban_exempt",
                      "Comma-separated addresses or CIDR prefixes never banned automatically "
                      "(their failed logins are still slowed down); empty: none.",
                      &Config::ban_exempt),
      optional_path_key("ban_state_file",
                        "Where the bans in force (automatic and wardenftpd-ctl ban) are kept "
                        "across restarts: a file owned by root, rewritten atomically when a ban "
                        "starts or is lifted (at most once every 2 s, and at shutdown); its "
                        "directory is made (mode 0700) if missing. Empty: bans are kept in memory "
                        "only.",
                        &Config::ban_state_file),
      optional_path_key("quota_dir",
                        "Where the listener keeps each quota user's usage (quota_bytes, "
                        "quota_files), one file per user, rewritten atomically when it changes "
                        "(at most once every 2 s, and at shutdown). Made mode 0700 if missing; it "
                        "must be root's and not open to others, and a usage file is read only if "
                        "it is root's and writable by nobody else. Empty: usage is kept in memory "
                        "only (lost at a restart).",
                        &Config::quota_dir),
      optional_path_key("control_socket",
                        "The operator's Unix socket for wardenftpd-ctl (who, kick, ban, unban, "
                        "bans, status, reload, metrics). Served by the listener to root, and to "
                        "control_group when set; its directory must be root's and not writable by "
                        "others (made, mode 0755, if missing). Empty: no control socket.",
                        &Config::control_socket),
      {{"control_group",
        "A group (name or gid) whose members may also use the control socket (it is made mode "
        "0660 for that group); empty: root only."},
       [](Config& config, std::string_view value) -> Result<void> {
         const bool valid = value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                     (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
                            });
         if (!valid || (!value.empty() && value.front() == '-')) {
           return make_error("'" + std::string(value) + "' is not a group name or gid");
         }
         config.control_group = std::string(value);
         return ok_result();
       },
       [](const Config& config) { return config.control_group; }},
      optional_path_key("metrics_textfile",
                        "A file the listener rewrites (atomically, mode 0644) every "
                        "metrics_interval seconds with the metrics in the Prometheus text format, "
                        "for node_exporter's textfile collector; empty: none. The same text is "
                        "always available from wardenftpd-ctl metrics.",
                        &Config::metrics_textfile),
      number_key("metrics_interval", "Seconds between rewrites of metrics_textfile.",
                 &Config::metrics_interval, 1, 3600),
      bool_key("proxy_protocol",
               "yes: a connection from an address in trusted_proxies must begin with a PROXY "
               "protocol header (v1 or v2, as HAProxy sends it); the client it names is the "
               "session's client for limits, logs and data connections. A trusted proxy that "
               "sends no valid header within proxy_header_timeout is disconnected. Connections "
               "from other addresses are served as they are: a header from them is never read "
               "as one.",
               &Config::proxy_protocol),
      prefix_list_key("trusted_proxies",
                      "Comma-separated addresses or CIDR prefixes (IPv4 and IPv6) of the load "
                      "balancers allowed to send PROXY headers; needed with proxy_protocol=yes.",
                      &Config::trusted_proxies),
      number_key("proxy_header_timeout",
                 "Seconds a trusted proxy has, from connecting, to send its complete PROXY "
                 "header; then the connection is closed.",
                 &Config::proxy_header_timeout, 1, 60),
      {{"nopriv_user",
        "Unprivileged user (name or UID:GID) that runs the pre-auth child."},
       set_nopriv_user,
       [](const Config& c) {
         return std::to_string(c.nopriv_uid) + ":" + std::to_string(c.nopriv_gid);
       }},
      path_key("secure_chroot_dir",
               "Empty root-owned directory the pre-auth child is chrooted into (created if missing).",
               &Config::secure_chroot_dir),
      path_key("users_file", "Virtual users file (name:crypt-hash:uid:gid:root).",
               &Config::users_file),
      number_key("pasv_min_port", "Lowest passive data port (0: kernel's choice).",
                 &Config::pasv_min_port, 0, 65535),
      number_key("pasv_max_port", "Highest passive data port (0: kernel's choice).",
                 &Config::pasv_max_port, 0, 65535),
      {{"pasv_address",
        "IPv4 address to announce in PASV replies (a NAT's public address); empty: the local "
        "address of the control connection."},
       [](Config& c, std::string_view value) -> Result<void> {
         unsigned char buffer[4];
         const std::string text(value);
         if (!text.empty() && ::inet_pton(AF_INET, text.c_str(), buffer) != 1) {
           return make_error("'" + text + "' is not an IPv4 address");
         }
         c.pasv_address = text;
         return ok_result();
       },
       [](const Config& c) { return c.pasv_address; }},
      {{"connect_from_port_20",
        "yes: active-mode (PORT/EPRT) data connections come from port 20, as RFC 959 has it; "
        "the monitor then keeps CAP_NET_BIND_SERVICE."},
       [](Config& c, std::string_view value) { return set_bool(c.connect_from_port_20, value); },
       [](const Config& c) { return std::string(c.connect_from_port_20 ? "yes" : "no"); }},
      number_key("login_fail_delay_ms",
                 "Delay before a failed login is answered, measured from the attempt.",
                 &Config::login_fail_delay_ms, 0, 60000),
      number_key("max_login_attempts", "Failed logins after which the session is closed.",
                 &Config::max_login_attempts, 1, 100),
      number_key("idle_timeout",
                 "Seconds the server waits for each complete command line, before and after "
                 "login; bytes that do not finish a line do not restart the timer. Then 421 "
                 "and close.",
                 &Config::idle_timeout, 1, 86400),
      number_key("login_timeout",
                 "Seconds from connecting to a completed login (TLS handshake included), on "
                 "top of idle_timeout per line; then 421 and close, however busy the client "
                 "keeps the connection.",
                 &Config::login_timeout, 1, 3600),
      number_key("data_connection_timeout",
                 "Seconds to wait for the client to open a passive data connection.",
                 &Config::data_connection_timeout, 1, 3600),
      number_key("data_timeout", "Seconds a data transfer may stall.", &Config::data_timeout, 1,
                 86400),
      byte_size_key("max_download_rate",
                    "Bytes per second all sessions together may download (K, M, G suffixes as "
                    "download_rate): each running download gets an equal part, recomputed when "
                    "one starts or ends. 0: no global limit.",
                    &Config::max_download_rate, kMaxByteRate),
      byte_size_key("max_upload_rate",
                    "Bytes per second all sessions together may upload; as max_download_rate. "
                    "0: no global limit.",
                    &Config::max_upload_rate, kMaxByteRate),
      number_key("ascii_size_limit",
                 "Largest file, in bytes, whose SIZE is answered in TYPE A (ASCII), where the "
                 "size counts each line end as the CRLF it is sent as, so the whole file is read "
                 "(64 MiB: about 45 ms from the page cache, whatever its content); larger files "
                 "get 550 (use TYPE I). 0: SIZE in TYPE A always 550.",
                 &Config::ascii_size_limit, 0, 1ull << 40),
      number_key("hash_max_bytes",
                 "Most bytes one HASH command (draft-bryan-ftpext-hash: the digest of a file, or "
                 "of the range RANG chose) reads; a larger file or range gets 556. 4 GiB: about "
                 "2.5 s of SHA-256 and 6 s of MD5 or SHA-512 on one core from the page cache. "
                 "0: HASH off (502, and not in FEAT).",
                 &Config::hash_max_bytes, 0, 1ull << 40),
      number_key("hash_bytes_per_second",
                 "The rate at which a session's HASH allowance refills: a session may have HASH "
                 "read hash_max_bytes at once, then this many bytes a second on average; a HASH "
                 "the allowance does not cover yet gets 450 with the seconds to wait. 64 MiB: "
                 "about half of what a download at 1 Gbit/s reads, so a digest, which costs the "
                 "client nothing, costs the disk no more than a download would.",
                 &Config::hash_bytes_per_second, 1, 1ull << 40),
      {{"ftpd_banner", "Text of the 220 greeting."},
       [](Config& c, std::string_view value) -> Result<void> {
         if (value.size() > 256) return make_error("banner longer than 256 bytes");
         for (const char ch : value) {
           if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
             return make_error("banner holds a control character");
           }
         }
         c.ftpd_banner = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.ftpd_banner; }},
      {{"anonymous_enable",
        "yes: USER anonymous (or ftp) logs in read-only with any password, as anon_user."},
       [](Config& c, std::string_view value) { return set_bool(c.anonymous_enable, value); },
       [](const Config& c) { return std::string(c.anonymous_enable ? "yes" : "no"); }},
      {{"anon_user", "System user (name or UID:GID, not root) that anonymous sessions run as."},
       [](Config& c, std::string_view value) {
         return set_user_spec(value, c.anon_user, c.anon_uid, c.anon_gid);
       },
       [](const Config& c) {
         return c.anon_uid == 0 ? c.anon_user
                                : std::to_string(c.anon_uid) + ":" + std::to_string(c.anon_gid);
       }},
      path_key("anon_root", "Root directory of anonymous sessions (served read-only).",
               &Config::anon_root),
      {{"anon_upload_dir",
        "Drop box for anonymous uploads, a path inside anon_root (e.g. /incoming): new files "
        "only, never listed, read back or overwritten. Empty: anonymous sessions cannot upload."},
       [](Config& c, std::string_view value) -> Result<void> {
         if (!value.empty() && (!is_absolute_clean_path(value) || value == "/")) {
           return make_error("expected a clean absolute path inside anon_root, not /");
         }
         c.anon_upload_dir = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.anon_upload_dir; }},
      {{"tls_enable",
        "yes: FTPS. AUTH TLS (RFC 4217) on the control port, and implicit TLS on "
        "tls_implicit_port if set. Needs tls_cert_file and tls_key_file."},
       [](Config& c, std::string_view value) { return set_bool(c.tls_enable, value); },
       [](const Config& c) { return std::string(c.tls_enable ? "yes" : "no"); }},
      path_key("tls_cert_file",
               "PEM certificate chain (server certificate first, then intermediates).",
               &Config::tls_cert_file),
      path_key("tls_key_file",
               "PEM private key of the certificate (RSA of 2048 to 8192 bits, or ECDSA on P-256, "
               "P-384 or P-521; unencrypted); must not be readable by group or others. Read by "
               "the listener and, per session, only by the session monitor, which signs the "
               "handshakes; no process that holds a client socket ever has it.",
               &Config::tls_key_file),
      number_key("tls_implicit_port",
                 "TCP port for implicit FTPS (TLS from the first byte, like port 990); 0: off.",
                 &Config::tls_implicit_port, 0, 65535),
      {{"tls_min_version", "Oldest TLS version accepted: TLSv1.2 or TLSv1.3."},
       [](Config& c, std::string_view value) -> Result<void> {
         if (value != "TLSv1.2" && value != "TLSv1.3") return make_error("expected TLSv1.2 or TLSv1.3");
         c.tls_min_version = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.tls_min_version; }},
      cipher_key("tls_ciphers",
                 "OpenSSL cipher list for TLS 1.2 (server preference). The default is ECDHE "
                 "with AES-GCM or ChaCha20-Poly1305 only. Static RSA key exchange (kRSA) is "
                 "never negotiated, whatever the list says: the key's holder only signs.",
                 &Config::tls_ciphers),
      cipher_key("tls_ciphersuites", "OpenSSL TLS 1.3 cipher suites, in server preference order.",
                 &Config::tls_ciphersuites),
      cipher_key("tls_groups", "Key exchange groups (curves), in preference order.",
                 &Config::tls_groups),
      {{"tls_sni_hostname",
        "When set, a client that sends SNI must name this host, or the handshake fails "
        "(unrecognized_name); clients that send no SNI are served."},
       [](Config& c, std::string_view value) -> Result<void> {
         if (value.size() > 253) return make_error("host name longer than 253 bytes");
         for (const char ch : value) {
           const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
           if (!ok) return make_error("not a DNS host name");
         }
         c.tls_sni_hostname = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.tls_sni_hostname; }},
      bool_key("require_tls_login",
               "yes: local and virtual users must use AUTH TLS before USER (530 otherwise).",
               &Config::require_tls_login),
      bool_key("require_tls_data",
               "yes: local and virtual users' data connections must be encrypted: PROT C is "
               "refused with 521, and so is a transfer before PROT P.",
               &Config::require_tls_data),
      bool_key("anon_require_tls",
               "yes: anonymous sessions too must log in over TLS and use PROT P.",
               &Config::anon_require_tls),
      bool_key("require_tls_session_reuse",
               "yes: a data connection's TLS handshake must resume the control connection's TLS "
               "session (as FileZilla, curl and lftp do); others fail with 522. With no, a full "
               "handshake on a data connection is allowed: the post-auth child asks the session "
               "monitor for its one signature (one per data connection; it never has the key).",
               &Config::require_tls_session_reuse),
      bool_key("pam_enable",
               "yes: system users log in through PAM (service pam_service), checked in a "
               "short-lived helper process (pam_helper). Names in users_file are virtual users "
               "and never reach PAM; uid 0 never logs in.",
               &Config::pam_enable),
      {{"pam_service",
        "PAM service name: the file in /etc/pam.d (or /usr/lib/pam.d) that configures system "
        "logins."},
       [](Config& c, std::string_view value) -> Result<void> {
         if (!is_valid_pam_service(value)) {
           return make_error("expected 1-64 bytes of [A-Za-z0-9._-], not starting with '.'");
         }
         c.pam_service = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.pam_service; }},
      path_key("pam_helper",
               "The PAM helper executable (dynamically linked: PAM loads its modules with "
               "dlopen). Must be owned by root and writable by nobody else, in a directory "
               "of the same kind.",
               &Config::pam_helper),
      user_list_key("user_allow",
                    "Comma-separated user names; when set, only these may log in (virtual, PAM "
                    "and anonymous, which counts as the user anonymous).",
                    &Config::user_allow),
      user_list_key("user_deny", "Comma-separated user names that may never log in (wins over "
                    "user_allow and group_allow).",
                    &Config::user_deny),
      group_list_key("group_allow",
                     "Comma-separated group names or gids; when set, only users in one of them "
                     "(primary group, or a supplementary group of a PAM user) may log in.",
                     &Config::group_allow),
      group_list_key("group_deny",
                     "Comma-separated group names or gids whose members may never log in (wins "
                     "over the allow lists).",
                     &Config::group_deny),
      {{"log_level", "error, warning, info or debug."},
       [](Config& c, std::string_view value) -> Result<void> {
         if (value != "error" && value != "warning" && value != "info" && value != "debug") {
           return make_error("expected error, warning, info or debug");
         }
         c.log_level = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.log_level; }},
      choice_key("log_output",
                 "Where log lines go: syslog (a datagram socket connected to syslog_socket; "
                 "the listener opens it and hands it to every session) or stderr. "
                 "wardenftpd --stderr overrides it for a run in the foreground.",
                 &Config::log_output, {"syslog", "stderr"}),
      choice_key("log_format",
                 "text (one line per event) or json (one JSON object per line: ts, level, "
                 "role, pid, session, client, msg and, for logins and transfers, event fields). "
                 "With syslog output the JSON object is the syslog message.",
                 &Config::log_format, {"text", "json"}),
      path_key("syslog_socket",
               "The syslog daemon's local datagram socket (log_output=syslog).",
               &Config::syslog_socket),
      choice_key("syslog_facility", "Syslog facility: daemon, ftp, user or local0..local7.",
                 &Config::syslog_facility,
                 {"daemon", "ftp", "user", "local0", "local1", "local2", "local3", "local4",
                  "local5", "local6", "local7"}),
      {{"upload_event_socket",
        "A Unix datagram socket that a separate, unprivileged consumer (e.g. a virus scanner: "
        "contrib/upload-scan) has bound: each completed upload (STOR, APPE, STOU) is sent there "
        "as one JSON event (user, client, path as the user sees it and on disk, bytes, time, "
        "session). Each session's monitor connects once, at its start; events are never waited "
        "for: with no consumer then, or a consumer that is busy or gone, they are dropped, "
        "counted and logged, and the upload succeeds. Empty: no events."},
       [](Config& c, std::string_view value) -> Result<void> {
         // sun_path holds 108 bytes with the terminating NUL.
         if (!value.empty() && (!is_absolute_clean_path(value) || value.size() > 107)) {
           return make_error("expected a clean absolute path of at most 107 bytes (a Unix "
                             "socket's limit), or nothing");
         }
         c.upload_event_socket = std::string(value);
         return ok_result();
       },
       [](const Config& c) { return c.upload_event_socket; }},
      class_name_key("default_class",
                     "The class (a [class NAME] section) of users who have none in users_file or "
                     "in their user_config_dir file. Empty: the policy keys at the top of this "
                     "file (the class called default).",
                     &Config::default_class),
      class_name_key("anon_class",
                     "The class of anonymous sessions. Empty: as default_class.",
                     &Config::anon_class),
      optional_path_key("user_config_dir",
                        "A directory of per-user override files, each named after its user and "
                        "holding policy keys (and class=NAME) like a [user NAME] section. Read "
                        "by the listener at start and on reload (SIGHUP, wardenftpd-ctl reload), "
                        "checked as strictly as this file: the directory and files must be root's "
                        "and writable by nobody else. Empty: none.",
                        &Config::user_config_dir),
      bool_key("xferlog_enable",
               "yes: one line per file transfer (RETR, STOR, APPE, STOU; complete or not) in "
               "xferlog_file, in the wu-ftpd xferlog format that log analysers read.",
               &Config::xferlog_enable),
      path_key("xferlog_file",
               "The transfer log (xferlog_enable). Opened by the listener (append, created mode "
               "0640) at start and reopened on SIGHUP (log rotation); its directory must be "
               "root's and not writable by others.",
               &Config::xferlog_file),
  };
  return table;
}

// Every key of the main file: the server's, then the default class's policy keys.
const std::vector<KeyHandler>& handlers() {
  static const std::vector<KeyHandler> table = [] {
    std::vector<KeyHandler> all = server_handlers();
    for (const auto& policy : policy_handlers()) all.push_back(top_level_policy_key(policy));
    return all;
  }();
  return table;
}

const PolicyKeyHandler* find_policy_handler(std::string_view key) {
  for (const auto& handler : policy_handlers()) {
    if (handler.key.name == key) return &handler;
  }
  return nullptr;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::span<const ConfigKey> config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& handler : handlers()) out.push_back(handler.key);
    return out;
  }();
  return keys;
}

namespace {

// One line of a [user NAME] section or override file: `class`, or a policy key (checked by
// applying it to a scratch policy; kept as text, applied over the class at login).
Result<void> add_override_setting(UserOverride& override, std::string_view key,
                                  std::string_view value) {
  if (key == "class") {
    if (!is_valid_class_name(value)) {
      return make_error("'" + std::string(value) + "' is not a class name (1-32 bytes of [A-Za-z0-9_-])");
    }
    override.class_name = std::string(value);
    return ok_result();
  }
  const PolicyKeyHandler* handler = find_policy_handler(key);
  if (handler == nullptr) {
    return make_error("key '" + std::string(key) +
                      "' cannot be set for one user (only class and the policy keys)");
  }
  SessionPolicy scratch;
  if (auto applied = handler->set(scratch, value); !applied) {
    return make_error("bad value for '" + std::string(key) + "': " + applied.error().message);
  }
  override.settings.emplace_back(std::string(key), std::string(value));
  return ok_result();
}

// Splits `text` into trimmed, non-comment lines, calling `line(number, text)` for each; stops at
// the first error. Bounds: kMaxConfigLines lines of kMaxConfigLine bytes.
template <class Visit>
Result<void> for_each_line(std::string_view text, std::string_view file_name, Visit&& visit) {
  std::size_t line_number = 0;
  const auto fail = [&](const std::string& message) {
    return make_error(std::string(file_name) + ":" + std::to_string(line_number) + ": " + message);
  };
  while (!text.empty()) {
    ++line_number;
    if (line_number > kMaxConfigLines) return fail("too many lines");
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.size() > kMaxConfigLine) return fail("line longer than 4096 bytes");
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (auto visited = visit(line_number, line); !visited) return fail(visited.error().message);
  }
  return ok_result();
}

bool split_key_value(std::string_view line, std::string_view& key, std::string_view& value) {
  const auto equals = line.find('=');
  if (equals == std::string_view::npos) return false;
  key = trim(line.substr(0, equals));
  value = trim(line.substr(equals + 1));
  return true;
}

const UserClass* find_class(const Config& config, std::string_view name) {
  for (const auto& user_class : config.classes) {
    if (user_class.name == name) return &user_class;
  }
  return nullptr;
}

}  // namespace

bool has_class(const Config& config, std::string_view name) {
  return name.empty() || name == kDefaultClassName || find_class(config, name) != nullptr;
}

Result<Config> parse_config(std::string_view text, std::string_view file_name) {
  Config config;
  std::set<std::string, std::less<>> seen;  // keys of the current section
  std::set<std::string, std::less<>> class_names;
  std::set<std::string, std::less<>> user_names;
  enum class Section { kTop, kClass, kUser } section = Section::kTop;
  auto parsed = for_each_line(text, file_name, [&](std::size_t number, std::string_view line) -> Result<void> {
    if (line.front() == '[') {
      if (line.back() != ']') return make_error("expected [class NAME] or [user NAME]");
      const std::string_view inner = trim(line.substr(1, line.size() - 2));
      const auto blank = inner.find(' ');
      const std::string_view kind = inner.substr(0, blank);
      const std::string_view name =
          blank == std::string_view::npos ? std::string_view() : trim(inner.substr(blank + 1));
      seen.clear();
      if (kind == "class") {
        if (!is_valid_class_name(name) || name == kDefaultClassName) {
          return make_error("'" + std::string(name) +
                            "' is not a class name (1-32 bytes of [A-Za-z0-9_-], not default)");
        }
        if (!class_names.insert(std::string(name)).second) {
          return make_error("class '" + std::string(name) + "' defined twice");
        }
        if (config.classes.size() >= kMaxClasses) return make_error("too many classes");
        // A class starts from the default class: every top-level key precedes the sections.
        UserClass added{std::string(name), config.policy};
        added.policy.class_name = std::string(name);
        config.classes.push_back(std::move(added));
        section = Section::kClass;
        return ok_result();
      }
      if (kind == "user") {
        if (!is_valid_user_name(name)) return make_error("'" + std::string(name) + "' is not a user name");
        if (!user_names.insert(std::string(name)).second) {
          return make_error("user '" + std::string(name) + "' has two sections");
        }
        if (config.user_overrides.size() >= kMaxUserOverrides) return make_error("too many [user] sections");
        config.user_overrides.push_back(
            UserOverride{std::string(name), "", {}, std::string(file_name) + ":" + std::to_string(number)});
        section = Section::kUser;
        return ok_result();
      }
      return make_error("expected [class NAME] or [user NAME]");
    }
    std::string_view key;
    std::string_view value;
    if (!split_key_value(line, key, value)) return make_error("expected key=value");
    if (!seen.insert(std::string(key)).second) {
      return make_error("key '" + std::string(key) + "' given twice");
    }
    if (section == Section::kUser) return add_override_setting(config.user_overrides.back(), key, value);
    if (section == Section::kClass) {
      const PolicyKeyHandler* handler = find_policy_handler(key);
      if (handler == nullptr) {
        return make_error("key '" + std::string(key) +
                          "' cannot be set in a class (only the policy keys; server keys go before "
                          "the first section)");
      }
      auto applied = handler->set(config.classes.back().policy, value);
      if (!applied) return make_error("bad value for '" + std::string(key) + "': " + applied.error().message);
      return ok_result();
    }
    const KeyHandler* handler = nullptr;
    for (const auto& candidate : handlers()) {
      if (candidate.key.name == key) handler = &candidate;
    }
    if (handler == nullptr) return make_error("unknown key '" + std::string(key) + "'");
    auto applied = handler->set(config, value);
    if (!applied) return make_error("bad value for '" + std::string(key) + "': " + applied.error().message);
    return ok_result();
  });
  if (!parsed) return parsed.error();
  const auto undefined = [&](const std::string& where, const std::string& name) {
    return make_error(std::string(file_name) + ": " + where + " names class '" + name +
                      "', which no [class] section defines");
  };
  if (!has_class(config, config.default_class)) return undefined("default_class", config.default_class);
  if (!has_class(config, config.anon_class)) return undefined("anon_class", config.anon_class);
  for (const auto& override : config.user_overrides) {
    if (!has_class(config, override.class_name)) {
      return undefined("[user " + override.user + "]", override.class_name);
    }
  }
  return config;
}

Result<UserOverride> parse_user_override(std::string_view text, std::string_view file_name,
                                         std::string_view user) {
  UserOverride override{std::string(user), "", {}, std::string(file_name)};
  std::set<std::string, std::less<>> seen;
  auto parsed = for_each_line(text, file_name, [&](std::size_t, std::string_view line) -> Result<void> {
    std::string_view key;
    std::string_view value;
    if (!split_key_value(line, key, value)) return make_error("expected key=value");
    if (!seen.insert(std::string(key)).second) {
      return make_error("key '" + std::string(key) + "' given twice");
    }
    return add_override_setting(override, key, value);
  });
  if (!parsed) return parsed.error();
  return override;
}

Result<SessionPolicy> effective_policy(const Config& config, std::string_view user,
                                       std::string_view assigned_class, bool anonymous,
                                       PolicyOrigin* origin) {
  const UserOverride* override = nullptr;
  for (const auto& candidate : config.user_overrides) {
    if (candidate.user == user) override = &candidate;
  }
  std::string_view chosen = config.default_class;
  std::string class_from = "default_class";
  if (override != nullptr && !override->class_name.empty()) {
    chosen = override->class_name;
    class_from = override->source;
  } else if (!assigned_class.empty()) {
    chosen = assigned_class;
    class_from = "users_file";
  } else if (anonymous && !config.anon_class.empty()) {
    chosen = config.anon_class;
    class_from = "anon_class";
  }
  if (origin != nullptr) {
    origin->class_from = class_from;
    origin->override_from = override != nullptr ? override->source : std::string();
  }
  SessionPolicy policy = config.policy;
  if (!chosen.empty() && chosen != kDefaultClassName) {
    const UserClass* found = find_class(config, chosen);
    if (found == nullptr) return make_error("class '" + std::string(chosen) + "' is not defined");
    policy = found->policy;
  }
  if (override == nullptr) return policy;
  for (const auto& [key, value] : override->settings) {
    const PolicyKeyHandler* handler = find_policy_handler(key);
    if (handler == nullptr) return make_error(override->source + ": unknown key '" + key + "'");
    if (auto applied = handler->set(policy, value); !applied) {
      return make_error(override->source + ": bad value for '" + key + "': " + applied.error().message);
    }
  }
  return policy;
}

std::string format_policy(const SessionPolicy& policy) {
  std::string out = "class=" + policy.class_name + "\n";
  for (const auto& handler : policy_handlers()) {
    out += std::string(handler.key.name) + "=" + handler.get(policy) + "\n";
  }
  return out;
}

std::string serialize_config(const Config& config) {
  std::string out;
  for (const auto& handler : handlers()) {
    out += handler.key.name;
    out += '=';
    out += handler.get(config);
    out += '\n';
  }
  for (const auto& user_class : config.classes) {
    out += "[class " + user_class.name + "]\n";
    for (const auto& handler : policy_handlers()) {
      out += std::string(handler.key.name) + "=" + handler.get(user_class.policy) + "\n";
    }
  }
  for (const auto& override : config.user_overrides) {
    out += "[user " + override.user + "]\n";
    if (!override.class_name.empty()) out += "class=" + override.class_name + "\n";
    for (const auto& [key, value] : override.settings) out += key + "=" + value + "\n";
  }
  return out;
}

namespace {

// The account files, read once and only if a name has to be looked up.
class AccountTexts {
 public:
  explicit AccountTexts(const AccountFiles& files) : files_(files) {}
  Result<std::string_view> passwd() { return load(files_.passwd, passwd_); }
  Result<std::string_view> group() { return load(files_.group, group_); }

 private:
  static Result<std::string_view> load(const std::string& path, std::optional<std::string>& text) {
    if (!text) {
      auto read = read_account_file(path);
      if (!read) return read.error();
      text = std::move(*read);
    }
    return std::string_view(*text);
  }
  const AccountFiles& files_;
  std::optional<std::string> passwd_, group_;
};

Result<void> resolve_user(const char* key, std::string& text, uid_t& uid, gid_t& gid,
                          AccountTexts& accounts, const AccountFiles& files) {
  if (text.find(':') != std::string::npos) return ok_result();
  auto passwd = accounts.passwd();
  if (!passwd) return passwd.error();
  auto found = find_passwd_entry(*passwd, text, files.passwd);
  if (!found) return found.error();
  if (!*found) {
    return make_error(std::string(key) + " '" + text + "' does not exist in " + files.passwd +
                      " (names from other NSS sources are not looked up; give UID:GID)");
  }
  if ((*found)->uid == 0 || (*found)->gid == 0) {
    return make_error(std::string(key) + " '" + text + "' has uid or gid 0");
  }
  uid = (*found)->uid;
  gid = (*found)->gid;
  text = std::to_string(uid) + ":" + std::to_string(gid);
  return ok_result();
}

Result<void> resolve_groups(const char* key, GroupList& list, AccountTexts& accounts,
                            const AccountFiles& files) {
  for (const auto& name : list.names) {
    auto group_text = accounts.group();
    if (!group_text) return group_text.error();
    auto found = find_group_entry(*group_text, name, files.group);
    if (!found) return found.error();
    if (!*found) {
      return make_error(std::string(key) + ": group '" + name + "' does not exist in " +
                        files.group + " (names from other NSS sources are not looked up; give the gid)");
    }
    list.ids.push_back(**found);
  }
  list.names.clear();
  return ok_result();
}

}  // namespace

Result<void> resolve_users(Config& config, const AccountFiles& files) {
  AccountTexts accounts(files);
  auto nopriv = resolve_user("nopriv_user", config.nopriv_user, config.nopriv_uid,
                             config.nopriv_gid, accounts, files);
  if (!nopriv) return nopriv;
  for (auto [key, list] : {std::pair{"group_allow", &config.group_allow},
                           std::pair{"group_deny", &config.group_deny}}) {
    auto resolved = resolve_groups(key, *list, accounts, files);
    if (!resolved) return resolved;
  }
  if (!config.anonymous_enable) return ok_result();
  return resolve_user("anon_user", config.anon_user, config.anon_uid, config.anon_gid, accounts,
                      files);
}

}  // namespace wftpd
