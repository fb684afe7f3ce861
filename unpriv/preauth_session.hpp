// The pre-auth FTP dialogue, spoken with the untrusted client inside the pre-auth sandbox.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.hpp"
#include "common/monitor_protocol.hpp"
#include "unpriv/control_connection.hpp"

namespace wftpd {

// Asks whoever decides logins (the monitor, or a fake in tests and fuzzing).
class LoginBroker {
 public:
  virtual ~LoginBroker() = default;
  virtual LoginStatus login(const std::string& user, const std::string& password) = 0;
};

// The command logic of the pre-auth phase, without I/O: replies are appended to `out`.
class PreauthEngine {
 public:
  explicit PreauthEngine(LoginBroker& broker) : broker_(broker) {}

  enum class Outcome { kContinue, kLoggedIn, kClose };
  Outcome on_line(const std::string& line, std::string& out);
  Outcome on_overlong_line(std::string& out);

 private:
  Outcome count_bad_command(std::string& out);

  LoginBroker& broker_;
  std::string user_;
  bool have_user_ = false;
  std::uint32_t commands_ = 0;
  std::uint32_t bad_commands_ = 0;
  std::uint32_t overlong_lines_ = 0;
};

// Runs the pre-auth child: greeting, dialogue, hand-off to the monitor. Returns the exit code.
int run_preauth(const Config& config, int control_fd, int monitor_fd);

}  // namespace wftpd
