// Which file a session monitor is exec'd from. Every session is exec'd afresh (its own ASLR
// layout and stack canary); what differs is the image:
// - the full image, this binary (/proc/self/exe), for configurations with tls_enable;
// - wardenftpd-session, the same session code linked without OpenSSL (daemon/CMakeLists.txt),
//   for configurations without it, when it sits beside this binary and only root can change it.
//   A PIE's pointer tables are rewritten by every exec, so each session owns a copy of them;
//   in the full image, OpenSSL's are about 370 KiB of the 400 KiB, in sessions that never use
//   TLS (docs/PROFILE-SESSION.md).
#pragma once

#include <string>

#include "common/unique_fd.hpp"

namespace wftpd {

struct LeanSessionImage {
  UniqueFd fd;          // O_PATH, close-on-exec, moved high; empty when not usable
  std::string path;     // where it was looked for
  std::string problem;  // why it is not usable (empty when it is)
};

// Opens wardenftpd-session in the directory of the running binary and checks the opened file:
// a regular file, owned by root, executable, not writable by group or others. The check is of
// the inode that will be exec'd (through the descriptor), so nothing can be swapped in between;
// and the listener's sessions keep exec'ing the image it found at start even if the files are
// replaced by an upgrade, as they do /proc/self/exe.
LeanSessionImage find_lean_session_image();

}  // namespace wftpd
