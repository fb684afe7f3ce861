// What the monitor gives a sandboxed child's engine (pre-auth or post-auth): its descriptors,
// the session's TLS ticket keys, and the one call that confines it. The engine does the setup
// that still needs memory it will not have later (building TLS contexts from the credential
// bundle) and then calls enter_sandbox(); nothing after that runs outside the sandbox.
#pragma once

#include <functional>
#include <string>

#include "common/tls_context.hpp"

namespace wftpd {

struct ChildSetup {
  int control_fd = -1;      // the client's control connection
  int monitor_fd = -1;      // this child's monitor channel
  // TLS: the certificate chain (PEM), never the key; nullptr without TLS.
  const std::string* certificate_chain = nullptr;
  int relay_fd = -1;        // socketpair end between pre-auth and post-auth child (TLS relay)
  bool implicit_tls = false;  // pre-auth: the client speaks TLS from the first byte
  const TicketKeys* ticket_keys = nullptr;
  // Confines the process; a non-empty `failure` reports why the engine could not get ready
  // (and the call returns false). False: the child must exit with kExitSandboxFailed.
  std::function<bool(const std::string& failure)> enter_sandbox;
};

}  // namespace wftpd
