// A session's policy: what one logged-in user may do, and within which limits. The main
// configuration holds the default class (its top-level keys), named classes ([class NAME]
// sections) and per-user overrides ([user NAME] sections, or files in user_config_dir). The
// session monitor decides the one policy of a session at login (effective_policy() in
// common/config.hpp) and hands the post-auth child only that, in BecomeUser: the child never
// chooses its own policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/wire_codec.hpp"

namespace wftpd {

// What a session may do with files; each command needs at most one.
enum class Permission : std::uint32_t {
  kRead = 1u << 0,    // RETR (and HASH)
  kWrite = 1u << 1,   // STOR, APPE, STOU
  kDelete = 1u << 2,  // DELE
  kRename = 1u << 3,  // RNFR, RNTO
  kMkdir = 1u << 4,   // MKD
  kRmdir = 1u << 5,   // RMD
  kChmod = 1u << 6,   // SITE CHMOD
  kMfmt = 1u << 7,    // MFMT (a file's modification time)
  kList = 1u << 8,    // LIST, NLST, MLSD, MLST, STAT with a path
};
inline constexpr std::uint32_t kAllPermissions = (1u << 9) - 1;

// "read", "write", ...: the names the `permissions` key takes.
std::string_view permission_name(Permission permission);
// Parses "read,list,write" (blanks around items allowed; "all" and "none" alone): a bit set.
Result<std::uint32_t> parse_permissions(std::string_view text);
std::string format_permissions(std::uint32_t permissions);

inline constexpr std::size_t kMaxClassNameLength = 32;
// 1-32 bytes of [A-Za-z0-9_-]; "default" names the top-level policy.
bool is_valid_class_name(std::string_view name);
inline constexpr std::string_view kDefaultClassName = "default";

// Every list key of a policy is at most one configuration line long (4096 bytes).
inline constexpr std::size_t kMaxPolicyListText = 4096;
// The largest byte size a policy key takes (quota_bytes, max_file_size): 2^62, far beyond any
// file system, so that sums of two sizes never overflow.
inline constexpr std::uint64_t kMaxByteSize = 1ull << 62;
inline constexpr std::uint64_t kMaxQuotaFiles = 1ull << 40;
inline constexpr std::uint32_t kMaxUploadsPerHour = 1000000;

// The largest rate a key takes: 1 TiB/s (the token bucket's arithmetic stays far from overflow).
inline constexpr std::uint64_t kMaxByteRate = 1ull << 40;
// A rate on any wire (the policy, RateAnswer, the listener's reports and notices): a u64 of at
// most kMaxByteRate.
Result<std::uint64_t> decode_byte_rate(WireReader& in);

struct SessionPolicy {
  std::string class_name{kDefaultClassName};
  std::uint32_t permissions = kAllPermissions;
  std::uint32_t local_umask = 022;
  // Name rules (unpriv/name_rules.hpp).
  std::vector<std::string> deny_names;  // globs: neither created nor opened
  std::vector<std::string> hide_names;  // globs: never listed, neither created nor opened
  std::uint32_t upload_name_max_bytes = 255;
  bool upload_names_plain = true;  // new names: no control characters, no leading '-'
  bool utf8_names_only = false;    // new names: valid UTF-8
  // Quotas and upload limits (0: none). Usage is the user's, over all their sessions, kept by
  // the listener; the post-auth child enforces the bytes and files left while it writes.
  std::uint64_t quota_bytes = 0;            // bytes all the user's files may hold
  std::uint64_t quota_files = 0;            // files the user may have
  std::uint64_t max_file_size = 0;          // the largest file an upload may leave
  std::uint32_t upload_files_per_hour = 0;  // uploads one client address may start in an hour
  // Bandwidth, bytes/s (0: none). The session's own limit per direction, and the limit all of
  // one user's sessions share (priv/rate_share.hpp divides it among the running transfers).
  std::uint64_t download_rate = 0;
  std::uint64_t upload_rate = 0;
  std::uint64_t user_download_rate = 0;
  std::uint64_t user_upload_rate = 0;
  // Decided by the monitor and the listener; not sent to the post-auth child.
  std::uint32_t max_sessions_per_user = 0;  // logged-in sessions at once, 0: no limit
  std::vector<std::string> allow_networks;  // CIDR prefixes a login may come from; empty: any

  // Whether the listener keeps this user's usage (a quota applies).
  bool has_quota() const { return quota_bytes != 0 || quota_files != 0; }
  // Whether an upload asks the monitor for its allowance first.
  bool limits_uploads() const { return has_quota() || upload_files_per_hour != 0; }

  bool permits(Permission permission) const {
    return (permissions & static_cast<std::uint32_t>(permission)) != 0;
  }
};

// The part of a policy the post-auth child needs, on the monitor's wire (inside BecomeUser).
// decode() checks every field as the configuration parser would.
void encode_session_policy(WireWriter& out, const SessionPolicy& policy);
Result<SessionPolicy> decode_session_policy(WireReader& in);

}  // namespace wftpd
