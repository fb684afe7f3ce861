// For the unit tests that need root (files owned by root, as the daemon demands): they fail
// loudly without it, never skip, as the end-to-end tests do (tests/e2e/harness.py,
// require_root). The whole suite runs as root, in CI too.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#define WFTPD_REQUIRE_ROOT()                                                              \
  do {                                                                                    \
    if (::geteuid() != 0) GTEST_FAIL() << "this test must run as root (euid " << ::geteuid() \
                                       << "): it makes root-owned files";                 \
  } while (false)
