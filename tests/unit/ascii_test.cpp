#include "common/ascii.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

TEST(Ascii, MapsOnlyAsciiLettersWhateverTheLocale) {
  EXPECT_EQ(to_ascii_upper("type a n"), "TYPE A N");
  EXPECT_EQ(to_ascii_lower("Size;Modify;UNIX.mode"), "size;modify;unix.mode");
  // Bytes of UTF-8 (negative as char) and punctuation next to the letter ranges stay as they are.
  EXPECT_EQ(to_ascii_upper("\xc3\xa9@[`{z"), "\xc3\xa9@[`{Z");
  EXPECT_EQ(to_ascii_lower("\xc3\x89@[`{A"), "\xc3\x89@[`{a");
}

TEST(Ascii, ComparesIgnoringAsciiCaseOnly) {
  EXPECT_TRUE(equals_ignoring_ascii_case("abor", "ABOR"));
  EXPECT_TRUE(equals_ignoring_ascii_case("AlL", "ALL"));
  EXPECT_FALSE(equals_ignoring_ascii_case("ABO", "ABOR"));
  EXPECT_FALSE(equals_ignoring_ascii_case("\xc3\xa9", "\xc3\x89"));
  static_assert(is_ascii_letter('q') && is_ascii_letter('Q') && !is_ascii_letter('@'));
}

}  // namespace
}  // namespace wftpd
