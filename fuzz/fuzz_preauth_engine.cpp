// The pre-auth FTP dialogue (PreauthEngine) with a fake LoginBroker, driven by a recorded or
// fuzzed client byte stream: the stream is cut at each '\n', fed through a ControlLineReader,
// and every kLine / kTooLong event goes to on_line / on_overlong_line. The session runs twice,
// with the production line limit (4096) and with a tiny one (16) so over-long lines are common.
//
// The broker accepts only "alice"/"secret"; "bob" gets kUnavailable; anything else kRejected,
// and the third failure kRejectedFinal.
//
// Checks: every chunk of replies is a sequence of CRLF-terminated lines forming complete
// replies (fuzz::check_replies: "DDD text", or "DDD-..." ... "DDD text" with the same code,
// codes 100..599, no bare LF, CR only as CR NUL); kLoggedIn only in the call in which the broker accepted; kRejectedFinal and kUnavailable
// end the session; the broker only sees a user name from USER (1..256 bytes, no NUL) and a
// password of at most 1024 bytes; the session ends within the documented pre-auth bounds
// (100 commands, 3 over-long lines).
//
// A third run offers TLS with require_tls_login: kStartTls only answers AUTH with 234 and the
// "handshake" then succeeds (tls_started()); the broker must never see a login before it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/monitor_protocol.hpp"
#include "fuzz/fuzz_check.hpp"
#include "unpriv/control_line_reader.hpp"
#include "unpriv/ftp_verbs.hpp"
#include "unpriv/preauth_session.hpp"

namespace {

using wftpd::LoginStatus;
using wftpd::PreauthEngine;

class FakeBroker : public wftpd::LoginBroker {
 public:
  LoginStatus login(const std::string& user, const std::string& password) override {
    ++calls;
    FUZZ_CHECK(!user.empty() && user.size() <= wftpd::kMaxLoginNameLength);
    FUZZ_CHECK(user.find('\0') == std::string::npos);
    FUZZ_CHECK(password.size() <= wftpd::kMaxPasswordLength);
    FUZZ_CHECK(password.find('\0') == std::string::npos);
    if (user == "alice" && password == "secret") {
      last = LoginStatus::kAccepted;
    } else if (user == "bob") {
      last = LoginStatus::kUnavailable;
    } else {
      last = ++failures >= 3 ? LoginStatus::kRejectedFinal : LoginStatus::kRejected;
    }
    return last;
  }
  // Like the monitor with require_tls_login and anonymous FTP off: every name needs TLS.
  wftpd::ClearLogin clear_login(const std::string& user) override {
    FUZZ_CHECK(!user.empty() && user.size() <= wftpd::kMaxLoginNameLength);
    ++queries;
    return wftpd::ClearLogin::kTlsRequired;
  }
  void note_client_software(const std::string& escaped_name) override {
    FUZZ_CHECK(escaped_name.size() <= wftpd::kMaxClientNameLength + 5);
  }

  unsigned calls = 0;
  unsigned queries = 0;
  unsigned failures = 0;
  LoginStatus last = LoginStatus::kRejected;
};

using wftpd::fuzz::check_replies;

void run_session(std::string_view stream, std::size_t max_line, bool tls) {
  FakeBroker broker;
  wftpd::PreauthPolicy policy;
  if (tls) {
    policy.tls_available = true;
    policy.tls_login_rule = true;
    policy.refuse_clear_data = true;
  }
  PreauthEngine engine(broker, policy);
  bool tls_started = false;
  wftpd::ControlLineReader reader(max_line);
  unsigned lines = 0;
  unsigned overlong = 0;

  while (!stream.empty()) {
    const std::size_t newline = stream.find('\n');
    const std::size_t n = newline == std::string_view::npos ? stream.size() : newline + 1;
    reader.feed(stream.substr(0, n));
    stream.remove_prefix(n);
    for (;;) {
      auto event = reader.next();
      if (event.status == wftpd::ControlLineReader::Status::kNeedMore) break;
      std::string out;
      const unsigned calls_before = broker.calls;
      PreauthEngine::Outcome outcome;
      if (event.status == wftpd::ControlLineReader::Status::kTooLong) {
        ++overlong;
        outcome = engine.on_overlong_line(out);
        FUZZ_CHECK(!out.empty());
      } else {
        ++lines;
        outcome = engine.on_line(event.line, out);
      }
      check_replies(out);
      const bool broker_called = broker.calls != calls_before;
      FUZZ_CHECK(broker.calls - calls_before <= 1);
      // SECURITY: with require_tls_login, no password reaches the monitor in clear.
      if (tls && broker_called) FUZZ_CHECK(tls_started);
      if (outcome == PreauthEngine::Outcome::kStartTls) {
        FUZZ_CHECK(tls && !tls_started && out.rfind("234 ", 0) == 0);
        engine.tls_started();
        tls_started = true;
        FUZZ_CHECK(engine.tls_state().control_tls);
        continue;
      }
      FUZZ_CHECK(!engine.tls_state().pbsz_set || tls_started);
      if (outcome == PreauthEngine::Outcome::kLoggedIn) {
        // SECURITY: logged in only right after the broker said yes.
        FUZZ_CHECK(broker_called && broker.last == LoginStatus::kAccepted);
        return;
      }
      if (broker_called) {
        FUZZ_CHECK(broker.last != LoginStatus::kAccepted);
        if (broker.last == LoginStatus::kRejectedFinal || broker.last == LoginStatus::kUnavailable) {
          FUZZ_CHECK(outcome == PreauthEngine::Outcome::kClose);
        }
      }
      if (outcome == PreauthEngine::Outcome::kClose) return;
      FUZZ_CHECK(out.empty() == false);  // every command is answered while the session goes on
      // Documented pre-auth bounds: the session must have been closed by now otherwise.
      FUZZ_CHECK(lines <= 100);
      FUZZ_CHECK(overlong < 3);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view stream = wftpd::fuzz::as_view(data, size);
  run_session(stream, 4096, false);
  run_session(stream, 16, false);
  run_session(stream, 4096, true);
  return 0;
}
