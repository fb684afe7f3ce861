// The pre-auth child after a TLS login: it stays the control connection's TLS endpoint and
// relays plaintext to and from the post-auth child over a socketpair, so TLS records from the
// client are only ever parsed here, in the pre-auth sandbox.
#pragma once

#include <chrono>

#include "common/tls_stream.hpp"

namespace wftpd {

// Relays until either side closes. A client that stops reading while replies wait for it is
// dropped after `write_timeout` (there is no idle timeout here: the post-auth child has it).
// Returns the exit code.
int run_tls_relay(TlsStream& client, int relay_fd, std::chrono::milliseconds write_timeout);

}  // namespace wftpd
