// The seccomp policy parser (policy::parse) on in-memory text.
//
// Input: byte 0 holds flags, the rest is split at the first NUL (or in the middle) into the
// top-level file and a second file that the include resolver returns for every @include name
// (so include chains, cycles, depth and file-count limits are all reachable). The parser itself
// rejects NUL bytes, so the split never hides a byte it would have seen.
//
// Checks on an accepted policy: every rule names a syscall with a native number, at a line >= 1
// of a file that was actually read; conditions only on kConditional rules, with args 0..5;
// errno values in 0..4095, non-zero for kErrno; no syscall twice; the expanded source stays
// within kMaxExpandedSize (plus one line). With flag bit 0 and a small policy, compile() runs
// as well (libseccomp is slow, so it is bounded: at most 8 rules, 16 alternatives, one argument
// per rule) and must export a non-empty BPF program.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "policy/policy_compiler.hpp"

namespace {

namespace policy = wftpd::policy;

constexpr std::size_t kMaxRulesToCompile = 8;
constexpr std::size_t kMaxAlternativesToCompile = 16;

// compile() is only tried on conditions that test one argument per rule. Conditions over two
// arguments can make libseccomp's rule merging take minutes (found by this target, see
// fuzz/crashes/fuzz_policy_parser/ and fuzz/README.md); drop this restriction once compile()
// bounds its work for them.
bool single_argument(const policy::Rule& rule) {
  if (rule.condition.empty() || rule.condition.front().empty()) return true;
  for (const policy::Conjunction& conjunction : rule.condition) {
    for (const policy::Comparison& comparison : conjunction) {
      if (comparison.arg != rule.condition.front().front().arg) return false;
    }
  }
  return true;
}

// Exact and bit tests only (==, &, in): the compiler accepts these over several arguments
// (libseccomp merges such rules at once); the fuzzer looks for a hang there too.
bool equalities_only(const policy::Rule& rule) {
  if (rule.errno_value != 0) return false;
  for (const policy::Conjunction& conjunction : rule.condition) {
    for (const policy::Comparison& comparison : conjunction) {
      if (comparison.op != policy::CmpOp::kEq && comparison.op != policy::CmpOp::kAnyBits &&
          comparison.op != policy::CmpOp::kIn) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const auto [main_text, include_text] =
      wftpd::fuzz::split_two(wftpd::fuzz::as_view(data + 1, size - 1));

  std::set<std::string> files_read = {"fuzz/main.policy"};
  std::size_t resolver_calls = 0;
  const policy::IncludeResolver resolver =
      [&, included = std::string(include_text)](const std::string& path) -> wftpd::Result<std::string> {
    ++resolver_calls;
    FUZZ_CHECK(!path.empty() && path.front() != '/');
    files_read.insert(path);
    // Flag bit 1: an include that cannot be read.
    if ((flags & 2) != 0 && path.find("missing") != std::string::npos) {
      return wftpd::make_error("no such file");
    }
    return included;
  };

  auto parsed = policy::parse("fuzz/main.policy", main_text, resolver);
  FUZZ_CHECK(resolver_calls < policy::kMaxFiles);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  const policy::ParsedPolicy& result = *parsed;
  FUZZ_CHECK(result.file == "fuzz/main.policy");
  FUZZ_CHECK(result.expanded_source.size() <= policy::kMaxExpandedSize + policy::kMaxLineLength + 1);

  std::set<int> numbers;
  std::size_t alternatives = 0;
  bool compilable = true;
  for (const policy::Rule& rule : result.rules) {
    FUZZ_CHECK(!rule.syscall.empty());
    FUZZ_CHECK(rule.number >= 0);
    FUZZ_CHECK(numbers.insert(rule.number).second);
    FUZZ_CHECK(rule.where.line >= 1);
    FUZZ_CHECK(files_read.count(rule.where.file) == 1);
    FUZZ_CHECK(rule.errno_value >= 0 && rule.errno_value <= 4095);
    switch (rule.kind) {
      case policy::RuleKind::kAllow:
        FUZZ_CHECK(!result.denylist);
        FUZZ_CHECK(rule.condition.empty());
        break;
      case policy::RuleKind::kErrno:
        FUZZ_CHECK(rule.condition.empty());
        FUZZ_CHECK(rule.errno_value != 0);
        break;
      case policy::RuleKind::kTrap:
        FUZZ_CHECK(result.denylist);
        FUZZ_CHECK(rule.condition.empty());
        break;
      case policy::RuleKind::kConditional:
        FUZZ_CHECK(!rule.condition.empty());
        for (const policy::Conjunction& conjunction : rule.condition) {
          FUZZ_CHECK(!conjunction.empty());
          for (const policy::Comparison& comparison : conjunction) FUZZ_CHECK(comparison.arg <= 5);
        }
        break;
    }
    alternatives += rule.condition.size();
    compilable = compilable && (single_argument(rule) || equalities_only(rule));
  }

  if ((flags & 1) != 0 && compilable && result.rules.size() <= kMaxRulesToCompile &&
      alternatives <= kMaxAlternativesToCompile) {
    auto compiled = policy::compile(result);
    if (compiled) {
      FUZZ_CHECK(!compiled->bpf.empty());
      FUZZ_CHECK(compiled->source == result.expanded_source);
    }
  }
  return 0;
}
