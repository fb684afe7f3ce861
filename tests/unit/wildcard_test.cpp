#include "unpriv/wildcard.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

TEST(Wildcard, StarAndQuestionMark) {
  EXPECT_TRUE(wildcard_match("*.txt", "notes.txt"));
  EXPECT_FALSE(wildcard_match("*.txt", "notes.txt.gz"));
  EXPECT_TRUE(wildcard_match("a?c", "abc"));
  EXPECT_FALSE(wildcard_match("a?c", "ac"));
  EXPECT_TRUE(wildcard_match("*", "anything"));
  EXPECT_TRUE(wildcard_match("**a**", "banana"));
  EXPECT_TRUE(wildcard_match("", ""));
  EXPECT_FALSE(wildcard_match("", "x"));
}

TEST(Wildcard, BracketClasses) {
  EXPECT_TRUE(wildcard_match("file[0-9].log", "file7.log"));
  EXPECT_FALSE(wildcard_match("file[0-9].log", "fileA.log"));
  EXPECT_TRUE(wildcard_match("[!a]*", "banana"));
  EXPECT_FALSE(wildcard_match("[^b]*", "banana"));
  EXPECT_TRUE(wildcard_match("[]]x", "]x"));
  // An unclosed '[' is an ordinary character.
  EXPECT_TRUE(wildcard_match("a[b", "a[b"));
  EXPECT_FALSE(wildcard_match("a[b", "ab"));
}

TEST(Wildcard, HiddenNamesNeedAnExplicitDot) {
  EXPECT_FALSE(wildcard_match("*", ".profile"));
  EXPECT_TRUE(wildcard_match(".*", ".profile"));
}

TEST(Wildcard, PathologicalPatternsStayFast) {
  const std::string name(4096, 'a');
  // The work is O(pattern * name) by construction; with exponential backtracking these two
  // would not finish within the test's time limit.
  EXPECT_FALSE(wildcard_match("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
  EXPECT_FALSE(wildcard_match(std::string(200, '*') + "b", name));
}

TEST(Wildcard, OverlongPatternNeverMatches) {
  EXPECT_FALSE(wildcard_match(std::string(kMaxWildcardPattern + 1, '*'), "x"));
}

TEST(Wildcard, DetectsWildcardCharacters) {
  EXPECT_TRUE(has_wildcard("*.c"));
  EXPECT_TRUE(has_wildcard("a?"));
  EXPECT_TRUE(has_wildcard("[ab]"));
  EXPECT_FALSE(has_wildcard("plain.txt"));
}

}  // namespace
}  // namespace wftpd
