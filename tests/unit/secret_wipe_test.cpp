// Tests for wiping secrets (common/secret_wipe.hpp).
#include "common/secret_wipe.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

TEST(SecretWipe, ZeroesTheWholeBufferAndEmptiesTheString) {
  std::string secret(100, 'x');
  secret.resize(40);  // the buffer still holds the 60 bytes past the end
  const char* buffer = secret.data();
  const std::size_t capacity = secret.capacity();
  wipe_secret(secret);
  EXPECT_TRUE(secret.empty());
  ASSERT_EQ(secret.data(), buffer) << "wipe_secret must not reallocate";
  for (std::size_t i = 0; i < capacity; ++i) ASSERT_EQ(buffer[i], '\0') << "byte " << i;
}

TEST(SecretWipe, ZeroesAShortStringStoredInsideTheObject) {
  std::string secret = "pw";
  const char* buffer = secret.data();
  const std::size_t capacity = secret.capacity();
  wipe_secret(secret);
  EXPECT_TRUE(secret.empty());
  for (std::size_t i = 0; i < capacity; ++i) ASSERT_EQ(buffer[i], '\0') << "byte " << i;
}

}  // namespace
}  // namespace wftpd
