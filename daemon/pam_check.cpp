#include "daemon/pam_check.hpp"

#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <string.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/users_file.hpp"

namespace wftpd {
namespace {

// What the conversation answers with, and what the modules said (for the log).
struct Conversation {
  const std::string* user = nullptr;
  const std::string* password = nullptr;
  std::string module_messages;
};

void append_message(std::string& out, const char* text) {
  if (text == nullptr || out.size() >= kMaxReasonLength) return;
  if (!out.empty()) out += "; ";
  out.append(text, ::strnlen(text, kMaxReasonLength));
}

void free_responses(pam_response* responses, int count) {
  for (int i = 0; i < count; ++i) {
    if (responses[i].resp != nullptr) {
      ::explicit_bzero(responses[i].resp, ::strlen(responses[i].resp));
      std::free(responses[i].resp);
    }
  }
  std::free(responses);
}

// The PAM conversation: the password for a hidden prompt, the user name for a visible one (the
// only thing a module may ask to see echoed), and module messages kept for the log. Anything
// else (a second factor, a password change) cannot be answered over FTP and fails.
extern "C" int converse(int count, const pam_message** messages, pam_response** out,
                        void* data) {
  auto* conversation = static_cast<Conversation*>(data);
  if (count <= 0 || count > PAM_MAX_NUM_MSG || out == nullptr) return PAM_CONV_ERR;
  auto* responses = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count),
                                                           sizeof(pam_response)));
  if (responses == nullptr) return PAM_BUF_ERR;
  int hidden_prompts = 0;
  for (int i = 0; i < count; ++i) {
    // Linux-PAM passes an array of pointers.
    const pam_message* message = messages[i];
    switch (message->msg_style) {
      case PAM_PROMPT_ECHO_OFF:
        // SECURITY: one password per conversation: a module that asks for a second secret
        // (an OTP, a new password) must not be handed the same one again.
        if (++hidden_prompts > 1) {
          append_message(conversation->module_messages, "module asked for a second secret");
          free_responses(responses, count);
          return PAM_CONV_ERR;
        }
        responses[i].resp = ::strdup(conversation->password->c_str());
        break;
      case PAM_PROMPT_ECHO_ON:
        responses[i].resp = ::strdup(conversation->user->c_str());
        break;
      case PAM_ERROR_MSG:
      case PAM_TEXT_INFO:
        append_message(conversation->module_messages, message->msg);
        continue;
      default:
        free_responses(responses, count);
        return PAM_CONV_ERR;
    }
    if (responses[i].resp == nullptr) {
      free_responses(responses, count);
      return PAM_BUF_ERR;
    }
  }
  *out = responses;
  return PAM_SUCCESS;
}

// SECURITY: the monitor delays every failed login itself, the same for every backend; a module's
// own delay (pam_unix asks for about two seconds) would make PAM failures take longer than others
// and tell a client which backend refused it.
extern "C" void no_fail_delay(int /*status*/, unsigned /*delay_usec*/, void* /*data*/) {}

struct PamHandleEnd {
  int* status;
  void operator()(pam_handle_t* handle) const { ::pam_end(handle, *status); }
};

bool has_control_byte(const std::string& text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

PamVerdict refusal(PamOutcome outcome, std::string reason) {
  PamVerdict verdict;
  verdict.outcome = outcome;
  if (reason.size() > kMaxReasonLength) reason.resize(kMaxReasonLength);
  verdict.reason = std::move(reason);
  return verdict;
}

// The passwd entry of `name`: nullopt if there is none; an error text if NSS failed.
struct Account {
  bool found = false;
  std::string error;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  std::string home;
};

Account look_up(const std::string& name) {
  Account account;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(65536);
  const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) {
    account.error = std::string("getpwnam_r: ") + ::strerror(rc);
    return account;
  }
  if (found == nullptr) return account;
  account.found = true;
  account.uid = entry.pw_uid;
  account.gid = entry.pw_gid;
  account.name = entry.pw_name;
  account.home = entry.pw_dir == nullptr ? "" : entry.pw_dir;
  return account;
}

PamVerdict check_with_pam(const PamCheck& check, Conversation& conversation) {
  // SECURITY: uid 0 never logs in; such an account is refused before PAM is even asked, so
  // that FTP cannot be used to guess root's password.
  const Account before = look_up(check.user);
  if (before.found && (before.uid == 0 || before.gid == 0)) {
    return refusal(PamOutcome::kRootRefused, "the account has uid or gid 0; PAM not asked");
  }
  const pam_conv conv{converse, &conversation};
  pam_handle_t* raw = nullptr;
  int status = ::pam_start(check.service.c_str(), check.user.c_str(), &conv, &raw);
  if (status != PAM_SUCCESS || raw == nullptr) {
    return refusal(PamOutcome::kFailed, std::string("pam_start: ") + ::pam_strerror(raw, status));
  }
  std::unique_ptr<pam_handle_t, PamHandleEnd> handle(raw, PamHandleEnd{&status});
  const auto with_messages = [&](std::string text) {
    if (!conversation.module_messages.empty()) text += " (module said: " + conversation.module_messages + ")";
    return text;
  };
  if ((status = ::pam_set_item(raw, PAM_RHOST, check.remote_host.c_str())) != PAM_SUCCESS ||
      (status = ::pam_set_item(raw, PAM_TTY, "ftp")) != PAM_SUCCESS ||
      (status = ::pam_set_item(raw, PAM_FAIL_DELAY, reinterpret_cast<const void*>(&no_fail_delay))) !=
          PAM_SUCCESS) {
    return refusal(PamOutcome::kFailed, std::string("pam_set_item: ") + ::pam_strerror(raw, status));
  }
  status = ::pam_authenticate(raw, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (status != PAM_SUCCESS) {
    return refusal(PamOutcome::kAuthenticationFailed,
                   with_messages(std::string("pam_authenticate: ") + ::pam_strerror(raw, status)));
  }
  // Account checks: expiry, pam_nologin, access rules. A password that must be changed first
  // (PAM_NEW_AUTHTOK_REQD) cannot be changed over FTP: refused like the others.
  status = ::pam_acct_mgmt(raw, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (status != PAM_SUCCESS) {
    return refusal(PamOutcome::kAccountRefused,
                   with_messages(std::string("pam_acct_mgmt: ") + ::pam_strerror(raw, status)));
  }
  // The modules may have mapped the name: the account is PAM_USER as it is now.
  const void* item = nullptr;
  if ((status = ::pam_get_item(raw, PAM_USER, &item)) != PAM_SUCCESS || item == nullptr) {
    return refusal(PamOutcome::kFailed, "pam_get_item(PAM_USER) failed");
  }
  const std::string pam_user(static_cast<const char*>(item));
  const Account account = look_up(pam_user);
  if (!account.error.empty()) return refusal(PamOutcome::kFailed, account.error);
  if (!account.found) {
    return refusal(PamOutcome::kFailed, "PAM accepted a user that NSS does not know");
  }
  if (account.uid == 0 || account.gid == 0) {
    return refusal(PamOutcome::kRootRefused, "PAM accepted an account with uid or gid 0");
  }
  if (account.name.empty() || account.name.size() > kMaxLoginNameLength ||
      has_control_byte(account.name)) {
    return refusal(PamOutcome::kFailed, "the account name is empty, too long or unprintable");
  }
  if (!is_valid_user_root(account.home)) {
    return refusal(PamOutcome::kFailed,
                   "the home directory is not a clean absolute path (no '.', '..', '//', ':')");
  }
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) < 0) {
    // `count` now holds the number needed.
    if (count <= 0 || static_cast<std::size_t>(count) > kMaxAccountGroups) {
      return refusal(PamOutcome::kFailed, "the account is in more than 1024 groups");
    }
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) < 0) {
      return refusal(PamOutcome::kFailed, "getgrouplist failed");
    }
  }
  groups.resize(static_cast<std::size_t>(count));
  PamVerdict verdict;
  verdict.outcome = PamOutcome::kAccepted;
  verdict.reason = conversation.module_messages.substr(0, kMaxReasonLength);
  verdict.account = account.name;
  verdict.uid = account.uid;
  verdict.gid = account.gid;
  verdict.home = account.home;
  for (const gid_t gid : groups) {
    if (gid != account.gid) verdict.groups.push_back(gid);
  }
  return verdict;
}

}  // namespace

PamVerdict run_pam_check(PamCheck& check) {
  PamVerdict verdict;
  if (check.user.empty() || check.user.find('\0') != std::string::npos || has_control_byte(check.user)) {
    verdict = refusal(PamOutcome::kAuthenticationFailed, "user name empty or with control bytes; PAM not asked");
  } else if (check.password.find('\0') != std::string::npos) {
    verdict = refusal(PamOutcome::kAuthenticationFailed, "password holds a NUL byte; PAM not asked");
  } else {
    Conversation conversation{&check.user, &check.password, {}};
    verdict = check_with_pam(check, conversation);
  }
  ::explicit_bzero(check.password.data(), check.password.size());
  return verdict;
}

}  // namespace wftpd
