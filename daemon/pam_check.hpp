// One PAM login check, as the PAM helper runs it: pam_authenticate, then pam_acct_mgmt, then
// the account as NSS describes it. Runs only in wardenftpd-pam-helper (linked with libpam).
#pragma once

#include "common/pam_protocol.hpp"

namespace wftpd {

// Never throws; every failure is a verdict with a reason for the server log. The password in
// `check` is wiped before this returns.
PamVerdict run_pam_check(PamCheck& check);

}  // namespace wftpd
