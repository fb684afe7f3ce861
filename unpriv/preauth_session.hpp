// The pre-auth FTP dialogue, spoken with the untrusted client inside the pre-auth sandbox.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/child_setup.hpp"
#include "common/config.hpp"
#include "common/monitor_protocol.hpp"
#include "unpriv/common_commands.hpp"
#include "unpriv/control_connection.hpp"
#include "unpriv/ftp_command.hpp"
#include "unpriv/hash_command.hpp"

namespace wftpd {

// Asks whoever decides logins (the monitor, or a fake in tests and fuzzing).
class LoginBroker {
 public:
  virtual ~LoginBroker() = default;
  virtual LoginStatus login(const std::string& user, const std::string& password) = 0;
  // USER without TLS while a TLS login rule is in force: which rule applies to this name. The
  // monitor decides (its login policy knows which names are anonymous logins).
  virtual ClearLogin clear_login(const std::string& user) = 0;
  // CLNT: the client software's self-description, already escaped and bounded, for the log.
  virtual void note_client_software(const std::string& escaped_name) = 0;
};

// What the configuration asks of the pre-auth dialogue about TLS.
struct PreauthPolicy {
  bool tls_available = false;      // AUTH TLS offered
  // Whether a USER without TLS needs the monitor's word (UserQuery): some TLS login rule is in
  // force (require_tls_login or anon_require_tls, with TLS on). Which one applies to a name is
  // the monitor's decision, never this child's.
  bool tls_login_rule = false;
  bool refuse_clear_data = false;  // every possible user needs PROT P: PROT C refused now
  bool hash_available = false;     // hash_enabled(): FEAT lists HASH before login too

  static PreauthPolicy from(const Config& config);
};

// The command logic of the pre-auth phase, without I/O: replies are appended to `out`.
class PreauthEngine {
 public:
  explicit PreauthEngine(LoginBroker& broker, PreauthPolicy policy = {})
      : broker_(broker),
        policy_(policy),
        hash_feature_(policy.hash_available ? hash_feature_list(kDefaultDigest) : std::string()) {}

  // kStartTls: `out` holds the 234 reply; the caller sends it in clear, discards any input
  // that followed AUTH (never executed: CVE-2011-0411), runs the handshake and calls
  // tls_started().
  enum class Outcome { kContinue, kLoggedIn, kClose, kStartTls };
  Outcome on_line(const std::string& line, std::string& out);
  Outcome on_overlong_line(std::string& out);
  void tls_started();
  const ControlTlsState& tls_state() const { return tls_; }

 private:
  using Handler = Outcome (PreauthEngine::*)(const FtpCommand&, std::string&);
  struct CommandRule {
    std::string_view verb;
    Handler handler;
    // The 501 text for the command without an argument; empty: the argument is optional.
    std::string_view missing_argument = {};
  };
  // Verbs of the pre-auth phase; any other verb is answered by on_unlisted().
  static const std::array<CommandRule, 14> kCommands;

  CommonSession common_session() {
    return {policy_.tls_available, policy_.refuse_clear_data, {}, tls_, hash_feature_};
  }
  template <CommonHandler handler>
  Outcome common(const FtpCommand& command, std::string& out);
  Outcome on_unlisted(const std::string& verb, std::string& out);
  Outcome count_bad_command(std::string& out);
  Outcome on_user(const FtpCommand& command, std::string& out);
  Outcome on_pass(const FtpCommand& command, std::string& out);
  Outcome on_opts(const FtpCommand& command, std::string& out);
  Outcome on_clnt(const FtpCommand& command, std::string& out);
  Outcome on_host(const FtpCommand& command, std::string& out);
  Outcome on_auth(const FtpCommand& command, std::string& out);
  Outcome on_adat(const FtpCommand& command, std::string& out);
  // USER without TLS where the monitor says this name needs TLS: 530 in `out`.
  bool refused_without_tls(const FtpCommand& command, std::string& out);

  LoginBroker& broker_;
  PreauthPolicy policy_;
  const std::string hash_feature_;  // FEAT's HASH list before login: the default selected
  ControlTlsState tls_;
  bool implied_private_ = false;  // AUTH SSL / TLS-P: PROT P from the start (draft usage)
  std::string user_;
  bool have_user_ = false;
  bool client_named_ = false;  // CLNT is logged once per session phase
  std::uint32_t commands_ = 0;
  std::uint32_t bad_commands_ = 0;
  std::uint32_t overlong_lines_ = 0;
};

// Pre-login verbs of other protocols (HTTP, SMTP): a client that sends one is not an FTP client
// (ALPACA-style cross-protocol use), and the connection is closed at once.
bool is_foreign_protocol_verb(std::string_view verb);

// Runs the pre-auth child: greeting, dialogue, hand-off to the monitor; with TLS, then the
// relay between the client's TLS control connection and the post-auth child. Returns the
// exit code.
int run_preauth(const Config& config, ChildSetup& setup);

}  // namespace wftpd
