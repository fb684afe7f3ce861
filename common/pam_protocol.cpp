#include "common/pam_protocol.hpp"

#include "common/users_file.hpp"

namespace wftpd {
namespace {

bool has_control_byte(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool is_valid_pam_service(std::string_view name) {
  if (name.empty() || name.size() > kMaxPamServiceLength || name.front() == '.') return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void PamCheck::encode(WireWriter& out) const {
  out.bytes(service);
  out.bytes(user);
  out.bytes(password);
  out.bytes(remote_host);
}

Result<PamCheck> PamCheck::decode(WireReader& in) {
  PamCheck message;
  auto service = in.bytes(kMaxPamServiceLength);
  if (!service) return service.error();
  if (!is_valid_pam_service(*service)) return make_error("bad PAM service name");
  auto user = in.bytes(kMaxLoginNameLength);
  if (!user) return user.error();
  auto password = in.bytes(kMaxPasswordLength);
  if (!password) return password.error();
  auto host = in.bytes(kMaxRemoteHostLength);
  if (!host) return host.error();
  if (has_control_byte(*host)) return make_error("control byte in remote host");
  message.service = std::move(*service);
  message.user = std::move(*user);
  message.password = std::move(*password);
  message.remote_host = std::move(*host);
  return message;
}

void PamVerdict::encode(WireWriter& out) const {
  out.u8(static_cast<std::uint8_t>(outcome));
  out.bytes(reason);
  out.bytes(account);
  out.u32(uid);
  out.u32(gid);
  out.bytes(home);
  out.u16(static_cast<std::uint16_t>(groups.size()));
  for (const auto group : groups) out.u32(group);
}

Result<PamVerdict> PamVerdict::decode(WireReader& in) {
  PamVerdict message;
  auto outcome = in.u8();
  if (!outcome) return outcome.error();
  if (*outcome < 1 || *outcome > 5) return make_error("PAM outcome out of range");
  message.outcome = static_cast<PamOutcome>(*outcome);
  auto reason = in.bytes(kMaxReasonLength);
  if (!reason) return reason.error();
  auto account = in.bytes(kMaxLoginNameLength);
  if (!account) return account.error();
  auto uid = in.u32();
  if (!uid) return uid.error();
  auto gid = in.u32();
  if (!gid) return gid.error();
  auto home = in.bytes(kMaxRootPathLength);
  if (!home) return home.error();
  auto count = in.u16();
  if (!count) return count.error();
  // SECURITY: the count is checked before anything is allocated for it.
  if (*count > kMaxAccountGroups) return make_error("more groups than the bound");
  message.groups.reserve(*count);
  for (std::uint16_t i = 0; i < *count; ++i) {
    auto group = in.u32();
    if (!group) return group.error();
    message.groups.push_back(*group);
  }
  if (message.outcome == PamOutcome::kAccepted) {
    // SECURITY: whatever the helper (and the modules in it) say, an accepted account is never
    // root, never the "no change" id, and its home is a clean absolute path.
    if (*uid == 0 || *gid == 0) return make_error("accepted account with uid or gid 0");
    if (*uid == 0xffffffffu || *gid == 0xffffffffu) return make_error("accepted account with id -1");
    if (!is_valid_user_root(*home)) return make_error("accepted account's home is not a clean absolute path");
    if (account->empty() || has_control_byte(*account)) return make_error("bad account name");
  } else if (!account->empty() || *uid != 0 || *gid != 0 || !home->empty() ||
             !message.groups.empty()) {
    return make_error("account fields in a refusal");
  }
  message.reason = std::move(*reason);
  message.account = std::move(*account);
  message.uid = *uid;
  message.gid = *gid;
  message.home = std::move(*home);
  return message;
}

}  // namespace wftpd
