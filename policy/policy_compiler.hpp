// Seccomp policy compiler: parses the policy language (a subset of minijail's
// syntax, see docs in policy_compiler.cpp) and compiles it with libseccomp.
//
// Used by the build-time tool wardenftpd-policyc, by unit tests and by fuzzers.
// Everything works on in-memory text; file access goes through an IncludeResolver.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace wftpd::policy {

// Hard limits; inputs exceeding them are rejected with an error.
inline constexpr std::size_t kMaxLineLength = 4096;
inline constexpr std::size_t kMaxFileSize = 1024 * 1024;
inline constexpr int kMaxIncludeDepth = 8;
inline constexpr std::size_t kMaxFiles = 256;               // files read per policy
inline constexpr std::size_t kMaxExpandedSize = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxAlternatives = 512;        // libseccomp rules per syscall

struct Location {
  std::string file;
  unsigned line = 0;
};
std::string to_string(const Location& where);  // "FILE:LINE"

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe, kAnyBits /* & */, kIn /* in */ };

// One `argN OP VALUE` comparison, as written (before any expansion).
struct Comparison {
  unsigned arg = 0;
  CmpOp op = CmpOp::kEq;
  std::uint64_t value = 0;
};
using Conjunction = std::vector<Comparison>;  // joined by &&

enum class RuleKind {
  kAllow,        // SYSCALL: 1                  (allowlists only)
  kErrno,        // SYSCALL: return ERRNO
  kConditional,  // SYSCALL: EXPR [; return ERRNO]
  kTrap,         // SYSCALL: trap               (@denylist policies only)
};

struct Rule {
  std::string syscall;
  int number = -1;              // native syscall number (libseccomp)
  Location where;
  RuleKind kind = RuleKind::kAllow;
  std::vector<Conjunction> condition;  // kConditional: alternatives joined by ||
  int errno_value = 0;          // kErrno; kConditional: fallback errno, 0 = kill
};

struct ParsedPolicy {
  // `@denylist` (minijail's directive, first statement of the top-level file): every syscall not
  // listed is allowed, and the rules say what is denied. Otherwise (an allowlist) every syscall
  // not listed traps.
  bool denylist = false;
  std::vector<Rule> rules;       // in source order (includes expanded in place)
  std::string expanded_source;   // text with @include expanded, comments kept
  std::string file;              // top-level file name (for messages)
};

// Returns the contents of an included file. `path` is the lexically normalised
// path of the include, relative to the same root as the top-level file name.
using IncludeResolver = std::function<wftpd::Result<std::string>(const std::string& path)>;

// Parses `text` (named `file_name` in messages and for resolving includes).
// Errors are "FILE:LINE: what is wrong".
wftpd::Result<ParsedPolicy> parse(std::string_view file_name, std::string_view text,
                                  const IncludeResolver& resolver);

// Reads `path` from the file system and parses it; includes are read relative to it.
wftpd::Result<ParsedPolicy> parse_file(const std::string& path);

struct CompiledPolicy {
  std::vector<sock_filter> bpf;  // seccomp_export_bpf output
  std::string pfc;               // seccomp_export_pfc output
  std::string source;            // ParsedPolicy::expanded_source
  bool denylist = false;             // default action ALLOW (see ParsedPolicy::denylist)
  std::size_t allowed_syscalls = 0;  // allowlist: distinct syscalls allowed (some with conditions)
  std::size_t errno_syscalls = 0;    // distinct syscalls answered with an errno (deny list: also
                                     // those answered with an errno only when a condition fails)
  std::size_t trapped_syscalls = 0;  // deny list: syscalls that trap (always, or when a condition
                                     // fails); allowlists: 0 (every unlisted syscall traps)
};

// Compiles a parsed policy for the native architecture. The default action is
// SECCOMP_RET_TRAP (the syscall is not run; SIGSYS tells the process which one it was, see
// policy/violation_report.hpp), or SECCOMP_RET_ALLOW for a @denylist policy, whose listed
// syscalls trap (`trap`, or a condition that does not hold) or fail with an errno. A foreign
// architecture gets SECCOMP_RET_KILL_PROCESS either way.
wftpd::Result<CompiledPolicy> compile(const ParsedPolicy& policy);

}  // namespace wftpd::policy
