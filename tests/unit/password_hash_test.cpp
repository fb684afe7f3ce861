// Tests for password hashing and verification (common/password_hash.hpp).
#include "common/password_hash.hpp"

#include <crypt.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace wftpd {
namespace {

// Precomputed hashes of "secret", so verification is tested against hashes made elsewhere too.
constexpr std::string_view kYescryptSecret =
    "$y$j9T$qzIFpWH7U0wTeRpTiimdA0$7WrkkMsKbOQSxbVkaUcGVny4VuJUlLMwnW9/pK6dZY7";
constexpr std::string_view kSha512Secret =
    "$6$EeqdgyZc7q/rPdWD$ZG5LM/"
    "Qf9uoQPbKWLwOgeFWvc4VPU8N9qdOvNQiKR18RUR.PnHSeF6PGFanIV0mCmDhdXLYFzLXUQCzYDOkpC.";

std::string crypt_with_setting(const char* password, const char* prefix, unsigned long count) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, count, nullptr, 0, setting, sizeof setting) == nullptr) return "";
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password, setting, data.get(), static_cast<int>(sizeof(crypt_data)));
  return out == nullptr ? "" : out;
}

TEST(PasswordHash, YescryptHashStartsWithItsPrefixAndVerifies) {
  auto hash = hash_password("correct horse", HashMethod::kYescrypt);
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$y$"));
  EXPECT_EQ(hash_method_of(*hash), HashMethod::kYescrypt);
  EXPECT_TRUE(verify_password("correct horse", *hash));
}

TEST(PasswordHash, Sha512HashStartsWithItsPrefixAndVerifies) {
  auto hash = hash_password("correct horse", HashMethod::kSha512Crypt);
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$6$"));
  EXPECT_EQ(hash_method_of(*hash), HashMethod::kSha512Crypt);
  EXPECT_TRUE(verify_password("correct horse", *hash));
}

TEST(PasswordHash, SamePasswordHashedTwiceGetsDifferentSalts) {
  auto first = hash_password("pw", HashMethod::kYescrypt);
  auto second = hash_password("pw", HashMethod::kYescrypt);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST(PasswordHash, PrecomputedHashesVerify) {
  EXPECT_TRUE(verify_password("secret", kYescryptSecret));
  EXPECT_TRUE(verify_password("secret", kSha512Secret));
}

TEST(PasswordHash, WrongPasswordDoesNotVerify) {
  for (std::string_view hash : {kYescryptSecret, kSha512Secret}) {
    EXPECT_FALSE(verify_password("Secret", hash));
    EXPECT_FALSE(verify_password("secret ", hash));
    EXPECT_FALSE(verify_password("secre", hash));
    EXPECT_FALSE(verify_password("", hash));
  }
}

TEST(PasswordHash, PasswordWithNulByteNeverVerifies) {
  // "secret\0x" would be "secret" to crypt if passed through as a C string.
  const std::string with_nul("secret\0x", 8);
  EXPECT_FALSE(verify_password(with_nul, kYescryptSecret));
  EXPECT_FALSE(verify_password(with_nul, kSha512Secret));
  EXPECT_FALSE(verify_password(std::string("secret\0", 7), kYescryptSecret));
}

TEST(PasswordHash, PasswordWithNulByteCannotBeHashed) {
  EXPECT_FALSE(hash_password(std::string("a\0b", 3), HashMethod::kYescrypt).ok());
}

TEST(PasswordHash, EmptyPasswordCannotBeHashed) {
  auto hash = hash_password("", HashMethod::kYescrypt);
  ASSERT_FALSE(hash.ok());
  EXPECT_NE(hash.error().message.find("empty"), std::string::npos);
}

TEST(PasswordHash, OverlongPasswordIsRefusedNotTruncated) {
  const std::string longest(kMaxHashablePasswordLength, 'a');
  auto hash = hash_password(longest, HashMethod::kSha512Crypt);
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_TRUE(verify_password(longest, *hash));
  EXPECT_FALSE(verify_password(longest + "a", *hash));
  EXPECT_FALSE(verify_password(std::string(kMaxPasswordLength + 1, 'a'), *hash));
  auto too_long = hash_password(longest + "a", HashMethod::kSha512Crypt);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("longer than"), std::string::npos);
}

TEST(PasswordHash, LockedHashNeverVerifiesEvenWithTheRightPassword) {
  const std::string locked = "!" + std::string(kYescryptSecret);
  EXPECT_TRUE(is_locked_hash(locked));
  EXPECT_FALSE(verify_password("secret", locked));
  EXPECT_FALSE(verify_password("secret", "!!" + std::string(kSha512Secret)));
  EXPECT_FALSE(verify_password("secret", "!"));
  EXPECT_FALSE(verify_password("", "!"));
}

TEST(PasswordHash, OtherCryptMethodsNeverVerify) {
  // DES and MD5-crypt hashes that libxcrypt would check; they must be refused.
  const std::string des = crypt_with_setting("secret", "", 0);
  const std::string md5 = crypt_with_setting("secret", "$1$", 0);
  // Debian's libxcrypt builds both; an empty string here would mean "not built" and is refused too.
  EXPECT_FALSE(verify_password("secret", des));
  EXPECT_FALSE(verify_password("secret", md5));
  EXPECT_FALSE(verify_password("secret", ""));
  EXPECT_FALSE(verify_password("secret", "*"));
}

TEST(PasswordHash, MalformedHashesNeverVerify) {
  std::string truncated(kYescryptSecret);
  truncated.pop_back();
  EXPECT_FALSE(verify_password("secret", truncated));
  EXPECT_FALSE(verify_password("secret", "$y$j9T$"));
  EXPECT_FALSE(verify_password("secret", "$6$"));
  EXPECT_FALSE(verify_password("secret", std::string(kSha512Secret) + "x"));
}

TEST(PasswordHash, HashMethodOfRecognisesOnlyWellFormedHashes) {
  EXPECT_EQ(hash_method_of(kYescryptSecret), HashMethod::kYescrypt);
  EXPECT_EQ(hash_method_of(kSha512Secret), HashMethod::kSha512Crypt);
  EXPECT_EQ(hash_method_of("!" + std::string(kSha512Secret)), HashMethod::kSha512Crypt);
  EXPECT_EQ(hash_method_of("!"), std::nullopt);
  EXPECT_EQ(hash_method_of(""), std::nullopt);
  EXPECT_EQ(hash_method_of("$1$abc$def"), std::nullopt);
  EXPECT_EQ(hash_method_of("$6$rounds=01000$salt$" + std::string(86, 'a')), std::nullopt);
  EXPECT_EQ(hash_method_of("$6$rounds=1000$salt$" + std::string(86, 'a')),
            HashMethod::kSha512Crypt);
  EXPECT_EQ(hash_method_of("$6$salt$" + std::string(85, 'a')), std::nullopt);
  EXPECT_EQ(hash_method_of("$6$sa:t$" + std::string(86, 'a')), std::nullopt);
}

TEST(PasswordHash, StoredHashMayBeABareLockMarker) {
  EXPECT_TRUE(is_valid_stored_hash("!"));
  EXPECT_TRUE(is_valid_stored_hash("!!"));
  EXPECT_TRUE(is_valid_stored_hash(kYescryptSecret));
  EXPECT_FALSE(is_valid_stored_hash(""));
  EXPECT_FALSE(is_valid_stored_hash("*"));
  EXPECT_FALSE(is_valid_stored_hash("!*"));
}

TEST(PasswordHash, MethodNamesRoundTrip) {
  for (HashMethod method : {HashMethod::kYescrypt, HashMethod::kSha512Crypt}) {
    EXPECT_EQ(parse_hash_method_name(hash_method_name(method)), method);
  }
  EXPECT_EQ(parse_hash_method_name("md5"), std::nullopt);
}

}  // namespace
}  // namespace wftpd
