// Decides logins for the monitor. The pre-auth child only relays what the client typed.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/users_file.hpp"

namespace wftpd {

struct LoginDecision {
  bool accepted = false;
  const VirtualUser* user = nullptr;  // set when accepted
  std::string log_reason;             // for the server log only, never for the client
};

class LoginVerifier {
 public:
  explicit LoginVerifier(std::vector<VirtualUser> users);

  // Checks `password` for `name`. SECURITY: an unknown user costs one crypt(3) of the same
  // method and parameters as a known one, and every failure is answered at the same moment
  // (attempt start + failure_delay), so reply and timing do not tell the two apart.
  LoginDecision verify(std::string_view name, std::string_view password,
                       std::chrono::milliseconds failure_delay) const;

  // verify() without the delay: the caller answers a failure no earlier than attempt start +
  // failure delay itself (the monitor does, for every backend alike).
  LoginDecision check(std::string_view name, std::string_view password) const;

  // Whether `name` is a virtual user (such a name never reaches another backend).
  bool knows(std::string_view name) const;

 private:
  std::vector<VirtualUser> users_;
  std::string decoy_hash_;
};

// Sleeps until `deadline` on the monotonic clock (signals do not cut it short).
void sleep_until(std::chrono::steady_clock::time_point deadline);

}  // namespace wftpd
