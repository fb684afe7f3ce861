#include "common/session_policy.hpp"

#include <array>
#include <utility>

#include "common/config.hpp"

namespace wftpd {
namespace {

constexpr std::array<std::pair<Permission, std::string_view>, 9> kPermissionNames = {{
    {Permission::kRead, "read"},
    {Permission::kWrite, "write"},
    {Permission::kDelete, "delete"},
    {Permission::kRename, "rename"},
    {Permission::kMkdir, "mkdir"},
    {Permission::kRmdir, "rmdir"},
    {Permission::kChmod, "chmod"},
    {Permission::kMfmt, "mfmt"},
    {Permission::kList, "list"},
}};

Result<std::vector<std::string>> decode_name_list(WireReader& in) {
  auto text = in.bytes(kMaxPolicyListText);
  if (!text) return text.error();
  auto items = split_list(*text, kMaxPolicyListText);
  if (!items) return items.error();
  for (const auto& item : *items) {
    if (!is_name_pattern(item)) return make_error("bad file-name pattern in policy");
  }
  return items;
}

}  // namespace

Result<std::uint64_t> decode_byte_rate(WireReader& in) {
  auto rate = in.u64();
  if (!rate) return rate.error();
  if (*rate > kMaxByteRate) return make_error("rate out of range");
  return *rate;
}

std::string_view permission_name(Permission permission) {
  for (const auto& [bit, name] : kPermissionNames) {
    if (bit == permission) return name;
  }
  return "?";
}

Result<std::uint32_t> parse_permissions(std::string_view text) {
  if (text == "all") return kAllPermissions;
  if (text == "none") return std::uint32_t{0};
  auto items = split_list(text, kPermissionNames.size());
  if (!items) return items.error();
  if (items->empty()) return make_error("expected permission names, all or none");
  std::uint32_t bits = 0;
  for (const auto& item : *items) {
    bool known = false;
    for (const auto& [bit, name] : kPermissionNames) {
      if (item == name) {
        bits |= static_cast<std::uint32_t>(bit);
        known = true;
      }
    }
    if (!known) {
      return make_error("'" + item +
                        "' is not a permission (read, write, delete, rename, mkdir, rmdir, chmod, "
                        "mfmt, list; or all, none)");
    }
  }
  return bits;
}

std::string format_permissions(std::uint32_t permissions) {
  if ((permissions & kAllPermissions) == kAllPermissions) return "all";
  if ((permissions & kAllPermissions) == 0) return "none";
  std::string out;
  for (const auto& [bit, name] : kPermissionNames) {
    if ((permissions & static_cast<std::uint32_t>(bit)) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

bool is_valid_class_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxClassNameLength) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void encode_session_policy(WireWriter& out, const SessionPolicy& policy) {
  out.bytes(policy.class_name);
  out.u32(policy.permissions);
  out.u32(policy.local_umask);
  out.bytes(join_list(policy.deny_names));
  out.bytes(join_list(policy.hide_names));
  out.u32(policy.upload_name_max_bytes);
  out.u8(policy.upload_names_plain ? 1 : 0);
  out.u8(policy.utf8_names_only ? 1 : 0);
  out.u64(policy.quota_bytes);
  out.u64(policy.quota_files);
  out.u64(policy.max_file_size);
  out.u32(policy.upload_files_per_hour);
  out.u64(policy.download_rate);
  out.u64(policy.upload_rate);
  out.u64(policy.user_download_rate);
  out.u64(policy.user_upload_rate);
}

Result<SessionPolicy> decode_session_policy(WireReader& in) {
  SessionPolicy policy;
  auto class_name = in.bytes(kMaxClassNameLength);
  if (!class_name) return class_name.error();
  if (!is_valid_class_name(*class_name)) return make_error("bad class name in policy");
  policy.class_name = std::move(*class_name);
  auto permissions = in.u32();
  if (!permissions) return permissions.error();
  if ((*permissions & ~kAllPermissions) != 0) return make_error("unknown permission bits");
  policy.permissions = *permissions;
  auto umask = in.u32();
  if (!umask) return umask.error();
  if (*umask > 0777) return make_error("bad umask in policy");
  policy.local_umask = *umask;
  auto deny = decode_name_list(in);
  if (!deny) return deny.error();
  policy.deny_names = std::move(*deny);
  auto hide = decode_name_list(in);
  if (!hide) return hide.error();
  policy.hide_names = std::move(*hide);
  auto max_bytes = in.u32();
  if (!max_bytes) return max_bytes.error();
  if (*max_bytes < 1 || *max_bytes > 255) return make_error("bad upload_name_max_bytes in policy");
  policy.upload_name_max_bytes = *max_bytes;
  auto plain = in.u8();
  auto utf8 = plain ? in.u8() : Result<std::uint8_t>(plain.error());
  if (!utf8) return utf8.error();
  if (*plain > 1 || *utf8 > 1) return make_error("bad flag in policy");
  policy.upload_names_plain = *plain == 1;
  policy.utf8_names_only = *utf8 == 1;
  auto quota_bytes = in.u64();
  auto quota_files = quota_bytes ? in.u64() : Result<std::uint64_t>(quota_bytes.error());
  auto max_file_size = quota_files ? in.u64() : Result<std::uint64_t>(quota_files.error());
  if (!max_file_size) return max_file_size.error();
  auto per_hour = in.u32();
  if (!per_hour) return per_hour.error();
  if (*quota_bytes > kMaxByteSize || *quota_files > kMaxQuotaFiles || *max_file_size > kMaxByteSize ||
      *per_hour > kMaxUploadsPerHour) {
    return make_error("quota or upload limit out of range in policy");
  }
  policy.quota_bytes = *quota_bytes;
  policy.quota_files = *quota_files;
  policy.max_file_size = *max_file_size;
  policy.upload_files_per_hour = *per_hour;
  for (std::uint64_t SessionPolicy::*rate :
       {&SessionPolicy::download_rate, &SessionPolicy::upload_rate,
        &SessionPolicy::user_download_rate, &SessionPolicy::user_upload_rate}) {
    auto value = decode_byte_rate(in);
    if (!value) return value.error();
    policy.*rate = *value;
  }
  return policy;
}

}  // namespace wftpd
