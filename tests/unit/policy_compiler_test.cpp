// Tests for the seccomp policy compiler (policy/policy_compiler.hpp) and for the
// install path used by the daemon (policy/embedded_policy.hpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <csignal>
#include <functional>
#include <map>
#include <string>

#include "policy/embedded_policy.hpp"
#include "policy/policy_compiler.hpp"

namespace wftpd::policy {
namespace {

// In-memory "file system" for includes.
struct Files {
  std::map<std::string, std::string> files;
  std::vector<std::string> requested;
  IncludeResolver resolver() {
    return [this](const std::string& path) -> Result<std::string> {
      requested.push_back(path);
      auto it = files.find(path);
      if (it == files.end()) return make_error("no such file");
      return it->second;
    };
  }
};

Result<ParsedPolicy> parse_text(std::string_view text, Files* files = nullptr) {
  static Files empty;
  Files& f = files ? *files : empty;
  return parse("main.policy", text, f.resolver());
}

std::string parse_error(std::string_view text, Files* files = nullptr) {
  auto r = parse_text(text, files);
  if (r.ok()) return "<no error>";
  return r.error().message;
}

std::string compile_error(std::string_view text) {
  auto parsed = parse_text(text);
  if (!parsed.ok()) return "parse: " + parsed.error().message;
  auto compiled = compile(*parsed);
  if (compiled.ok()) return "<no error>";
  return compiled.error().message;
}

// ------------------------------------------------------------------ parsing

TEST(PolicyParser, AcceptsAllowErrnoAndComments) {
  auto r = parse_text("# header\n\nread: 1  # trailing\nptrace: return EPERM\nkill: return 13\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rules.size(), 3u);
  EXPECT_EQ(r->rules[0].syscall, "read");
  EXPECT_EQ(r->rules[0].kind, RuleKind::kAllow);
  EXPECT_EQ(r->rules[0].where.line, 3u);
  EXPECT_EQ(r->rules[1].kind, RuleKind::kErrno);
  EXPECT_EQ(r->rules[1].errno_value, EPERM);
  EXPECT_EQ(r->rules[2].errno_value, 13);
}

TEST(PolicyParser, ErrorsCarryFileAndLine) {
  EXPECT_EQ(parse_error("read: 1\n\nthis is not a rule\n").rfind("main.policy:3: ", 0), 0u);
  EXPECT_EQ(parse_error("read: 1\nwrite: arg0 ==\n").rfind("main.policy:2: ", 0), 0u);
  EXPECT_EQ(parse_error("read: bogus\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read:\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: 2\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: return\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: return 0\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: return ENOTANERRNO\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: arg0 == 1 garbage\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: arg0 == 1 ; return\n").rfind("main.policy:1: ", 0), 0u);
  EXPECT_EQ(parse_error("read: arg0 == (1)\n").rfind("main.policy:1: ", 0), 0u);
}

TEST(PolicyParser, UnknownSyscallIsAnError) {
  EXPECT_NE(parse_error("no_such_syscall: 1\n").find("main.policy:1: unknown syscall"),
            std::string::npos);
  // Exists in libseccomp's tables, but not on x86_64.
  EXPECT_NE(parse_error("socketcall: 1\n").find("main.policy:1:"), std::string::npos);
}

TEST(PolicyParser, UnknownConstantIsAnError) {
  const std::string e = parse_error("read: 1\nmmap: arg2 == PROT_READ|PROT_BOGUS\n");
  EXPECT_NE(e.find("main.policy:2: unknown constant 'PROT_BOGUS'"), std::string::npos) << e;
}

TEST(PolicyParser, ArgumentIndexMustBeZeroToFive) {
  EXPECT_TRUE(parse_text("read: arg5 == 1\n").ok());
  EXPECT_NE(parse_error("read: arg6 == 1\n").find("main.policy:1:"), std::string::npos);
  EXPECT_NE(parse_error("read: foo == 1\n").find("main.policy:1:"), std::string::npos);
}

TEST(PolicyParser, DuplicateSyscallNamesBothLocations) {
  Files files;
  files.files["frag.policy"] = "# fragment\nread: 1\n";
  const std::string e = parse_error("@include frag.policy\nwrite: 1\nread: 1\n", &files);
  EXPECT_NE(e.find("main.policy:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("frag.policy:2"), std::string::npos) << e;
}

TEST(PolicyParser, IncludeIsResolvedRelativeToTheIncludingFile) {
  Files files;
  files.files["policy/fragments/base.policy"] = "read: 1\n@include more.policy\n";
  files.files["policy/fragments/more.policy"] = "write: 1\n";
  auto r = parse("policy/preauth.policy", "@include fragments/base.policy\nclose: 1\n",
                 files.resolver());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rules.size(), 3u);
  EXPECT_EQ(r->rules[0].where.file, "policy/fragments/base.policy");
  EXPECT_EQ(r->rules[1].where.file, "policy/fragments/more.policy");
  EXPECT_EQ(r->rules[1].where.line, 1u);
  EXPECT_EQ(r->rules[2].where.file, "policy/preauth.policy");
  EXPECT_EQ(r->rules[2].where.line, 2u);
}

TEST(PolicyParser, ErrorInsideIncludeNamesTheIncludedFile) {
  Files files;
  files.files["frag.policy"] = "read: 1\n\nwrite: arg0 === 1\n";
  const std::string e = parse_error("@include frag.policy\n", &files);
  EXPECT_EQ(e.rfind("frag.policy:3: ", 0), 0u) << e;
}

TEST(PolicyParser, MissingIncludeIsAnError) {
  Files files;
  const std::string e = parse_error("read: 1\n@include nowhere.policy\n", &files);
  EXPECT_EQ(e.rfind("main.policy:2: cannot include", 0), 0u) << e;
}

TEST(PolicyParser, IncludeCycleIsRejected) {
  Files files;
  files.files["a.policy"] = "read: 1\n@include b.policy\n";
  files.files["b.policy"] = "@include ./a.policy\n";
  const std::string e = parse_error("@include a.policy\n", &files);
  EXPECT_NE(e.find("include cycle"), std::string::npos) << e;
  EXPECT_EQ(e.rfind("b.policy:1: ", 0), 0u) << e;
}

TEST(PolicyParser, SelfIncludeIsACycle) {
  Files files;
  EXPECT_NE(parse_error("@include main.policy\n", &files).find("include cycle"),
            std::string::npos);
}

TEST(PolicyParser, IncludeDepthIsLimited) {
  Files files;
  for (int i = 0; i < 12; ++i) {
    files.files["f" + std::to_string(i) + ".policy"] =
        "@include f" + std::to_string(i + 1) + ".policy\n";
  }
  files.files["f12.policy"] = "read: 1\n";
  const std::string e = parse_error("@include f0.policy\n", &files);
  EXPECT_NE(e.find("deeper than 8"), std::string::npos) << e;

  Files shallow;
  for (int i = 0; i < 7; ++i) {
    shallow.files["f" + std::to_string(i) + ".policy"] =
        "@include f" + std::to_string(i + 1) + ".policy\n";
  }
  shallow.files["f7.policy"] = "read: 1\n";
  EXPECT_TRUE(parse_text("@include f0.policy\n", &shallow).ok());
}

TEST(PolicyParser, AbsoluteIncludeIsRejected) {
  Files files;
  EXPECT_EQ(parse_error("@include /etc/passwd\n", &files).rfind("main.policy:1:", 0), 0u);
}

TEST(PolicyParser, OverlongLineIsRejected) {
  std::string text = "read: 1 #" + std::string(5000, 'x') + "\n";
  EXPECT_EQ(parse_error(text).rfind("main.policy:1: line longer", 0), 0u);
}

TEST(PolicyParser, ControlCharactersAreRejected) {
  EXPECT_EQ(parse_error(std::string("read: 1\nwrite:\0 1\n", 18)).rfind("main.policy:2:", 0), 0u);
}

TEST(PolicyParser, ParsesOrAndAndBitOperators) {
  auto r = parse_text(
      "mmap: arg2 in PROT_READ|PROT_WRITE && arg3 & MAP_PRIVATE|MAP_ANONYMOUS || arg0 == 0x10\n"
      "openat: arg0 == AT_FDCWD && arg2 in ~O_CREAT; return EACCES\n"
      "fcntl: arg1 != 010 && arg1 <= 20 && arg1 < 21 && arg1 >= 0 && arg1 > -1\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Rule& mmap_rule = r->rules[0];
  EXPECT_EQ(mmap_rule.kind, RuleKind::kConditional);
  EXPECT_EQ(mmap_rule.errno_value, 0);
  ASSERT_EQ(mmap_rule.condition.size(), 2u);
  ASSERT_EQ(mmap_rule.condition[0].size(), 2u);
  EXPECT_EQ(mmap_rule.condition[0][0].arg, 2u);
  EXPECT_EQ(mmap_rule.condition[0][0].op, CmpOp::kIn);
  EXPECT_EQ(mmap_rule.condition[0][0].value, std::uint64_t{PROT_READ | PROT_WRITE});
  EXPECT_EQ(mmap_rule.condition[0][1].op, CmpOp::kAnyBits);
  EXPECT_EQ(mmap_rule.condition[0][1].value, std::uint64_t{MAP_PRIVATE | MAP_ANONYMOUS});
  EXPECT_EQ(mmap_rule.condition[1][0].op, CmpOp::kEq);
  EXPECT_EQ(mmap_rule.condition[1][0].value, 0x10u);

  const Rule& openat_rule = r->rules[1];
  EXPECT_EQ(openat_rule.errno_value, EACCES);
  EXPECT_EQ(openat_rule.condition[0][0].value, static_cast<std::uint64_t>(-100));  // sign-extended
  EXPECT_EQ(openat_rule.condition[0][1].value, ~static_cast<std::uint64_t>(O_CREAT));

  const Conjunction& c = r->rules[2].condition[0];
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0].op, CmpOp::kNe);
  EXPECT_EQ(c[0].value, 8u);  // octal
  EXPECT_EQ(c[1].op, CmpOp::kLe);
  EXPECT_EQ(c[2].op, CmpOp::kLt);
  EXPECT_EQ(c[3].op, CmpOp::kGe);
  EXPECT_EQ(c[4].op, CmpOp::kGt);
  EXPECT_EQ(c[4].value, ~std::uint64_t{0});
}

TEST(PolicyParser, NumbersOutOfRangeAreRejected) {
  EXPECT_TRUE(parse_text("read: arg0 == 0xffffffffffffffff\n").ok());
  EXPECT_FALSE(parse_text("read: arg0 == 0x10000000000000000\n").ok());
  EXPECT_FALSE(parse_text("read: arg0 == 18446744073709551616\n").ok());
  EXPECT_FALSE(parse_text("read: arg0 == 09\n").ok());
  EXPECT_FALSE(parse_text("read: arg0 & 0\n").ok());
}

TEST(PolicyParser, ExpandedSourceKeepsCommentsAndIncludes) {
  Files files;
  files.files["frag.policy"] = "# fragment comment\nread: 1\n";
  auto r = parse_text("# top\n@include frag.policy\nwrite: 1 # why\n", &files);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->expanded_source.find("# top\n"), std::string::npos);
  EXPECT_NE(r->expanded_source.find("# fragment comment\nread: 1\n"), std::string::npos);
  EXPECT_NE(r->expanded_source.find("write: 1 # why\n"), std::string::npos);
  EXPECT_LT(r->expanded_source.find("read: 1"), r->expanded_source.find("write: 1"));
}

// ------------------------------------------------------------------ compiling

TEST(PolicyCompiler, ProducesBpfAndPfc) {
  auto parsed = parse_text("read: 1\nwrite: arg0 == 1 || arg0 == 2\nptrace: return EPERM\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto compiled = compile(*parsed);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  EXPECT_GT(compiled->bpf.size(), 5u);
  EXPECT_NE(compiled->pfc.find("\"write\""), std::string::npos);
  EXPECT_NE(compiled->pfc.find("ERRNO(1)"), std::string::npos);
  EXPECT_NE(compiled->pfc.find("KILL_PROCESS"), std::string::npos);
  // A foreign architecture also kills the whole process, not just the thread.
  EXPECT_NE(compiled->pfc.find("# invalid architecture action\naction KILL_PROCESS;"),
            std::string::npos)
      << compiled->pfc;
  EXPECT_EQ(compiled->source, parsed->expanded_source);
}

TEST(PolicyCompiler, ImpossibleConditionIsAnError) {
  EXPECT_NE(compile_error("read: arg0 == 1 && arg0 == 2\n").find("main.policy:1:"),
            std::string::npos);
  EXPECT_NE(compile_error("read: arg0 < 0\n").find("can never be true"), std::string::npos);
}

TEST(PolicyCompiler, FallbackErrnoMixingRangesAndBitTestsIsAnError) {
  // The complement would need "(x & 1) == 1 && x < 5" style rules.
  EXPECT_NE(compile_error("dup: arg0 > 5 || arg0 & 1; return EPERM\n").find("cannot combine"),
            std::string::npos);
}

TEST(PolicyCompiler, RangeMixedWithBitTestOnOneArgumentIsAnError) {
  const std::string e = compile_error("read: arg2 > 4 && arg2 & 1\n");
  EXPECT_EQ(e.rfind("main.policy:1: cannot combine", 0), 0u) << e;
  // Exact values combine with bit tests fine.
  EXPECT_EQ(compile_error("read: arg2 == 5 && arg2 & 1\n"), "<no error>");
}

TEST(PolicyCompiler, ManyAlternativesAreBounded) {
  // 64 bits x 64 bits x 64 bits of '&' alternatives.
  const std::string e = compile_error("read: arg0 & ~0 && arg1 & ~0 && arg2 & ~0\n");
  EXPECT_NE(e.find("too many"), std::string::npos) << e;
}

// ------------------------------------------------------------------ behaviour

// Compiles `policy`, forks, and in the child sets no_new_privs, installs the filter
// with install_filter() (the code path behind install_policy) and runs `body`,
// exiting with its return value. Returns the child's wait status.
int run_confined(std::string_view policy, const std::function<int()>& body) {
  auto parsed = parse("test.policy", policy, IncludeResolver{});
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.error().message;
    return -1;
  }
  auto compiled = compile(*parsed);
  if (!compiled.ok()) {
    ADD_FAILURE() << compiled.error().message;
    return -1;
  }
  const std::vector<sock_filter>& bpf = compiled->bpf;
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return -1;
  }
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(120);
    if (!install_filter(bpf).ok()) _exit(121);
    // A raw exit_group: under ASan, _exit() is intercepted and may run more syscalls.
    ::syscall(SYS_exit_group, body());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// Direct system calls only: nothing in the child may call anything not allowed.
long sys(long nr, long a0 = 0, long a1 = 0, long a2 = 0) { return syscall(nr, a0, a1, a2); }

constexpr char kBase[] = "exit_group: 1\nexit: 1\n";

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }
bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

TEST(PolicyBehaviour, AllowedSyscallSucceeds) {
  const int status = run_confined(std::string(kBase) + "getpid: 1\n",
                                  [] { return sys(SYS_getpid) > 0 ? 7 : 1; });
  EXPECT_TRUE(exited_with(status, 7)) << status;
}

TEST(PolicyBehaviour, ErrnoRuleFailsWithThatErrno) {
  const int status = run_confined(std::string(kBase) + "getppid: return EPERM\n", [] {
    return sys(SYS_getppid) == -1 && errno == EPERM ? 7 : 1;
  });
  EXPECT_TRUE(exited_with(status, 7)) << status;
}

TEST(PolicyBehaviour, ForbiddenSyscallKillsProcess) {
  const int status = run_confined(std::string(kBase) + "getpid: 1\n", [] {
    sys(SYS_getpid);
    sys(SYS_getuid);  // not listed
    return 7;
  });
  EXPECT_TRUE(killed_by_sigsys(status)) << status;
}

TEST(PolicyBehaviour, ConditionMismatchKillsProcess) {
  const char* policy = "exit_group: 1\nclose: arg0 == 1000 || arg0 == 1001\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_close, 1000) == -1 && errno == EBADF && sys(SYS_close, 1001) == -1 ? 7 : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_close, 1002) + 7; })));
}

TEST(PolicyBehaviour, ComparisonsUseAll64Bits) {
  const char* policy = "exit_group: 1\nclose: arg0 == 1000\n";
  // The kernel truncates the fd to 1000, but the filter sees 0x1_000003e8.
  EXPECT_TRUE(killed_by_sigsys(
      run_confined(policy, [] { return (int)sys(SYS_close, 0x1000003e8L) + 7; })));
}

TEST(PolicyBehaviour, RangeOnOneArgumentIsEnforced) {
  const char* policy = "exit_group: 1\ndup: arg0 >= 100 && arg0 <= 200\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_dup, 100) == -1 && sys(SYS_dup, 150) == -1 && sys(SYS_dup, 200) == -1 &&
                   errno == EBADF
               ? 7
               : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_dup, 99) + 7; })));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_dup, 201) + 7; })));
}

TEST(PolicyBehaviour, AnyBitsOperatorNeedsOneOfTheBits) {
  const char* policy = "exit_group: 1\nclose: arg0 & 0x300\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_close, 0x100) == -1 && sys(SYS_close, 0x200) == -1 &&
                   sys(SYS_close, 0x3ff) == -1
               ? 7
               : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_close, 0x4ff) + 7; })));
}

TEST(PolicyBehaviour, InOperatorRejectsBitsOutsideTheSet) {
  const char* policy = "exit_group: 1\ndup3: arg2 in O_CLOEXEC\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_dup3, 500, 501, O_CLOEXEC) == -1 && sys(SYS_dup3, 500, 501, 0) == -1 ? 7 : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(
      run_confined(policy, [] { return (int)sys(SYS_dup3, 500, 501, O_CLOEXEC | O_NONBLOCK) + 7; })));
}

TEST(PolicyBehaviour, ComplementedValueWorks) {
  // arg0 may have any bit except 0x1 set.
  const char* policy = "exit_group: 1\nclose: arg0 in ~1\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] { return sys(SYS_close, 1000) == -1 ? 7 : 1; }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_close, 1001) + 7; })));
}

TEST(PolicyBehaviour, FallbackErrnoInsteadOfKill) {
  const char* policy =
      "exit_group: 1\nfcntl: arg1 == F_GETFD || arg1 == F_GETFL; return EPERM\n";
  const int status = run_confined(policy, [] {
    const int fd = 0;
    if (sys(SYS_fcntl, fd, F_GETFD) < 0 || sys(SYS_fcntl, fd, F_GETFL) < 0) return 1;
    if (sys(SYS_fcntl, fd, F_SETFD, 0) != -1 || errno != EPERM) return 2;
    if (sys(SYS_fcntl, fd, F_DUPFD) != -1 || errno != EPERM) return 3;
    // Same low 32 bits as F_GETFD, different upper half: not allowed.
    if (sys(SYS_fcntl, fd, 0x100000000L | F_GETFD) != -1 || errno != EPERM) return 4;
    return 7;
  });
  EXPECT_TRUE(exited_with(status, 7)) << status;
}

TEST(PolicyBehaviour, FallbackErrnoWithRangesOnOneArgument) {
  const char* policy =
      "exit_group: 1\n"
      "dup: arg0 >= 600 && arg0 < 610 || arg0 == 700 || arg0 > 0x10000; return EACCES\n";
  const int status = run_confined(policy, [] {
    for (long fd : {600L, 609L, 700L, 0x10001L, 0x7fffffffL}) {
      if (sys(SYS_dup, fd) != -1 || errno != EBADF) return 1;
    }
    for (long fd : {599L, 610L, 699L, 701L, 0x10000L}) {
      if (sys(SYS_dup, fd) != -1 || errno != EACCES) return 2;
    }
    return 7;
  });
  EXPECT_TRUE(exited_with(status, 7)) << status;
}

TEST(PolicyCompiler, FallbackErrnoOverSeveralArgumentsIsAnError) {
  const std::string e =
      compile_error("dup3: arg0 == 500 && arg2 in O_CLOEXEC || arg1 >= 600; return EACCES\n");
  EXPECT_EQ(e.rfind("main.policy:1: '; return ERRNO' needs a condition on a single argument", 0),
            0u)
      << e;
}

// A minimal classic-BPF interpreter for the instructions libseccomp emits, so the filter's
// answer for a foreign architecture can be checked even on kernels without IA-32 emulation.
std::uint32_t run_bpf(std::span<const sock_filter> program, const seccomp_data& data) {
  std::uint32_t a = 0, x = 0;
  std::uint32_t memory[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& insn = program[pc];
    switch (insn.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (insn.k + 4 > sizeof(data)) return 0xdeadbeef;
        std::memcpy(&a, bytes + insn.k, 4);
        break;
      case BPF_LD | BPF_IMM: a = insn.k; break;
      case BPF_LDX | BPF_IMM: x = insn.k; break;
      case BPF_LD | BPF_MEM: a = memory[insn.k % BPF_MEMWORDS]; break;
      case BPF_LDX | BPF_MEM: x = memory[insn.k % BPF_MEMWORDS]; break;
      case BPF_ST: memory[insn.k % BPF_MEMWORDS] = a; break;
      case BPF_STX: memory[insn.k % BPF_MEMWORDS] = x; break;
      case BPF_ALU | BPF_AND | BPF_K: a &= insn.k; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= insn.k; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_JMP | BPF_JA: pc += insn.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += (a == insn.k) ? insn.jt : insn.jf; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += (a > insn.k) ? insn.jt : insn.jf; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += (a >= insn.k) ? insn.jt : insn.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & insn.k) ? insn.jt : insn.jf; break;
      case BPF_RET | BPF_K: return insn.k;
      case BPF_RET | BPF_A: return a;
      default: return 0xdeadbeef;  // an instruction this interpreter does not know
    }
  }
  return 0xdeadbeef;
}

TEST(PolicyBehaviour, ForeignArchitectureSyscallKillsProcess) {
  auto parsed = parse("t.policy", std::string(kBase) + "getpid: 1\n", IncludeResolver{});
  ASSERT_TRUE(parsed.ok());
  auto compiled = compile(*parsed);
  ASSERT_TRUE(compiled.ok());
  seccomp_data native{};
  native.nr = SYS_getpid;
  native.arch = AUDIT_ARCH_X86_64;
  EXPECT_EQ(run_bpf(compiled->bpf, native), SECCOMP_RET_ALLOW);
  // getpid through the i386 entry point (number 20 there): the filter sees AUDIT_ARCH_I386.
  seccomp_data foreign = native;
  foreign.nr = 20;
  foreign.arch = AUDIT_ARCH_I386;
  EXPECT_EQ(run_bpf(compiled->bpf, foreign), SECCOMP_RET_KILL_PROCESS);
  // x32 system calls (bit 30 set) on x86_64 are refused too.
  seccomp_data x32 = native;
  x32.nr = SYS_getpid | 0x40000000;
  EXPECT_EQ(run_bpf(compiled->bpf, x32) & SECCOMP_RET_ACTION_FULL, SECCOMP_RET_KILL_PROCESS);
}

TEST(PolicyInstall, RefusesWithoutNoNewPrivs) {
  auto parsed = parse("t.policy", "exit_group: 1\n", IncludeResolver{});
  ASSERT_TRUE(parsed.ok());
  auto compiled = compile(*parsed);
  ASSERT_TRUE(compiled.ok());
  fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) _exit(2);
    auto r = install_filter(compiled->bpf);
    // Still unconfined: getuid works.
    _exit(!r.ok() && getuid() == getuid() ? 7 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(exited_with(status, 7)) << status;
}

TEST(PolicyInstall, RefusesEmptyFilter) {
  EXPECT_FALSE(install_filter({}).ok());
}

TEST(EmbeddedPolicies, FindPolicyReturnsNullForUnknownRole) {
  EXPECT_EQ(find_policy("no-such-role"), nullptr);
  for (const EmbeddedPolicy& p : embedded_policies()) {
    EXPECT_EQ(find_policy(p.role), &p);
    EXPECT_FALSE(p.filter.empty());
    EXPECT_FALSE(p.pfc.empty());
  }
}

// Regression (fuzz/crashes/fuzz_policy_parser): libseccomp looped for minutes on this.
TEST(PolicyCompiler, SeveralRulesOverSeveralArgumentsAreRefusedInsteadOfHanging) {
  auto parsed = parse("t.policy", "kill: arg0 != 9 && arg1 != -2\n", IncludeResolver{});
  ASSERT_TRUE(parsed.ok());
  auto compiled = compile(*parsed);
  ASSERT_FALSE(compiled.ok());
  EXPECT_NE(compiled.error().message.find("t.policy:1:"), std::string::npos)
      << compiled.error().message;
  // One conjunction over two arguments is fine.
  auto single = parse("t.policy", "kill: arg0 == 9 && arg1 == 2\n", IncludeResolver{});
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(compile(*single).ok());
}


// (domain, type) pairs: several rules over two arguments, exact and masked equalities only,
// which libseccomp 2.5.4 merges at once (the monitor's socket rule). Timed in a child, so a
// regression to the hang fails instead of stalling the suite.
TEST(PolicyCompiler, PairsOfExactAndMaskedTestsOverTwoArgumentsCompile) {
  const char* text =
      "socket: arg0 == AF_INET && arg1 & SOCK_STREAM && arg1 in SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"
      " || arg0 == AF_INET6 && arg1 & SOCK_STREAM && arg1 in SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"
      " || arg0 == AF_UNIX && arg1 == SOCK_SEQPACKET\n";
  fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(10);
    auto parsed = parse("t.policy", text, IncludeResolver{});
    _exit(parsed.ok() && compile(*parsed).ok() ? 7 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(exited_with(status, 7)) << status;
  const char* policy =
      "exit_group: 1\n"
      "socket: arg0 == 1000 && arg1 & 1 && arg1 in 1|0x800 || arg0 == 1001 && arg1 == 2\n";
  // Each pair is allowed (EAFNOSUPPORT from the kernel), its crossings are not.
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_socket, 1000, 1) == -1 && sys(SYS_socket, 1000, 0x801) == -1 &&
                   sys(SYS_socket, 1001, 2) == -1 && errno == EAFNOSUPPORT
               ? 7
               : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_socket, 1000, 2) + 7; })));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_socket, 1001, 1) + 7; })));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_socket, 1000, 3) + 7; })));
}

// libseccomp 2.5.4 compiles SCMP_CMP_GE 0x100000000 so that it also matches 0xffffffff; the
// compiler never hands it a range comparison (masked blocks instead).
TEST(PolicyBehaviour, RangesAcrossThe32BitBoundaryAreExact) {
  const char* policy = "exit_group: 1\nclose: arg0 >= 0x100000000 || arg0 <= 5\n";
  auto parsed = parse_text(policy);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto compiled = compile(*parsed);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  EXPECT_EQ(compiled->pfc.find(" >"), std::string::npos) << compiled->pfc;
  EXPECT_EQ(compiled->pfc.find(" <"), std::string::npos) << compiled->pfc;
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    // Allowed (the kernel truncates the descriptor to 32 bits; only surviving matters here).
    sys(SYS_close, static_cast<long>(0x100000000ULL));
    sys(SYS_close, 0x7fffffffffffffffL);
    sys(SYS_close, -1);
    sys(SYS_close, 5);
    return 7;
  }), 7));
  for (const long fd : {0xffffffffL, 6L, 1000000L, 0xfffffffeL}) {
    EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [fd] { return (int)sys(SYS_close, fd) + 7; })))
        << fd;
  }
}

// ------------------------------------------------------------------ @denylist policies

TEST(PolicyParser, DenylistDirectiveAndTrapAction) {
  auto r = parse_text("# a floor\n@denylist\nptrace: trap\nkeyctl: return ENOSYS\n"
                      "setns: arg1 == CLONE_NEWNET\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->denylist);
  ASSERT_EQ(r->rules.size(), 3u);
  EXPECT_EQ(r->rules[0].kind, RuleKind::kTrap);
  EXPECT_EQ(r->rules[1].kind, RuleKind::kErrno);
  EXPECT_EQ(r->rules[2].kind, RuleKind::kConditional);
  EXPECT_FALSE(parse_text("read: 1\n")->denylist);
}

TEST(PolicyParser, DenylistMustComeFirstInTheTopLevelFile) {
  EXPECT_EQ(parse_error("read: 1\n@denylist\n"),
            "main.policy:2: @denylist must be the first statement of the top-level file");
  Files files;
  files.files["inner.policy"] = "@denylist\nptrace: trap\n";
  EXPECT_EQ(parse_error("@include inner.policy\n", &files),
            "inner.policy:1: @denylist must be the first statement of the top-level file");
  EXPECT_EQ(parse_error("@include inner.policy\n@denylist\n", &files),
            "inner.policy:1: @denylist must be the first statement of the top-level file");
  EXPECT_NE(parse_error("@denylist\n@denylist\nptrace: trap\n").find("main.policy:2:"),
            std::string::npos);
}

TEST(PolicyParser, AllowInADenylistAndTrapInAnAllowlistAreRefused) {
  EXPECT_NE(parse_error("@denylist\nread: 1\n").find("main.policy:2: 'read: 1' in a @denylist"),
            std::string::npos);
  EXPECT_NE(parse_error("ptrace: trap\n").find("main.policy:1: 'ptrace: trap' in an allowlist"),
            std::string::npos);
  EXPECT_NE(parse_error("@denylist\nptrace: trap now\n").find("main.policy:2:"), std::string::npos);
}

TEST(PolicyCompiler, DenylistCountsAndDefaultAllow) {
  auto parsed = parse_text("@denylist\nptrace: trap\nbpf: trap\nkeyctl: return ENOSYS\n"
                           "personality: arg0 == 0xffffffff\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto compiled = compile(*parsed);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  EXPECT_TRUE(compiled->denylist);
  EXPECT_EQ(compiled->trapped_syscalls, 3u);
  EXPECT_EQ(compiled->errno_syscalls, 1u);
  EXPECT_EQ(compiled->allowed_syscalls, 0u);
  EXPECT_NE(compiled->pfc.find("action ALLOW;"), std::string::npos) << compiled->pfc;
}

TEST(PolicyCompiler, DenylistConditionsTestOneArgumentAndMustDenySomething) {
  EXPECT_NE(compile_error("@denylist\nkill: arg0 == 1 && arg1 == 9\n").find("single argument"),
            std::string::npos);
  EXPECT_NE(compile_error("@denylist\nclose: arg0 <= 0xffffffffffffffff\n").find("always true"),
            std::string::npos);
  EXPECT_NE(compile_error("@denylist\nclose: arg0 == 1 && arg0 == 2\n").find("never be true"),
            std::string::npos);
}

TEST(PolicyBehaviour, DenylistAllowsWhatItDoesNotName) {
  const char* policy = "@denylist\ngetppid: trap\ngetuid: return EPERM\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_getpid) > 0 && sys(SYS_getgid) >= 0 && sys(SYS_getuid) == -1 && errno == EPERM ? 7 : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_getppid); })));
}

TEST(PolicyBehaviour, DenylistConditionTrapsWhenItDoesNotHold) {
  const char* policy = "@denylist\nclose: arg0 == 1000 || arg0 >= 2000\n"
                       "dup: arg0 in 0x0f; return EACCES\n";
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_close, 1000) == -1 && errno == EBADF && sys(SYS_close, 5000) == -1 &&
                   sys(SYS_dup, 0x10) == -1 && errno == EACCES && sys(SYS_dup, 0x0e) == -1 &&
                   errno == EBADF
               ? 7
               : 1;
  }), 7));
  EXPECT_TRUE(killed_by_sigsys(run_confined(policy, [] { return (int)sys(SYS_close, 1500) + 7; })));
  // All 64 bits: a bit above the low half is outside 0x0f.
  EXPECT_TRUE(exited_with(run_confined(policy, [] {
    return sys(SYS_dup, static_cast<long>(0x1'0000'000eULL)) == -1 && errno == EACCES ? 7 : 1;
  }), 7));
}

TEST(PolicyInstall, FloorPolicyNeedsADenylist) {
  for (const EmbeddedPolicy& p : embedded_policies()) {
    if (p.denylist) continue;
    auto r = install_floor_policy(p);  // refused before any syscall: nothing is installed here
    ASSERT_FALSE(r.ok()) << p.role;
    EXPECT_NE(r.error().message.find("allowlist"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace wftpd::policy
