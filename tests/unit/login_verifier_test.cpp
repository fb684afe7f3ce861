#include "priv/login_verifier.hpp"

#include <gtest/gtest.h>

#include <crypt.h>

#include <algorithm>
#include <memory>

#include "common/password_hash.hpp"

namespace wftpd {
namespace {

std::vector<VirtualUser> one_user(const std::string& password, HashMethod method) {
  auto hash = hash_password(password, method);
  EXPECT_TRUE(hash.ok());
  return {VirtualUser{"alice", *hash, 20001, 20001, "/srv/alice", ""}};
}

TEST(LoginVerifier, CorrectPasswordIsAccepted) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  const auto decision = verifier.check("alice", "s3cret");
  ASSERT_TRUE(decision.accepted);
  ASSERT_NE(decision.user, nullptr);
  EXPECT_EQ(decision.user->uid, 20001u);
}

TEST(LoginVerifier, WrongPasswordAndUnknownUserGiveTheSameAnswer) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  const auto wrong = verifier.check("alice", "guess");
  const auto unknown = verifier.check("mallory", "guess");
  EXPECT_FALSE(wrong.accepted);
  EXPECT_FALSE(unknown.accepted);
  EXPECT_EQ(wrong.user, nullptr);
  EXPECT_EQ(unknown.user, nullptr);
  // Only the server log tells them apart.
  EXPECT_NE(wrong.log_reason, unknown.log_reason);
}

TEST(LoginVerifier, UnknownUserIsCheckedAgainstARealEntrysHash) {
  auto users = one_user("s3cret", HashMethod::kSha512Crypt);
  users.insert(users.begin(), VirtualUser{"locked", "!!", 20002, 20002, "/srv/locked", ""});
  LoginVerifier verifier(users);
  // The first entry is locked (no hash to imitate): the decoy is the next one's, so an unknown
  // name costs what a real check costs.
  EXPECT_EQ(verifier.decoy_hash(), users[1].hash);
  // The decoy never logs anyone in under an unknown name, even with the entry's own password.
  EXPECT_FALSE(verifier.check("mallory", "s3cret").accepted);
}

TEST(LoginVerifier, WithoutAUsableEntryTheDecoyIsAValidYescryptHash) {
  for (const auto& users : {std::vector<VirtualUser>{},
                            std::vector<VirtualUser>{{"locked", "!", 20002, 20002, "/srv/l", ""}}}) {
    LoginVerifier verifier(users);
    EXPECT_EQ(hash_method_of(verifier.decoy_hash()), HashMethod::kYescrypt);
    EXPECT_FALSE(is_locked_hash(verifier.decoy_hash()));
    EXPECT_FALSE(verify_password("", verifier.decoy_hash()));
  }
}

TEST(LoginVerifier, UnknownUserCostsAboutAsMuchAsAWrongPassword) {
  // sha512-crypt with many rounds makes one check take milliseconds: an unknown name that
  // skipped the hash would answer in microseconds. Best of three against scheduling noise.
  auto data = std::make_unique<crypt_data>();
  const char* slow = crypt_rn("s3cret", "$6$rounds=200000$abcdefghijklmnop$", data.get(),
                              static_cast<int>(sizeof(crypt_data)));
  ASSERT_NE(slow, nullptr);
  LoginVerifier verifier({VirtualUser{"alice", slow, 20001, 20001, "/srv/alice", ""}});
  ASSERT_EQ(verifier.decoy_hash(), slow);
  auto best_of_three = [&](std::string_view name) {
    auto best = std::chrono::steady_clock::duration::max();
    for (int i = 0; i < 3; ++i) {
      const auto started = std::chrono::steady_clock::now();
      EXPECT_FALSE(verifier.check(name, "guess").accepted);
      best = std::min(best, std::chrono::steady_clock::now() - started);
    }
    return best;
  };
  const auto wrong = best_of_three("alice");
  const auto unknown = best_of_three("mallory");
  EXPECT_GE(wrong, std::chrono::milliseconds(5)) << "the round count did not make the check slow";
  EXPECT_GE(unknown * 2, wrong);
}

TEST(LoginVerifier, EmptyUsersFileRefusesEveryone) {
  LoginVerifier verifier({});
  EXPECT_FALSE(verifier.check("alice", "").accepted);
  EXPECT_FALSE(verifier.check("", "").accepted);
}

TEST(LoginVerifier, LockedAccountIsRefused) {
  auto users = one_user("s3cret", HashMethod::kSha512Crypt);
  users[0].hash = "!" + users[0].hash;
  LoginVerifier verifier(users);
  EXPECT_FALSE(verifier.check("alice", "s3cret").accepted);
}

TEST(LoginVerifier, PasswordWithNulIsRefused) {
  LoginVerifier verifier(one_user("s3cret", HashMethod::kSha512Crypt));
  EXPECT_FALSE(verifier.check("alice", std::string("s3cret\0x", 8)).accepted);
}

}  // namespace
}  // namespace wftpd
