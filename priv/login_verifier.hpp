// Checks passwords of virtual users (users_file) for the monitor. The pre-auth child only
// relays what the client typed; who may log in and when a failure is answered is the login
// policy's (priv/login_policy.hpp) and the monitor's.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/users_file.hpp"

namespace wftpd {

struct LoginDecision {
  bool accepted = false;
  const VirtualUser* user = nullptr;  // set when accepted; into the verifier, hash included
  std::string log_reason;             // for the server log only, never for the client
};

// SECURITY: holds every virtual user's hash, in the monitor only (it loads the users file after
// forking its children); not copyable, and wipes the hashes (its own and the decoy) when it is
// destroyed, which the monitor does when the login phase ends.
class LoginVerifier {
 public:
  explicit LoginVerifier(std::vector<VirtualUser> users);
  ~LoginVerifier();
  LoginVerifier(const LoginVerifier&) = delete;
  LoginVerifier& operator=(const LoginVerifier&) = delete;

  // Checks `password` for `name`. SECURITY: the one timing defence for unknown users: an
  // unknown name costs one crypt(3) against decoy_hash(), a real entry's hash (same method and
  // cost as a real check), and its result is discarded. The monitor answers every failure at
  // the same moment (attempt start + failure delay), whatever the backend.
  LoginDecision check(std::string_view name, std::string_view password) const;

  // Whether `name` is a virtual user (such a name never reaches another backend).
  bool knows(std::string_view name) const;

  // The hash an unknown name is checked against: the first entry that is not locked, or a
  // built-in yescrypt hash of a random password when there is none.
  const std::string& decoy_hash() const { return decoy_hash_; }

 private:
  std::vector<VirtualUser> users_;
  std::string decoy_hash_;
};

// Sleeps until `deadline` on the monotonic clock (signals do not cut it short).
void sleep_until(std::chrono::steady_clock::time_point deadline);

}  // namespace wftpd
