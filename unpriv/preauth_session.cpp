#include "unpriv/preauth_session.hpp"

#include "common/exit_codes.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/ftp_verbs.hpp"
#include "unpriv/monitor_client.hpp"
#include "unpriv/reply.hpp"

namespace wftpd {
namespace {

// Bounds on what an unauthenticated client may do before it is shown the door.
constexpr std::uint32_t kMaxPreauthCommands = 100;
constexpr std::uint32_t kMaxBadPreauthCommands = 8;
constexpr std::uint32_t kMaxOverlongLines = 3;

class MonitorLoginBroker : public LoginBroker {
 public:
  explicit MonitorLoginBroker(MonitorClient& monitor) : monitor_(monitor) {}
  LoginStatus login(const std::string& user, const std::string& password) override {
    auto status = monitor_.login(user, password);
    // A broken monitor channel ends the session like an unavailable service.
    return status ? *status : LoginStatus::kUnavailable;
  }

 private:
  MonitorClient& monitor_;
};

}  // namespace

PreauthEngine::Outcome PreauthEngine::count_bad_command(std::string& out) {
  if (++bad_commands_ >= kMaxBadPreauthCommands) {
    out += format_reply(421, "Too many unrecognized commands, closing control connection.");
    return Outcome::kClose;
  }
  return Outcome::kContinue;
}

PreauthEngine::Outcome PreauthEngine::on_overlong_line(std::string& out) {
  out += format_reply(500, "Command line too long.");
  if (++overlong_lines_ >= kMaxOverlongLines) {
    out += format_reply(421, "Too many over-long command lines, closing control connection.");
    return Outcome::kClose;
  }
  return Outcome::kContinue;
}

PreauthEngine::Outcome PreauthEngine::on_line(const std::string& line, std::string& out) {
  if (++commands_ > kMaxPreauthCommands) {
    out += format_reply(421, "Too many commands without logging in, closing control connection.");
    return Outcome::kClose;
  }
  auto parsed = parse_command(line);
  if (!parsed) {
    const bool has_nul = line.find('\0') != std::string::npos;
    out += has_nul ? format_reply(501, "Syntax error in parameters or arguments.")
                   : format_reply(500, "Syntax error, command unrecognized.");
    return count_bad_command(out);
  }
  const FtpCommand& command = *parsed;
  const std::string& verb = command.verb;

  if (verb == "USER") {
    if (!command.has_argument || command.argument.empty()) {
      out += format_reply(501, "USER needs a user name.");
      return Outcome::kContinue;
    }
    if (command.argument.size() > kMaxLoginNameLength) {
      out += format_reply(501, "User name too long.");
      return Outcome::kContinue;
    }
    user_ = command.argument;
    have_user_ = true;
    out += format_reply(331, "Please specify the password.");
    return Outcome::kContinue;
  }
  if (verb == "PASS") {
    if (!have_user_) {
      out += format_reply(503, "Login with USER first.");
      return Outcome::kContinue;
    }
    std::string password = command.has_argument ? command.argument : std::string();
    have_user_ = false;
    if (password.size() > kMaxPasswordLength) {
      out += format_reply(530, "Login incorrect.");
      return Outcome::kContinue;
    }
    switch (broker_.login(user_, password)) {
      case LoginStatus::kAccepted:
        return Outcome::kLoggedIn;  // the post-auth child greets with 230
      case LoginStatus::kRejected:
        out += format_reply(530, "Login incorrect.");
        return Outcome::kContinue;
      case LoginStatus::kRejectedFinal:
        out += format_reply(530, "Login incorrect.");
        out += format_reply(421, "Too many failed logins, closing control connection.");
        return Outcome::kClose;
      case LoginStatus::kUnavailable:
        out += format_reply(421, "Service not available, closing control connection.");
        return Outcome::kClose;
    }
    return Outcome::kClose;
  }
  if (verb == "QUIT") {
    out += format_reply(221, "Goodbye.");
    return Outcome::kClose;
  }
  if (verb == "FEAT") {
    out += feature_reply();
    return Outcome::kContinue;
  }
  if (verb == "NOOP") {
    out += format_reply(200, "NOOP ok.");
    return Outcome::kContinue;
  }
  if (verb == "HELP") {
    out += help_reply();
    return Outcome::kContinue;
  }
  if (verb == "OPTS") {
    std::string argument = command.argument;
    for (char& c : argument) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    if (argument == "UTF8 ON" || argument == "UTF-8 ON") {
      out += format_reply(200, "Always in UTF8 mode.");
    } else {
      out += format_reply(501, "Option not understood.");
    }
    return Outcome::kContinue;
  }
  if (verb == "HOST") {
    // RFC 7151: virtual hosts are not configured; a well-formed name is refused with 504.
    const std::string& host = command.argument;
    bool valid = !host.empty() && host.size() <= 255;
    for (const char c : host) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
      valid = valid && ok;
    }
    if (!valid) out += format_reply(501, "Syntax error in HOST argument.");
    else out += format_reply(504, "Virtual hosts are not configured.");
    return Outcome::kContinue;
  }
  if (verb == "AUTH" || verb == "PBSZ" || verb == "PROT" || verb == "CCC" || verb == "ADAT") {
    out += format_reply(502, "TLS is not available on this server.");
    return Outcome::kContinue;
  }
  if (is_known_verb(verb)) {
    out += format_reply(530, "Please login with USER and PASS.");
    return Outcome::kContinue;
  }
  out += format_reply(500, "Unknown command.");
  return count_bad_command(out);
}

int run_preauth(const Config& config, int control_fd, int monitor_fd) {
  MonitorClient monitor(monitor_fd);
  MonitorLoginBroker broker(monitor);
  PreauthEngine engine(broker);
  ControlConnection control(control_fd, std::chrono::seconds(config.idle_timeout));
  if (!control.send(format_reply(220, config.ftpd_banner))) return 0;
  for (;;) {
    auto input = control.next_line();
    if (!input || input->status == ControlConnection::Status::kClosed) return 0;
    std::string replies;
    PreauthEngine::Outcome outcome;
    if (input->status == ControlConnection::Status::kTimeout) {
      (void)control.send(format_reply(421, "Timeout, closing control connection."));
      return kExitIdleTimeout;
    }
    if (input->status == ControlConnection::Status::kTooLong) {
      outcome = engine.on_overlong_line(replies);
    } else {
      outcome = engine.on_line(input->line, replies);
    }
    if (!replies.empty() && !control.send(replies)) return 0;
    if (outcome == PreauthEngine::Outcome::kClose) return 0;
    if (outcome == PreauthEngine::Outcome::kLoggedIn) {
      // Commands pipelined behind PASS go to the post-auth child, bounded by the protocol.
      std::string pending = control.take_pending();
      if (pending.size() > kMaxPendingInput) pending.resize(kMaxPendingInput);
      return monitor.hand_off(std::move(pending)) ? 0 : 1;
    }
  }
}

}  // namespace wftpd
