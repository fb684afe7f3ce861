#include "priv/login_verifier.hpp"

#include <gtest/gtest.h>

#include "common/password_hash.hpp"

namespace wftpd {
namespace {

std::vector<VirtualUser> one_user(const std::string& password, HashMethod method) {
  auto hash = hash_password(password, method);
  EXPECT_TRUE(hash.ok());
  return {VirtualUser{"alice", *hash, 20001, 20001, "/srv/alice"}};
}

TEST(LoginVerifier, CorrectPasswordIsAcceptedWithoutDelay) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  const auto decision = verifier.verify("alice", "s3cret", std::chrono::seconds(30));
  ASSERT_TRUE(decision.accepted);
  ASSERT_NE(decision.user, nullptr);
  EXPECT_EQ(decision.user->uid, 20001u);
}

TEST(LoginVerifier, WrongPasswordAndUnknownUserGiveTheSameAnswer) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  const auto wrong = verifier.verify("alice", "guess", std::chrono::milliseconds(1));
  const auto unknown = verifier.verify("mallory", "guess", std::chrono::milliseconds(1));
  EXPECT_FALSE(wrong.accepted);
  EXPECT_FALSE(unknown.accepted);
  EXPECT_EQ(wrong.user, nullptr);
  EXPECT_EQ(unknown.user, nullptr);
  // Only the server log tells them apart.
  EXPECT_NE(wrong.log_reason, unknown.log_reason);
}

TEST(LoginVerifier, FailureIsNotAnsweredBeforeTheDelay) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  for (const char* user : {"alice", "nobody-here"}) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(verifier.verify(user, "nope", std::chrono::milliseconds(150)).accepted);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150)) << user;
  }
}

TEST(LoginVerifier, EmptyUsersFileRefusesEveryone) {
  LoginVerifier verifier({});
  EXPECT_FALSE(verifier.verify("alice", "", std::chrono::milliseconds(1)).accepted);
  EXPECT_FALSE(verifier.verify("", "", std::chrono::milliseconds(1)).accepted);
}

TEST(LoginVerifier, LockedAccountIsRefused) {
  auto users = one_user("s3cret", HashMethod::kSha512Crypt);
  users[0].hash = "!" + users[0].hash;
  LoginVerifier verifier(users);
  EXPECT_FALSE(verifier.verify("alice", "s3cret", std::chrono::milliseconds(1)).accepted);
}

TEST(LoginVerifier, PasswordWithNulIsRefused) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  EXPECT_FALSE(verifier.verify("alice", std::string("s3cret\0x", 8), std::chrono::milliseconds(1)).accepted);
}

}  // namespace
}  // namespace wftpd
