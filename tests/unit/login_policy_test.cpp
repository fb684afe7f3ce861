#include "priv/login_policy.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

Config base_config() {
  Config config;
  config.anonymous_enable = true;
  config.anon_uid = 20099;
  config.anon_gid = 20099;
  config.anon_root = "/srv/ftp";
  config.login_fail_delay_ms = 100;
  config.max_login_attempts = 3;
  return config;
}

TEST(LoginPolicy, AnonymousIsExactlyFourSpellings) {
  const Config config = base_config();
  const LoginPolicy policy(config);
  for (const char* name : {"anonymous", "ftp", "ANONYMOUS", "FTP"}) EXPECT_TRUE(policy.is_anonymous(name)) << name;
  for (const char* name : {"Anonymous", "Ftp", "fTp", "anonymous ", "", "anon"}) {
    EXPECT_FALSE(policy.is_anonymous(name)) << name;
  }
}

TEST(LoginPolicy, NoAnonymousNameWithoutAnonymousEnableOrWithUidZero) {
  Config config = base_config();
  config.anonymous_enable = false;
  EXPECT_FALSE(LoginPolicy(config).is_anonymous("anonymous"));
  config.anonymous_enable = true;
  config.anon_uid = 0;
  EXPECT_FALSE(LoginPolicy(config).is_anonymous("anonymous"));
}

TEST(LoginPolicy, ClearLoginFollowsTheRuleOfTheNamesKind) {
  Config config = base_config();
  config.require_tls_login = true;
  config.anon_require_tls = false;
  config.tls_enable = false;
  EXPECT_EQ(LoginPolicy(config).clear_login("alice"), ClearLogin::kAllowed);  // no TLS, no rule
  config.tls_enable = true;
  const LoginPolicy policy(config);
  EXPECT_EQ(policy.clear_login("alice"), ClearLogin::kTlsRequired);
  EXPECT_EQ(policy.clear_login("anonymous"), ClearLogin::kAllowed);
  // SECURITY: a real account whose name looks anonymous is held to require_tls_login.
  EXPECT_EQ(policy.clear_login("Anonymous"), ClearLogin::kTlsRequired);
  config.anon_require_tls = true;
  config.require_tls_login = false;
  EXPECT_EQ(LoginPolicy(config).clear_login("ftp"), ClearLogin::kAnonymousTlsRequired);
  EXPECT_EQ(LoginPolicy(config).clear_login("Ftp"), ClearLogin::kAllowed);
}

TEST(LoginPolicy, RouteChecksUserListsBeforeAnyBackend) {
  Config config = base_config();
  config.user_deny = {"mallory"};
  const LoginPolicy policy(config);
  const LoginRoute denied = policy.route("mallory", true);
  EXPECT_FALSE(denied.backend);
  EXPECT_EQ(denied.refusal, "in user_deny");
  config.user_allow = {"alice"};
  EXPECT_EQ(LoginPolicy(config).route("bob", false).refusal, "not in user_allow");
}

TEST(LoginPolicy, RouteSendsOnlyUnknownNamesToPam) {
  Config config = base_config();
  EXPECT_EQ(LoginPolicy(config).route("anonymous", false).backend, LoginBackend::kAnonymous);
  EXPECT_EQ(LoginPolicy(config).route("alice", true).backend, LoginBackend::kVirtual);
  // Without PAM an unknown name is an unknown virtual user (it still costs one hash).
  EXPECT_EQ(LoginPolicy(config).route("nobody", false).backend, LoginBackend::kVirtual);
  config.pam_enable = true;
  EXPECT_EQ(LoginPolicy(config).route("alice", true).backend, LoginBackend::kVirtual);
  EXPECT_EQ(LoginPolicy(config).route("nobody", false).backend, LoginBackend::kPam);
}

TEST(LoginPolicy, AnonymousIsSubjectToTheListsUnderItsOwnName) {
  Config config = base_config();
  EXPECT_FALSE(LoginPolicy(config).refuse_anonymous());
  const VirtualUser account = LoginPolicy(config).anonymous_account();
  EXPECT_EQ(account.uid, 20099u);
  EXPECT_EQ(account.root, "/srv/ftp");
  config.user_deny = {"anonymous"};
  EXPECT_EQ(LoginPolicy(config).refuse_anonymous(), "anonymous: in user_deny");
  config.user_deny.clear();
  config.group_deny.ids = {20099};
  EXPECT_TRUE(LoginPolicy(config).refuse_anonymous());
}

TEST(LoginPolicy, VirtualUserGroupIsChecked) {
  Config config = base_config();
  config.group_allow.ids = {500};
  const VirtualUser inside{"alice", "", 20001, 500, "/srv/alice", ""};
  const VirtualUser outside{"bob", "", 20002, 501, "/srv/bob", ""};
  EXPECT_FALSE(LoginPolicy(config).refuse_virtual(inside));
  EXPECT_EQ(LoginPolicy(config).refuse_virtual(outside), "in no group of group_allow");
}

PamVerdict accepted(std::string account, std::string home = "/home/alice") {
  PamVerdict verdict;
  verdict.outcome = PamOutcome::kAccepted;
  verdict.account = std::move(account);
  verdict.uid = 1000;
  verdict.gid = 1000;
  verdict.home = std::move(home);
  verdict.groups = {1000, 27};
  return verdict;
}

TEST(LoginPolicy, PamRefusalsNameTheirReason) {
  const Config config = base_config();
  const LoginPolicy policy(config);
  PamVerdict failed;
  failed.outcome = PamOutcome::kAuthenticationFailed;
  failed.reason = "bad\npassword";
  const auto reason = policy.refuse_pam("alice", failed);
  ASSERT_TRUE(reason);
  EXPECT_TRUE(reason->starts_with("PAM authentication failed: bad")) << *reason;
  EXPECT_EQ(reason->find('\n'), std::string::npos);  // escaped for the log
  failed.outcome = PamOutcome::kRootRefused;
  EXPECT_TRUE(policy.refuse_pam("root", failed)->starts_with("uid 0 may never log in"));
  EXPECT_FALSE(policy.refuse_pam("alice", accepted("alice")));
}

TEST(LoginPolicy, PamAccountIsCheckedAsWell) {
  Config config = base_config();
  config.user_deny = {"alice"};
  // A module mapped "Alice" to the denied "alice": the lists apply to the account too.
  EXPECT_EQ(LoginPolicy(config).refuse_pam("Alice", accepted("alice")), "account 'alice' in user_deny");
  config.user_deny.clear();
  // SECURITY: a home of / would show the whole file system.
  EXPECT_EQ(LoginPolicy(config).refuse_pam("alice", accepted("alice", "/")),
            "account 'alice' has / as its home directory");
  config.group_deny.ids = {27};  // a supplementary group
  EXPECT_EQ(LoginPolicy(config).refuse_pam("alice", accepted("alice")), "group 27 is in group_deny");
}

TEST(LoginPolicy, FailureDelayGrowsWithEarlierFailuresAndLastAttemptIsFinal) {
  const Config config = base_config();
  const LoginPolicy policy(config);
  EXPECT_EQ(policy.failure_delay(0), std::chrono::milliseconds(100));
  EXPECT_EQ(policy.failure_delay(2), std::chrono::milliseconds(400));
  EXPECT_EQ(policy.failure_delay(50), std::chrono::milliseconds(3200));
  EXPECT_FALSE(policy.is_final_failure(2));
  EXPECT_TRUE(policy.is_final_failure(3));
}

}  // namespace
}  // namespace wftpd
