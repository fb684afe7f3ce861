// The pre-auth dialogue's FTPS commands (RFC 4217: AUTH, PBSZ, PROT, CCC), the TLS login rules
// and the cross-protocol guard, on PreauthEngine with a fake broker.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "priv/login_policy.hpp"
#include "unpriv/common_commands.hpp"
#include "unpriv/preauth_session.hpp"

namespace wftpd {
namespace {

using Outcome = PreauthEngine::Outcome;

class RecordingBroker : public LoginBroker {
 public:
  LoginStatus login(const std::string& user, const std::string& password) override {
    attempts.push_back(user + ":" + password);
    return LoginStatus::kRejected;
  }
  ClearLogin clear_login(const std::string& user) override {
    queries.push_back(user);
    return rule ? rule(user) : ClearLogin::kTlsRequired;
  }
  void note_client_software(const std::string& escaped_name) override {
    client_names.push_back(escaped_name);
  }
  std::function<ClearLogin(const std::string&)> rule;  // the monitor's answer to UserQuery
  std::vector<std::string> queries;
  std::vector<std::string> attempts;
  std::vector<std::string> client_names;
};

PreauthPolicy tls_policy() {
  PreauthPolicy policy;
  policy.tls_available = true;
  policy.tls_login_rule = true;
  return policy;
}

class PreauthTls : public ::testing::Test {
 protected:
  // Sends one line; returns the replies.
  std::string send(PreauthEngine& engine, const std::string& line, Outcome expected = Outcome::kContinue) {
    std::string out;
    EXPECT_EQ(engine.on_line(line, out), expected) << line;
    return out;
  }
  // AUTH TLS and a completed handshake.
  void start_tls(PreauthEngine& engine, const std::string& mechanism = "TLS") {
    EXPECT_EQ(send(engine, "AUTH " + mechanism, Outcome::kStartTls).substr(0, 4), "234 ");
    engine.tls_started();
  }
  RecordingBroker broker_;
};

TEST_F(PreauthTls, AuthTlsAnswers234AndStartsTls) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "AUTH TLS", Outcome::kStartTls), "234 Proceed with TLS negotiation.\r\n");
  EXPECT_FALSE(engine.tls_state().control_tls);  // not before the handshake completed
  engine.tls_started();
  EXPECT_TRUE(engine.tls_state().control_tls);
}

TEST_F(PreauthTls, AuthMechanismIsCaseInsensitive) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "auth tls", Outcome::kStartTls).substr(0, 4), "234 ");
}

TEST_F(PreauthTls, AuthWithoutTlsAvailableIs502) {
  PreauthEngine engine(broker_, PreauthPolicy{});
  EXPECT_EQ(send(engine, "AUTH TLS").substr(0, 4), "502 ");
}

TEST_F(PreauthTls, UnknownAuthMechanismIs504) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "AUTH XYZ").substr(0, 4), "504 ");
  EXPECT_EQ(send(engine, "AUTH").substr(0, 4), "504 ");
}

TEST_F(PreauthTls, AuthInsideTlsIs503) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  EXPECT_EQ(send(engine, "AUTH TLS").substr(0, 4), "503 ");
}

TEST_F(PreauthTls, PbszBeforeAuthIs503) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "PBSZ 0").substr(0, 4), "503 ");
  EXPECT_FALSE(engine.tls_state().pbsz_set);
}

TEST_F(PreauthTls, PbszZeroInsideTlsIsAccepted) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  EXPECT_EQ(send(engine, "PBSZ 0"), "200 PBSZ=0\r\n");
  EXPECT_TRUE(engine.tls_state().pbsz_set);
}

TEST_F(PreauthTls, PbszWithoutTlsAvailableIs502) {
  PreauthEngine engine(broker_, PreauthPolicy{});
  EXPECT_EQ(send(engine, "PBSZ 0").substr(0, 4), "502 ");
  EXPECT_EQ(send(engine, "PROT P").substr(0, 4), "502 ");
  EXPECT_EQ(send(engine, "CCC").substr(0, 4), "502 ");
}

TEST_F(PreauthTls, ProtPBeforePbszIs503) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  EXPECT_EQ(send(engine, "PROT P").substr(0, 4), "503 ");
  EXPECT_FALSE(engine.tls_state().prot_private);
}

TEST_F(PreauthTls, ProtPAfterPbszIsAccepted) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  send(engine, "PBSZ 0");
  EXPECT_EQ(send(engine, "PROT P").substr(0, 4), "200 ");
  EXPECT_TRUE(engine.tls_state().prot_private);
}

TEST_F(PreauthTls, ProtCIsRefusedWhenClearDataIsRefused) {
  PreauthPolicy policy = tls_policy();
  policy.refuse_clear_data = true;
  PreauthEngine engine(broker_, policy);
  start_tls(engine);
  send(engine, "PBSZ 0");
  send(engine, "PROT P");
  EXPECT_EQ(send(engine, "PROT C").substr(0, 4), "521 ");
  EXPECT_TRUE(engine.tls_state().prot_private);
}

TEST_F(PreauthTls, ProtCIsAcceptedWhenClearDataIsAllowed) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  send(engine, "PBSZ 0");
  send(engine, "PROT P");
  EXPECT_EQ(send(engine, "PROT C").substr(0, 4), "200 ");
  EXPECT_FALSE(engine.tls_state().prot_private);
}

TEST_F(PreauthTls, ProtSafeAndConfidentialAre536) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  send(engine, "PBSZ 0");
  EXPECT_EQ(send(engine, "PROT S").substr(0, 4), "536 ");
  EXPECT_EQ(send(engine, "PROT E").substr(0, 4), "536 ");
  EXPECT_EQ(send(engine, "PROT Q").substr(0, 4), "504 ");
}

TEST_F(PreauthTls, CccIsRefusedInsideTls) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "CCC").substr(0, 4), "533 ");
  start_tls(engine);
  EXPECT_EQ(send(engine, "CCC").substr(0, 4), "534 ");
  EXPECT_TRUE(engine.tls_state().control_tls);
}

TEST_F(PreauthTls, UserBeforeTlsIsRefusedAndPassNeverReachesTheBroker) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "USER demo").substr(0, 4), "530 ");
  EXPECT_EQ(send(engine, "PASS demo").substr(0, 4), "503 ");
  EXPECT_TRUE(broker_.attempts.empty());
}

TEST_F(PreauthTls, UserInsideTlsReachesTheBroker) {
  PreauthEngine engine(broker_, tls_policy());
  start_tls(engine);
  EXPECT_EQ(send(engine, "USER demo").substr(0, 4), "331 ");
  EXPECT_EQ(send(engine, "PASS secret").substr(0, 4), "530 ");
  EXPECT_EQ(broker_.attempts, std::vector<std::string>{"demo:secret"});
}

TEST_F(PreauthTls, UserWithoutTlsIsAllowedWhenNotRequired) {
  PreauthPolicy policy = tls_policy();
  policy.tls_login_rule = false;
  PreauthEngine engine(broker_, policy);
  EXPECT_EQ(send(engine, "USER demo").substr(0, 4), "331 ");
  EXPECT_TRUE(broker_.queries.empty());  // no rule, nothing to ask
}

TEST_F(PreauthTls, AuthTlsForgetsAUserGivenInClear) {
  // RFC 4217 4: the login starts again inside TLS; a PASS inside TLS for a USER sent in clear
  // (possibly injected) is refused.
  PreauthPolicy policy = tls_policy();
  policy.tls_login_rule = false;
  PreauthEngine engine(broker_, policy);
  EXPECT_EQ(send(engine, "USER demo").substr(0, 4), "331 ");
  start_tls(engine);
  EXPECT_EQ(send(engine, "PASS demo").substr(0, 4), "503 ");
  EXPECT_TRUE(broker_.attempts.empty());
}

// The monitor's side of UserQuery: its login policy for a configuration with TLS logins
// required of real accounts.
Config anonymous_config(bool anonymous_enable, bool anon_require_tls) {
  Config config;
  config.tls_enable = true;
  config.require_tls_login = true;
  config.anonymous_enable = anonymous_enable;
  config.anon_require_tls = anon_require_tls;
  config.anon_uid = 20099;
  config.anon_gid = 20099;
  return config;
}

TEST_F(PreauthTls, AnonymousWithoutTlsIsAllowedWhenAnonymousNeedsNoTls) {
  const Config config = anonymous_config(true, false);
  const LoginPolicy policy(config);
  broker_.rule = [&](const std::string& user) { return policy.clear_login(user); };
  PreauthEngine engine(broker_, PreauthPolicy::from(config));
  EXPECT_EQ(send(engine, "USER anonymous").substr(0, 4), "331 ");
  EXPECT_EQ(send(engine, "USER FTP").substr(0, 4), "331 ");
  EXPECT_EQ(send(engine, "USER demo"), "530 Non-anonymous sessions must use TLS: AUTH TLS first.\r\n");
  EXPECT_EQ(broker_.queries, (std::vector<std::string>{"anonymous", "FTP", "demo"}));
}

TEST_F(PreauthTls, AnonymousLookingNameOfARealAccountStillNeedsTls) {
  // Regression: this child once took any capitalisation of anonymous/ftp for anonymous and let
  // it through in clear, while the monitor logged "Anonymous" in as the real account it is.
  const Config config = anonymous_config(true, false);
  const LoginPolicy policy(config);
  broker_.rule = [&](const std::string& user) { return policy.clear_login(user); };
  PreauthEngine engine(broker_, PreauthPolicy::from(config));
  for (const char* name : {"Anonymous", "Ftp", "fTP", "aNONYMOUS"}) {
    EXPECT_EQ(send(engine, std::string("USER ") + name),
              "530 Non-anonymous sessions must use TLS: AUTH TLS first.\r\n") << name;
    EXPECT_EQ(send(engine, "PASS x").substr(0, 4), "503 ");
  }
  EXPECT_TRUE(broker_.attempts.empty());
}

TEST_F(PreauthTls, AnonymousWithoutTlsIsRefusedWhenAnonymousNeedsTls) {
  const Config config = anonymous_config(true, true);
  const LoginPolicy policy(config);
  broker_.rule = [&](const std::string& user) { return policy.clear_login(user); };
  PreauthEngine engine(broker_, PreauthPolicy::from(config));
  EXPECT_EQ(send(engine, "USER anonymous"), "530 Anonymous sessions must use TLS: AUTH TLS first.\r\n");
}

TEST_F(PreauthTls, AnonymousNameIsAnOrdinaryUserWhenAnonymousIsDisabled) {
  const Config config = anonymous_config(false, false);
  const LoginPolicy policy(config);
  broker_.rule = [&](const std::string& user) { return policy.clear_login(user); };
  PreauthEngine engine(broker_, PreauthPolicy::from(config));
  EXPECT_EQ(send(engine, "USER anonymous"), "530 Non-anonymous sessions must use TLS: AUTH TLS first.\r\n");
}

TEST_F(PreauthTls, OverlongUserIsRefusedBeforeTheMonitorIsAsked) {
  PreauthEngine engine(broker_, tls_policy());
  EXPECT_EQ(send(engine, "USER " + std::string(kMaxLoginNameLength + 1, 'a')).substr(0, 4), "501 ");
  EXPECT_TRUE(broker_.queries.empty());
}

TEST_F(PreauthTls, FeatListsTlsOnlyWhenAvailable) {
  PreauthEngine with_tls(broker_, tls_policy());
  const std::string feat = send(with_tls, "FEAT");
  EXPECT_NE(feat.find("\r\n AUTH TLS\r\n"), std::string::npos) << feat;
  EXPECT_NE(feat.find("\r\n PBSZ\r\n"), std::string::npos) << feat;
  EXPECT_NE(feat.find("\r\n PROT\r\n"), std::string::npos) << feat;

  PreauthEngine without_tls(broker_, PreauthPolicy{});
  const std::string plain = send(without_tls, "FEAT");
  EXPECT_EQ(plain.substr(0, 4), "211-");
  EXPECT_EQ(plain.find("AUTH"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("PBSZ"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("PROT"), std::string::npos) << plain;
}

TEST_F(PreauthTls, ForeignProtocolVerbsCloseTheConnection) {
  for (const std::string line : {"GET / HTTP/1.1", "POST /upload HTTP/1.1", "EHLO mail.example",
                                 "STARTTLS"}) {
    SCOPED_TRACE(line);
    PreauthEngine engine(broker_, tls_policy());
    EXPECT_EQ(send(engine, line, Outcome::kClose).substr(0, 4), "421 ");
  }
  EXPECT_TRUE(is_foreign_protocol_verb("HELO"));
  EXPECT_TRUE(is_foreign_protocol_verb("DELETE"));  // HTTP's; DELE is the FTP command
  EXPECT_FALSE(is_foreign_protocol_verb("DELE"));
  EXPECT_FALSE(is_foreign_protocol_verb("get"));  // parse_command upper-cases verbs first
  EXPECT_FALSE(is_foreign_protocol_verb("AUTH"));
}

TEST_F(PreauthTls, AuthSslImpliesPbszAndProtP) {
  for (const std::string mechanism : {"SSL", "TLS-P"}) {
    SCOPED_TRACE(mechanism);
    PreauthEngine engine(broker_, tls_policy());
    start_tls(engine, mechanism);
    EXPECT_TRUE(engine.tls_state().control_tls);
    EXPECT_TRUE(engine.tls_state().pbsz_set);
    EXPECT_TRUE(engine.tls_state().prot_private);
  }
}

TEST_F(PreauthTls, AuthTlsLeavesDataClearUntilProtP) {
  for (const std::string mechanism : {"TLS", "TLS-C"}) {
    SCOPED_TRACE(mechanism);
    PreauthEngine engine(broker_, tls_policy());
    start_tls(engine, mechanism);
    EXPECT_TRUE(engine.tls_state().control_tls);
    EXPECT_FALSE(engine.tls_state().pbsz_set);
    EXPECT_FALSE(engine.tls_state().prot_private);
  }
}

TEST(PbszReply, NeedsTlsAndADecimalNumber) {
  ControlTlsState tls;
  EXPECT_EQ(pbsz_reply("0", tls).substr(0, 4), "503 ");
  EXPECT_FALSE(tls.pbsz_set);
  tls.control_tls = true;
  EXPECT_EQ(pbsz_reply("", tls).substr(0, 4), "501 ");
  EXPECT_EQ(pbsz_reply("-1", tls).substr(0, 4), "501 ");
  EXPECT_EQ(pbsz_reply("12345678901", tls).substr(0, 4), "501 ");
  EXPECT_FALSE(tls.pbsz_set);
  // Any size is answered with the only one TLS has (RFC 4217 8).
  EXPECT_EQ(pbsz_reply("16384", tls), "200 PBSZ=0\r\n");
  EXPECT_TRUE(tls.pbsz_set);
}

TEST(ProtReply, FollowsTheRfc4217Order) {
  ControlTlsState tls;
  EXPECT_EQ(prot_reply("P", false, tls).substr(0, 4), "503 ");
  tls.control_tls = true;
  EXPECT_EQ(prot_reply("P", false, tls).substr(0, 4), "503 ");
  EXPECT_FALSE(tls.prot_private);
  tls.pbsz_set = true;
  EXPECT_EQ(prot_reply("p", false, tls).substr(0, 4), "200 ");
  EXPECT_TRUE(tls.prot_private);
  EXPECT_EQ(prot_reply("C", true, tls).substr(0, 4), "521 ");
  EXPECT_TRUE(tls.prot_private);
  EXPECT_EQ(prot_reply("c", false, tls).substr(0, 4), "200 ");
  EXPECT_FALSE(tls.prot_private);
  EXPECT_EQ(prot_reply("S", false, tls).substr(0, 4), "536 ");
  EXPECT_EQ(prot_reply("PP", false, tls).substr(0, 4), "504 ");
  EXPECT_FALSE(tls.prot_private);
}

TEST(PreauthPolicyFromConfig, TlsRulesApplyOnlyWithTlsEnabled) {
  Config config;
  config.require_tls_login = true;
  config.anon_require_tls = true;
  config.require_tls_data = true;
  config.tls_enable = false;
  PreauthPolicy off = PreauthPolicy::from(config);
  EXPECT_FALSE(off.tls_available);
  EXPECT_FALSE(off.tls_login_rule);
  EXPECT_FALSE(off.refuse_clear_data);

  config.tls_enable = true;
  PreauthPolicy on = PreauthPolicy::from(config);
  EXPECT_TRUE(on.tls_available);
  EXPECT_TRUE(on.tls_login_rule);
  config.require_tls_login = false;
  EXPECT_TRUE(PreauthPolicy::from(config).tls_login_rule);  // anon_require_tls alone
  config.anon_require_tls = false;
  EXPECT_FALSE(PreauthPolicy::from(config).tls_login_rule);
  EXPECT_TRUE(on.refuse_clear_data);
}

TEST(PreauthPolicyFromConfig, ClearDataIsAllowedWhileAnonymousMayUseIt) {
  // PROT C is refused before login only if no possible user could use clear data.
  Config config;
  config.tls_enable = true;
  config.require_tls_data = true;
  config.anonymous_enable = true;
  config.anon_require_tls = false;
  EXPECT_FALSE(PreauthPolicy::from(config).refuse_clear_data);
  config.anon_require_tls = true;
  EXPECT_TRUE(PreauthPolicy::from(config).refuse_clear_data);
  config.require_tls_data = false;
  EXPECT_FALSE(PreauthPolicy::from(config).refuse_clear_data);
}

}  // namespace
}  // namespace wftpd
