#include "unpriv/preauth_session.hpp"

#include <unistd.h>

#include "common/ascii.hpp"
#include "common/exit_codes.hpp"
#include "common/io.hpp"
#include "unpriv/common_commands.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/ftp_verbs.hpp"
#include "unpriv/monitor_client.hpp"
#include "unpriv/reply.hpp"
#include "unpriv/tls_relay.hpp"

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
  ClearLogin clear_login(const std::string& user) override {
    auto answer = monitor_.clear_login(user);
    // SECURITY: without the monitor's answer, the stricter rule (fail closed).
    return answer ? *answer : ClearLogin::kTlsRequired;
  }
  void note_client_software(const std::string& escaped_name) override {
    monitor_.log(EventLevel::kInfo, "client software (CLNT): " + escaped_name);
  }

 private:
  MonitorClient& monitor_;
};

}  // namespace

PreauthPolicy PreauthPolicy::from(const Config& config) {
  PreauthPolicy policy;
  policy.tls_available = config.tls_enable;
  policy.tls_login_rule = config.tls_enable && (config.require_tls_login || config.anon_require_tls);
  policy.refuse_clear_data = config.tls_enable && config.require_tls_data &&
                             (!config.anonymous_enable || config.anon_require_tls);
  policy.hash_available = hash_enabled(config);
  return policy;
}

bool is_foreign_protocol_verb(std::string_view verb) {
  static constexpr std::string_view kVerbs[] = {
      "GET",  "POST", "HEAD", "PUT",  "OPTIONS", "CONNECT", "DELETE",   "TRACE", "PATCH",
      "PRI",  "HELO", "EHLO", "MAIL", "RCPT",    "DATA",    "STARTTLS", "RSET",  "VRFY"};
  for (const auto candidate : kVerbs) {
    if (candidate == verb) return true;
  }
  return false;
}

void PreauthEngine::tls_started() {
  tls_.control_tls = true;
  if (implied_private_) {
    tls_.pbsz_set = true;
    tls_.prot_private = true;
  }
}

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

template <CommonHandler handler>
PreauthEngine::Outcome PreauthEngine::common(const FtpCommand& command, std::string& out) {
  CommonSession session = common_session();
  CommonReply reply = handler(command.argument, session);
  out += reply.text;
  return reply.ends_session ? Outcome::kClose : Outcome::kContinue;
}

const std::array<PreauthEngine::CommandRule, 14> PreauthEngine::kCommands = {{
    {"USER", &PreauthEngine::on_user, "USER needs a user name."},
    {"PASS", &PreauthEngine::on_pass},
    {"QUIT", &PreauthEngine::common<quit_command>},
    {"FEAT", &PreauthEngine::common<feat_command>},
    {"NOOP", &PreauthEngine::common<noop_command>},
    {"HELP", &PreauthEngine::common<help_command>},
    {"OPTS", &PreauthEngine::on_opts},
    {"CLNT", &PreauthEngine::on_clnt},
    {"HOST", &PreauthEngine::on_host},
    {"AUTH", &PreauthEngine::on_auth},
    {"PBSZ", &PreauthEngine::common<pbsz_command>},
    {"PROT", &PreauthEngine::common<prot_command>},
    {"CCC", &PreauthEngine::common<ccc_command>},
    {"ADAT", &PreauthEngine::on_adat},
}};

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
  for (const auto& rule : kCommands) {
    if (rule.verb != command.verb) continue;
    if (!rule.missing_argument.empty() && (!command.has_argument || command.argument.empty())) {
      out += format_reply(501, rule.missing_argument);
      return Outcome::kContinue;
    }
    return (this->*rule.handler)(command, out);
  }
  return on_unlisted(command.verb, out);
}

PreauthEngine::Outcome PreauthEngine::on_unlisted(const std::string& verb, std::string& out) {
  if (is_foreign_protocol_verb(verb)) {
    out += format_reply(421, "This is an FTP server; closing control connection.");
    return Outcome::kClose;
  }
  if (is_known_verb(verb)) {
    out += format_reply(530, "Please login with USER and PASS.");
    return Outcome::kContinue;
  }
  out += format_reply(500, "Unknown command.");
  return count_bad_command(out);
}

bool PreauthEngine::refused_without_tls(const FtpCommand& command, std::string& out) {
  if (!tls_.control_tls && policy_.tls_login_rule) {
    // SECURITY: whether this name is an anonymous login (anon_require_tls) or a real account
    // (require_tls_login) is the monitor's decision, the same one it makes at PASS: asking
    // costs one round trip per USER in clear, and guessing here once let "Anonymous" log in
    // to a real account of that name without TLS.
    const ClearLogin rule = broker_.clear_login(command.argument);
    if (rule != ClearLogin::kAllowed) {
      have_user_ = false;
      out += format_reply(530, rule == ClearLogin::kAnonymousTlsRequired
                                   ? "Anonymous sessions must use TLS: AUTH TLS first."
                                   : "Non-anonymous sessions must use TLS: AUTH TLS first.");
      return true;
    }
  }
  return false;
}

PreauthEngine::Outcome PreauthEngine::on_user(const FtpCommand& command, std::string& out) {
  if (command.argument.size() > kMaxLoginNameLength) {
    out += format_reply(501, "User name too long.");
    return Outcome::kContinue;
  }
  if (refused_without_tls(command, out)) return Outcome::kContinue;
  user_ = command.argument;
  have_user_ = true;
  out += format_reply(331, "Please specify the password.");
  return Outcome::kContinue;
}

PreauthEngine::Outcome PreauthEngine::on_pass(const FtpCommand& command, std::string& out) {
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

PreauthEngine::Outcome PreauthEngine::on_opts(const FtpCommand& command, std::string& out) {
  const std::string argument = to_ascii_upper(command.argument);
  if (argument == "UTF8 ON" || argument == "UTF-8 ON") {
    out += format_reply(200, "Always in UTF8 mode.");
  } else {
    out += format_reply(501, "Option not understood.");
  }
  return Outcome::kContinue;
}

PreauthEngine::Outcome PreauthEngine::on_clnt(const FtpCommand& command, std::string& out) {
  // Sent by some GUI clients right after the greeting; informational only.
  if (!client_named_) broker_.note_client_software(clnt_log_text(command.argument));
  client_named_ = true;
  out += format_reply(200, "Noted.");
  return Outcome::kContinue;
}

PreauthEngine::Outcome PreauthEngine::on_host(const FtpCommand& command, std::string& out) {
  // RFC 7151: virtual hosts are not configured; a well-formed name is refused with 504.
  const std::string& host = command.argument;
  bool valid = !host.empty() && host.size() <= 255;
  for (const char c : host) {
    const bool ok = is_ascii_letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == ':' || c == '[' || c == ']';
    valid = valid && ok;
  }
  if (!valid) out += format_reply(501, "Syntax error in HOST argument.");
  else out += format_reply(504, "Virtual hosts are not configured.");
  return Outcome::kContinue;
}

PreauthEngine::Outcome PreauthEngine::on_auth(const FtpCommand& command, std::string& out) {
  const std::string refusal = auth_refusal(common_session());
  if (!refusal.empty()) {
    out += refusal;
    return Outcome::kContinue;
  }
  const AuthMechanism mechanism = parse_auth_mechanism(command.argument);
  if (mechanism == AuthMechanism::kUnsupported) {
    out += format_reply(504, "Unsupported security mechanism; use AUTH TLS.");
    return Outcome::kContinue;
  }
  implied_private_ = mechanism == AuthMechanism::kTlsWithPrivateData;
  have_user_ = false;  // RFC 4217 4: the login starts again inside TLS
  out += format_reply(234, "Proceed with TLS negotiation.");
  return Outcome::kStartTls;
}

PreauthEngine::Outcome PreauthEngine::on_adat(const FtpCommand&, std::string& out) {
  out += format_reply(502, "ADAT is not used with TLS.");
  return Outcome::kContinue;
}

namespace {

// The control connection's TLS handshake takes at most this long (a client that stalls inside
// it is not let hold the pre-auth child for a whole idle timeout).
constexpr std::chrono::seconds kHandshakeTimeout{30};

bool start_tls(SSL_CTX* ctx, ControlConnection& control, MonitorClient& monitor,
               const Config& config) {
  const auto timeout = std::min({kHandshakeTimeout, std::chrono::seconds(config.idle_timeout),
                                 std::chrono::seconds(config.login_timeout)});
  auto stream = TlsStream::accept(ctx, control.fd(), timeout);
  if (!stream) {
    monitor.log(EventLevel::kWarning, "control connection: " + stream.error().message);
    return false;
  }
  monitor.log(EventLevel::kDebug, "control connection: " + (*stream)->description());
  control.start_tls(std::move(*stream));
  return true;
}

}  // namespace

int run_preauth(const Config& config, ChildSetup& setup) {
  // Made first: it is also the signer of the control connection's TLS key.
  MonitorClient monitor(setup.monitor_fd);
  SslCtxPtr tls_ctx;
  if (config.tls_enable && setup.certificate_chain != nullptr) {
    // SECURITY: the certificate and a remote key; the handshake's one signature is a
    // SignRequest to the monitor, which holds the private key (common/remote_key.hpp).
    auto ctx = make_control_context(config, *setup.certificate_chain, monitor, *setup.ticket_keys);
    if (!ctx) {
      (void)setup.enter_sandbox(ctx.error().message);
      return kExitSandboxFailed;
    }
    tls_ctx = std::move(*ctx);
  }
  if (!setup.enter_sandbox({})) return kExitSandboxFailed;
  MonitorLoginBroker broker(monitor);
  PreauthPolicy policy = PreauthPolicy::from(config);
  policy.tls_available = tls_ctx != nullptr;
  PreauthEngine engine(broker, policy);
  ControlConnection control(setup.control_fd, std::chrono::seconds(config.idle_timeout));
  // SECURITY: an unauthenticated client gets login_timeout in all, not idle_timeout per line:
  // a slow or endless stream of bytes cannot hold a session open.
  control.set_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(config.login_timeout));
  if (setup.implicit_tls) {
    if (!tls_ctx || !start_tls(tls_ctx.get(), control, monitor, config)) return 0;
    engine.tls_started();
  }
  if (!control.send(format_reply(220, config.ftpd_banner))) return 0;
  for (;;) {
    auto input = control.next_line();
    if (!input || input->status == ControlConnection::Status::kClosed) return 0;
    std::string replies;
    PreauthEngine::Outcome outcome;
    if (input->status == ControlConnection::Status::kTimeout) {
      (void)control.send(format_reply(421, "Timeout, closing control connection."));
      return kExitIdleTimeout;  // the monitor logs it (idle or login timeout)
    }
    if (input->status == ControlConnection::Status::kTooLong) {
      outcome = engine.on_overlong_line(replies);
    } else {
      outcome = engine.on_line(input->line, replies);
    }
    if (!replies.empty() && !control.send(replies)) return 0;
    if (outcome == PreauthEngine::Outcome::kClose) return 0;
    if (outcome == PreauthEngine::Outcome::kStartTls) {
      // SECURITY: whatever the client sent behind AUTH TLS arrived in clear and may have been
      // injected by a man in the middle; it is dropped, never run inside TLS (CVE-2011-0411).
      control.discard_pending();
      if (!start_tls(tls_ctx.get(), control, monitor, config)) return 0;
      engine.tls_started();
      continue;
    }
    if (outcome == PreauthEngine::Outcome::kLoggedIn) {
      // Commands pipelined behind PASS go to the post-auth child, bounded by the protocol.
      std::string pending = control.take_pending();
      if (pending.size() > kMaxPendingInput) pending.resize(kMaxPendingInput);
      ControlTlsState tls = engine.tls_state();
      if (tls.control_tls) tls.session = control.tls()->export_session(kMaxTlsSessionLength);
      if (!monitor.hand_off(std::move(pending), tls)) return 1;
      if (!engine.tls_state().control_tls) return 0;
      // This child stays as the TLS endpoint of the control connection.
      return run_tls_relay(*control.tls(), setup.relay_fd, std::chrono::seconds(config.idle_timeout));
    }
  }
}

}  // namespace wftpd
