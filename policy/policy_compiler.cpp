// Policy language (a subset of minijail's syntax):
//
//   # comment (whole line or trailing)
//   @include fragments/base.policy      relative to the including file's directory
//   read: 1                             allow
//   ptrace: return EPERM                fail with an errno (name or 1..4095)
//   fcntl: arg1 == F_GETFL || arg1 == F_SETFL && arg2 in O_NONBLOCK|O_CLOEXEC
//   socket: arg0 == AF_UNIX; return EACCES   allowed when the expression holds,
//                                            otherwise the errno (instead of kill)
//
// A policy whose first statement is `@denylist` (minijail's directive) is a deny list: every
// syscall it does not name is allowed. Its rules say what is denied:
//   ptrace: trap                        always trapped (SIGSYS, as an allowlist's default)
//   keyctl: return ENOSYS               always fails with the errno
//   setns: arg1 == CLONE_NEWNET         allowed when the expression holds, otherwise trapped
//                                       (or `; return ERRNO`: otherwise the errno)
// `SYSCALL: 1` is refused in a deny list (it would say nothing) and `trap` in an allowlist.
//
// An expression is conjunctions (`&&`) joined by `||`; a comparison is
// `argN OP VALUE`, N in 0..5, OP one of == != < <= > >= & in. `&` holds when
// (argN & VALUE) != 0, `in` when argN has no bit outside VALUE. VALUE is a number
// (decimal, 0x hex, leading-0 octal, optional leading '-'), a named constant, or
// several joined by '|'; a leading '~' complements the whole (64-bit) value.
//
// Compilation strategy. libseccomp rules are conjunctions in which each argument
// appears at most once, so every alternative is first normalised per argument:
//   * ==, !=, <, <=, >, >= are intersected as sets of 64-bit intervals, then each
//     interval becomes EQ for a point, otherwise masked-equality tests over power-of-two
//     aligned blocks (never libseccomp's LE/GE: see intervals_to_cmps);
//   * bit tests (`&` expanded one alternative per bit, `in` = MASKED_EQ(~V, 0))
//     are merged into a single masked equality.
// The `; return ERRNO` fallback is compiled as the exact complement of the
// expression (negated and re-expanded into normalised alternatives), so ALLOW and
// ERRNO rules never overlap and libseccomp's rule ordering cannot matter. It is
// only accepted when the whole condition tests one argument: libseccomp 2.5.4
// hangs merging mixed-action rules over several arguments.
#include "policy/policy_compiler.hpp"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "policy/policy_constants.hpp"

namespace wftpd::policy {

std::string to_string(const Location& where) {
  return where.file + ":" + std::to_string(where.line);
}

namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

Error error_at(const Location& where, std::string_view what) {
  std::string text = to_string(where);
  text += ": ";
  text += what;
  return make_error(std::move(text));
}

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

// Printable text for diagnostics (never echo raw control bytes).
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

// ---------------------------------------------------------------- tokenizer

enum class Tok { kIdent, kNumber, kOp, kEnd };
struct Token {
  Tok type = Tok::kEnd;
  std::string_view text;
};

Result<std::vector<Token>> tokenize(std::string_view s, const Location& where) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    std::size_t j = i;
    if (is_ident_start(c)) {
      while (j < s.size() && is_ident_char(s[j])) ++j;
      out.push_back({Tok::kIdent, s.substr(i, j - i)});
    } else if ((c >= '0' && c <= '9') ||
               (c == '-' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      ++j;
      while (j < s.size() && is_ident_char(s[j])) ++j;
      out.push_back({Tok::kNumber, s.substr(i, j - i)});
    } else {
      static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "&&", "||",
                                                  "<",  ">",  "&",  "|",  "~",  ";"};
      bool matched = false;
      for (std::string_view op : kOps) {
        if (s.substr(i, op.size()) == op) {
          out.push_back({Tok::kOp, s.substr(i, op.size())});
          j = i + op.size();
          matched = true;
          break;
        }
      }
      if (!matched) {
        return error_at(where, "unexpected character '" + printable(s.substr(i, 1)) + "'");
      }
    }
    i = j;
  }
  out.push_back({Tok::kEnd, {}});
  return out;
}

Result<std::uint64_t> parse_number(std::string_view text, const Location& where) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && digits.front() == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  unsigned base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
    digits.remove_prefix(1);
  }
  if (digits.empty()) return error_at(where, "invalid number '" + printable(text) + "'");
  std::uint64_t value = 0;
  for (char c : digits) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      d = 99;
    }
    if (d >= base) return error_at(where, "invalid number '" + printable(text) + "'");
    if (value > (kMax64 - d) / base) {
      return error_at(where, "number '" + printable(text) + "' does not fit in 64 bits");
    }
    value = value * base + d;
  }
  if (negative) {
    if (value > (std::uint64_t{1} << 63)) {
      return error_at(where, "number '" + printable(text) + "' does not fit in 64 bits");
    }
    value = ~value + 1;  // two's complement, as the kernel sees a negative long
  }
  return value;
}

class TokenStream {
 public:
  TokenStream(std::vector<Token> tokens, Location where)
      : tokens_(std::move(tokens)), where_(std::move(where)) {}

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() {
    const Token& t = tokens_[pos_];
    if (t.type != Tok::kEnd) ++pos_;
    return t;
  }
  bool accept_op(std::string_view op) {
    if (peek().type == Tok::kOp && peek().text == op) {
      ++pos_;
      return true;
    }
    return false;
  }
  Error unexpected(std::string_view expected) const {
    const Token& t = peek();
    std::string got = t.type == Tok::kEnd ? "end of line" : "'" + printable(t.text) + "'";
    return error_at(where_, "expected " + std::string(expected) + ", got " + got);
  }
  const Location& where() const { return where_; }

 private:
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  Location where_;
};

Result<std::uint64_t> parse_atom(TokenStream& ts) {
  const Token& t = ts.peek();
  if (t.type == Tok::kNumber) {
    ts.next();
    return parse_number(t.text, ts.where());
  }
  if (t.type == Tok::kIdent) {
    ts.next();
    if (auto v = lookup_constant(t.text)) return *v;
    return error_at(ts.where(), "unknown constant '" + printable(t.text) + "'");
  }
  return ts.unexpected("a number or a constant name");
}

Result<std::uint64_t> parse_value(TokenStream& ts) {
  const bool invert = ts.accept_op("~");
  auto first = parse_atom(ts);
  if (!first) return first.error();
  std::uint64_t value = *first;
  while (ts.accept_op("|")) {
    auto more = parse_atom(ts);
    if (!more) return more.error();
    value |= *more;
  }
  return invert ? ~value : value;
}

Result<Comparison> parse_comparison(TokenStream& ts) {
  const Token& arg = ts.peek();
  if (arg.type != Tok::kIdent || arg.text.size() != 4 || arg.text.substr(0, 3) != "arg" ||
      arg.text[3] < '0' || arg.text[3] > '5') {
    return ts.unexpected("argN with N in 0..5");
  }
  ts.next();
  Comparison cmp;
  cmp.arg = static_cast<unsigned>(arg.text[3] - '0');
  const Token& op = ts.peek();
  static constexpr std::pair<std::string_view, CmpOp> kOps[] = {
      {"==", CmpOp::kEq}, {"!=", CmpOp::kNe}, {"<", CmpOp::kLt},      {"<=", CmpOp::kLe},
      {">", CmpOp::kGt},  {">=", CmpOp::kGe}, {"&", CmpOp::kAnyBits}, {"in", CmpOp::kIn}};
  bool found = false;
  if (op.type == Tok::kOp || op.type == Tok::kIdent) {
    for (const auto& [text, kind] : kOps) {
      if (op.text == text) {
        cmp.op = kind;
        found = true;
      }
    }
  }
  if (!found) return ts.unexpected("a comparison operator (== != < <= > >= & in)");
  ts.next();
  auto value = parse_value(ts);
  if (!value) return value.error();
  cmp.value = *value;
  if (cmp.op == CmpOp::kAnyBits && cmp.value == 0) {
    return error_at(ts.where(), "'arg" + std::to_string(cmp.arg) + " & 0' can never be true");
  }
  return cmp;
}

Result<int> parse_errno(TokenStream& ts) {
  const Token& t = ts.peek();
  if (t.type == Tok::kIdent) {
    ts.next();
    if (auto e = lookup_errno(t.text)) return *e;
    return error_at(ts.where(), "unknown errno name '" + printable(t.text) + "'");
  }
  if (t.type == Tok::kNumber) {
    ts.next();
    auto v = parse_number(t.text, ts.where());
    if (!v) return v.error();
    if (*v < 1 || *v > 4095) {
      return error_at(ts.where(), "errno value must be in 1..4095");
    }
    return static_cast<int>(*v);
  }
  return ts.unexpected("an errno name or number after 'return'");
}

Result<int> parse_return(TokenStream& ts) {
  const Token& t = ts.next();
  if (t.type != Tok::kIdent || t.text != "return") return error_at(ts.where(), "expected 'return'");
  auto e = parse_errno(ts);
  if (!e) return e;
  if (ts.peek().type != Tok::kEnd) return ts.unexpected("end of line");
  return e;
}

// Parses the action part of "SYSCALL: ACTION" into `rule`.
Result<void> parse_action(std::string_view text, Rule& rule) {
  auto tokens = tokenize(text, rule.where);
  if (!tokens) return tokens.error();
  TokenStream ts(std::move(*tokens), rule.where);
  const Token& first = ts.peek();
  if (first.type == Tok::kNumber) {
    ts.next();
    if (first.text != "1") {
      return error_at(rule.where, "expected '1', 'return ERRNO' or an expression");
    }
    if (ts.peek().type != Tok::kEnd) return ts.unexpected("end of line after '1'");
    rule.kind = RuleKind::kAllow;
    return {};
  }
  if (first.type == Tok::kIdent && first.text == "trap") {
    ts.next();
    if (ts.peek().type != Tok::kEnd) return ts.unexpected("end of line after 'trap'");
    rule.kind = RuleKind::kTrap;
    return {};
  }
  if (first.type == Tok::kIdent && first.text == "return") {
    auto e = parse_return(ts);
    if (!e) return e.error();
    rule.kind = RuleKind::kErrno;
    rule.errno_value = *e;
    return {};
  }
  rule.kind = RuleKind::kConditional;
  for (;;) {
    Conjunction conj;
    for (;;) {
      auto cmp = parse_comparison(ts);
      if (!cmp) return cmp.error();
      conj.push_back(*cmp);
      if (conj.size() > 64) return error_at(rule.where, "too many comparisons joined by '&&'");
      if (!ts.accept_op("&&")) break;
    }
    rule.condition.push_back(std::move(conj));
    if (rule.condition.size() > kMaxAlternatives) {
      return error_at(rule.where, "too many alternatives joined by '||'");
    }
    if (!ts.accept_op("||")) break;
  }
  if (ts.accept_op(";")) {
    auto e = parse_return(ts);
    if (!e) return e.error();
    rule.errno_value = *e;
    return {};
  }
  if (ts.peek().type != Tok::kEnd) return ts.unexpected("'&&', '||', ';' or end of line");
  return {};
}

// ---------------------------------------------------------------- file parser

class Parser {
 public:
  explicit Parser(const IncludeResolver& resolver) : resolver_(resolver) {}

  Result<void> parse_text(const std::string& name, std::string_view text, int depth) {
    stack_.push_back(name);
    ++files_read_;
    unsigned line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      const std::string_view raw = text.substr(pos, eol - pos);
      pos = eol + 1;
      ++line_no;
      const Location where{name, line_no};
      if (raw.size() > kMaxLineLength) {
        return error_at(where, "line longer than " + std::to_string(kMaxLineLength) + " bytes");
      }
      for (char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) {
          return error_at(where, "control character in policy text");
        }
      }
      std::string_view line = raw;
      if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
      line = trim(line);

      if (line.starts_with("@include")) {
        ++statements_;
        auto r = handle_include(where, raw, line, depth);
        if (!r) return r;
        continue;
      }
      append_source(raw);
      append_source("\n");
      if (line.empty()) continue;
      if (line == "@denylist") {
        // Only as the first statement of the top-level file: a fragment cannot turn the
        // policy that includes it inside out.
        if (depth != 0 || !out_.rules.empty() || statements_ != 0) {
          return error_at(where, "@denylist must be the first statement of the top-level file");
        }
        out_.denylist = true;
        ++statements_;
        continue;
      }
      ++statements_;
      if (auto r = handle_rule(where, line); !r) return r;
      if (out_.expanded_source.size() > kMaxExpandedSize) {
        return error_at(where, "expanded policy larger than " +
                                   std::to_string(kMaxExpandedSize) + " bytes");
      }
    }
    stack_.pop_back();
    return {};
  }

  ParsedPolicy take() { return std::move(out_); }

 private:
  void append_source(std::string_view s) { out_.expanded_source.append(s); }

  Result<void> handle_include(const Location& where, std::string_view raw, std::string_view line,
                              int depth) {
    std::string_view rest = line.substr(std::string_view("@include").size());
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') {
      return error_at(where, "unknown directive '" + printable(line) + "'");
    }
    rest = trim(rest);
    if (rest.empty()) return error_at(where, "@include needs a path");
    if (rest.find_first_of(" \t") != std::string_view::npos) {
      return error_at(where, "@include takes exactly one path");
    }
    if (rest.front() == '/') {
      return error_at(where, "@include path must be relative to the including file");
    }
    const std::filesystem::path parent = std::filesystem::path(where.file).parent_path();
    const std::string target = (parent / std::string(rest)).lexically_normal().string();
    if (depth + 1 > kMaxIncludeDepth) {
      return error_at(where, "includes nested deeper than " + std::to_string(kMaxIncludeDepth));
    }
    if (std::find(stack_.begin(), stack_.end(), target) != stack_.end()) {
      std::string chain;
      for (const auto& f : stack_) chain += f + " -> ";
      chain += target;
      return error_at(where, "include cycle: " + chain);
    }
    if (files_read_ >= kMaxFiles) {
      return error_at(where, "more than " + std::to_string(kMaxFiles) + " files included");
    }
    auto text = resolver_ ? resolver_(target) : Result<std::string>(make_error("no include resolver"));
    if (!text) {
      return error_at(where, "cannot include '" + target + "': " + text.error().message);
    }
    if (text->size() > kMaxFileSize) {
      return error_at(where, "included file '" + target + "' is larger than 1 MiB");
    }
    append_source("# ");
    append_source(trim(raw));
    append_source("\n# ---- begin " + target + " ----\n");
    if (auto r = parse_text(target, *text, depth + 1); !r) return r;
    if (!out_.expanded_source.empty() && out_.expanded_source.back() != '\n') append_source("\n");
    append_source("# ---- end " + target + " ----\n");
    return {};
  }

  Result<void> handle_rule(const Location& where, std::string_view line) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return error_at(where, "expected 'SYSCALL: ACTION' or '@include PATH'");
    }
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view action = trim(line.substr(colon + 1));
    if (name.empty() || name.size() > 64 ||
        !std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        })) {
      return error_at(where, "invalid syscall name '" + printable(name) + "'");
    }
    if (action.empty()) return error_at(where, "missing action after ':'");
    Rule rule;
    rule.syscall = std::string(name);
    rule.where = where;
    rule.number = seccomp_syscall_resolve_name(rule.syscall.c_str());
    if (rule.number == __NR_SCMP_ERROR) {
      return error_at(where, "unknown syscall '" + rule.syscall + "'");
    }
    if (rule.number < 0) {
      return error_at(where, "syscall '" + rule.syscall + "' does not exist on this architecture");
    }
    if (auto it = seen_.find(rule.number); it != seen_.end()) {
      return error_at(where, "syscall '" + rule.syscall + "' already listed at " +
                                 to_string(it->second));
    }
    if (auto r = parse_action(action, rule); !r) return r;
    if (out_.denylist && rule.kind == RuleKind::kAllow) {
      return error_at(where, "'" + rule.syscall + ": 1' in a @denylist policy: every syscall it "
                             "does not list is allowed already");
    }
    if (!out_.denylist && rule.kind == RuleKind::kTrap) {
      return error_at(where, "'" + rule.syscall + ": trap' in an allowlist: every syscall it does "
                             "not list traps already");
    }
    seen_.emplace(rule.number, where);
    out_.rules.push_back(std::move(rule));
    return {};
  }

  const IncludeResolver& resolver_;
  ParsedPolicy out_;
  std::vector<std::string> stack_;
  std::size_t files_read_ = 0;
  std::size_t statements_ = 0;  // non-empty lines seen, includes excepted (for @denylist)
  std::map<int, Location> seen_;
};

// ---------------------------------------------------------------- compiler

// A normalised atomic condition on one argument.
enum class AtomOp { kEq, kNe, kLt, kLe, kGt, kGe, kMasked /* (arg & mask) == value */ };
struct Atom {
  unsigned arg = 0;
  AtomOp op = AtomOp::kEq;
  std::uint64_t mask = 0;
  std::uint64_t value = 0;
};
using AtomConj = std::vector<Atom>;
using AtomDnf = std::vector<AtomConj>;

// Source comparison -> disjunction of atoms.
std::vector<Atom> to_atoms(const Comparison& c) {
  switch (c.op) {
    case CmpOp::kEq: return {{c.arg, AtomOp::kEq, 0, c.value}};
    case CmpOp::kNe: return {{c.arg, AtomOp::kNe, 0, c.value}};
    case CmpOp::kLt: return {{c.arg, AtomOp::kLt, 0, c.value}};
    case CmpOp::kLe: return {{c.arg, AtomOp::kLe, 0, c.value}};
    case CmpOp::kGt: return {{c.arg, AtomOp::kGt, 0, c.value}};
    case CmpOp::kGe: return {{c.arg, AtomOp::kGe, 0, c.value}};
    case CmpOp::kIn: return {{c.arg, AtomOp::kMasked, ~c.value, 0}};
    case CmpOp::kAnyBits: {
      std::vector<Atom> out;
      for (unsigned bit = 0; bit < 64; ++bit) {
        const std::uint64_t b = std::uint64_t{1} << bit;
        if (c.value & b) out.push_back({c.arg, AtomOp::kMasked, b, b});
      }
      return out;
    }
  }
  return {};
}

// Negation of an atom, as a disjunction of atoms (empty = false).
std::vector<Atom> negate(const Atom& a) {
  switch (a.op) {
    case AtomOp::kEq: return {{a.arg, AtomOp::kNe, 0, a.value}};
    case AtomOp::kNe: return {{a.arg, AtomOp::kEq, 0, a.value}};
    case AtomOp::kLt: return {{a.arg, AtomOp::kGe, 0, a.value}};
    case AtomOp::kLe: return {{a.arg, AtomOp::kGt, 0, a.value}};
    case AtomOp::kGt: return {{a.arg, AtomOp::kLe, 0, a.value}};
    case AtomOp::kGe: return {{a.arg, AtomOp::kLt, 0, a.value}};
    case AtomOp::kMasked: {
      // (x & m) != v  <=>  some bit of m differs from v.
      std::vector<Atom> out;
      for (unsigned bit = 0; bit < 64; ++bit) {
        const std::uint64_t b = std::uint64_t{1} << bit;
        if (a.mask & b) out.push_back({a.arg, AtomOp::kMasked, b, ~a.value & b});
      }
      return out;
    }
  }
  return {};
}

// Product of a DNF with a disjunction of atoms.
Result<AtomDnf> and_with(const AtomDnf& dnf, const std::vector<Atom>& any_of, const Location& where) {
  AtomDnf out;
  for (const auto& conj : dnf) {
    for (const auto& atom : any_of) {
      if (out.size() >= 16 * kMaxAlternatives) {
        return error_at(where, "condition expands to too many alternatives");
      }
      AtomConj c = conj;
      c.push_back(atom);
      out.push_back(std::move(c));
    }
  }
  return out;
}

Result<AtomDnf> expand(const std::vector<Conjunction>& condition, const Location& where) {
  AtomDnf out;
  for (const auto& conj : condition) {
    AtomDnf partial{AtomConj{}};
    for (const auto& cmp : conj) {
      auto next = and_with(partial, to_atoms(cmp), where);
      if (!next) return next;
      partial = std::move(*next);
    }
    out.insert(out.end(), partial.begin(), partial.end());
    if (out.size() > 16 * kMaxAlternatives) {
      return error_at(where, "condition expands to too many alternatives");
    }
  }
  return out;
}

using Intervals = std::vector<std::pair<std::uint64_t, std::uint64_t>>;  // sorted, closed

Intervals atom_intervals(const Atom& a) {
  const std::uint64_t v = a.value;
  switch (a.op) {
    case AtomOp::kEq: return {{v, v}};
    case AtomOp::kNe: {
      Intervals out;
      if (v > 0) out.emplace_back(0, v - 1);
      if (v < kMax64) out.emplace_back(v + 1, kMax64);
      return out;
    }
    case AtomOp::kLt: return v == 0 ? Intervals{} : Intervals{{0, v - 1}};
    case AtomOp::kLe: return {{0, v}};
    case AtomOp::kGt: return v == kMax64 ? Intervals{} : Intervals{{v + 1, kMax64}};
    case AtomOp::kGe: return {{v, kMax64}};
    case AtomOp::kMasked: break;
  }
  return {{0, kMax64}};
}

Intervals intersect(const Intervals& a, const Intervals& b) {
  Intervals out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const std::uint64_t lo = std::max(a[i].first, b[j].first);
    const std::uint64_t hi = std::min(a[i].second, b[j].second);
    if (lo <= hi) out.emplace_back(lo, hi);
    if (a[i].second < b[j].second) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

scmp_arg_cmp make_cmp(unsigned arg, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
  scmp_arg_cmp c{};
  c.arg = arg;
  c.op = op;
  c.datum_a = a;
  c.datum_b = b;
  return c;
}

// Turns an interval set into a disjunction of single comparisons on `arg`.
// Returns nullopt when the set is everything (no constraint needed).
//
// SECURITY: only SCMP_CMP_EQ and SCMP_CMP_MASKED_EQ are emitted, never libseccomp's LE/GE/LT/GT:
// libseccomp 2.5.4 compiles some 64-bit range comparisons wrongly (SCMP_CMP_GE 0x100000000
// also matches 0xffffffff, found while building the listener's deny list; a unit test keeps
// the compiler honest). Every interval is covered by power-of-two aligned blocks instead, each
// one masked equality: at most 2 x 64 per interval.
Result<std::optional<std::vector<scmp_arg_cmp>>> intervals_to_cmps(const Intervals& set, unsigned arg,
                                                                  const Location& where) {
  if (set.size() == 1 && set[0].first == 0 && set[0].second == kMax64) {
    return std::optional<std::vector<scmp_arg_cmp>>{};
  }
  std::vector<scmp_arg_cmp> out;
  for (auto [lo, hi] : set) {
    for (;;) {
      // The largest block that starts at lo (aligned to its size) and ends at or before hi.
      unsigned shift = lo == 0 ? 63 : static_cast<unsigned>(std::countr_zero(lo));
      while (shift > 0 && (hi - lo) < ((std::uint64_t{1} << shift) - 1)) --shift;
      const std::uint64_t size_minus_1 = (std::uint64_t{1} << shift) - 1;
      if (size_minus_1 == 0) {
        out.push_back(make_cmp(arg, SCMP_CMP_EQ, lo));
      } else {
        out.push_back(make_cmp(arg, SCMP_CMP_MASKED_EQ, ~size_minus_1, lo));
      }
      if (out.size() > kMaxAlternatives) {
        return error_at(where, "range comparisons on arg" + std::to_string(arg) +
                                   " expand to too many alternatives");
      }
      if (hi - lo <= size_minus_1) break;
      lo += size_minus_1 + 1;
    }
  }
  return std::optional<std::vector<scmp_arg_cmp>>(std::move(out));
}

using Alternative = std::vector<scmp_arg_cmp>;

// Normalises a conjunction of atoms into libseccomp rules (each argument at most
// once per rule). An empty result means the conjunction can never hold.
Result<std::vector<Alternative>> normalize(const AtomConj& conj, const Location& where) {
  std::vector<Alternative> result{Alternative{}};
  for (unsigned arg = 0; arg < 6; ++arg) {
    Intervals ranges{{0, kMax64}};
    bool has_range = false;
    bool has_mask = false;
    std::uint64_t mask = 0;
    std::uint64_t value = 0;
    for (const auto& a : conj) {
      if (a.arg != arg) continue;
      if (a.op == AtomOp::kMasked) {
        if ((a.value & ~a.mask) != 0) return std::vector<Alternative>{};  // never true
        const std::uint64_t common = mask & a.mask;
        if ((value & common) != (a.value & common)) return std::vector<Alternative>{};
        mask |= a.mask;
        value |= a.value;
        has_mask = true;
      } else {
        ranges = intersect(ranges, atom_intervals(a));
        has_range = true;
      }
    }
    if (!has_range && !has_mask) continue;
    std::vector<scmp_arg_cmp> options;
    if (has_range && has_mask) {
      // Only a handful of exact values can be combined with bit tests.
      std::size_t points = 0;
      for (auto [lo, hi] : ranges) {
        if (lo != hi || ++points > 64) {
          return error_at(where, "cannot combine bit tests (& / in) with range comparisons on arg" +
                                     std::to_string(arg) + " in one alternative");
        }
        if ((lo & mask) == value) options.push_back(make_cmp(arg, SCMP_CMP_EQ, lo));
      }
    } else if (has_mask) {
      if (mask != 0) options.push_back(make_cmp(arg, SCMP_CMP_MASKED_EQ, mask, value));
      else continue;  // (x & 0) == 0: always true
    } else {
      auto cmps = intervals_to_cmps(ranges, arg, where);
      if (!cmps) return cmps.error();
      if (!cmps->has_value()) continue;
      options = std::move(**cmps);
    }
    if (options.empty()) return std::vector<Alternative>{};
    std::vector<Alternative> next;
    for (const auto& alt : result) {
      for (const auto& opt : options) {
        if (next.size() >= kMaxAlternatives) {
          return error_at(where, "condition expands to more than " +
                                     std::to_string(kMaxAlternatives) + " rules");
        }
        Alternative a = alt;
        a.push_back(opt);
        next.push_back(std::move(a));
      }
    }
    result = std::move(next);
  }
  return result;
}

using AltKey = std::vector<std::uint64_t>;
AltKey key_of(const Alternative& alt) {
  AltKey k;
  for (const auto& c : alt) {
    k.push_back(c.arg);
    k.push_back(static_cast<std::uint64_t>(c.op));
    k.push_back(c.datum_a);
    k.push_back(c.datum_b);
  }
  return k;
}

Result<std::vector<Alternative>> normalize_all(const AtomDnf& dnf, const Location& where) {
  std::vector<Alternative> out;
  std::set<AltKey> seen;
  for (const auto& conj : dnf) {
    auto alts = normalize(conj, where);
    if (!alts) return alts;
    for (auto& alt : *alts) {
      if (alt.empty()) return std::vector<Alternative>{Alternative{}};  // always true
      if (seen.insert(key_of(alt)).second) out.push_back(std::move(alt));
      if (out.size() > kMaxAlternatives) {
        return error_at(where, "condition expands to more than " +
                                   std::to_string(kMaxAlternatives) + " rules");
      }
    }
  }
  return out;
}

Result<AtomDnf> complement(const AtomDnf& dnf, const Location& where) {
  AtomDnf out{AtomConj{}};  // true
  for (const auto& conj : dnf) {
    std::vector<Atom> any_of;
    for (const auto& atom : conj) {
      auto neg = negate(atom);
      any_of.insert(any_of.end(), neg.begin(), neg.end());
    }
    auto next = and_with(out, any_of, where);
    if (!next) return next;
    // Drop contradictory products early to keep the expansion small.
    AtomDnf pruned;
    for (auto& c : *next) {
      auto alts = normalize(c, where);
      if (!alts || !alts->empty()) pruned.push_back(std::move(c));
    }
    out = std::move(pruned);
    if (out.empty()) break;
  }
  return out;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Result<std::string> export_to_string(scmp_filter_ctx ctx, bool bpf) {
  const int fd = memfd_create(bpf ? "wftpd-policy-bpf" : "wftpd-policy-pfc", MFD_CLOEXEC);
  if (fd < 0) return system_error("memfd_create", errno);
  const int rc = bpf ? seccomp_export_bpf(ctx, fd) : seccomp_export_pfc(ctx, fd);
  if (rc < 0) {
    close(fd);
    return make_error(std::string(bpf ? "seccomp_export_bpf" : "seccomp_export_pfc") +
                      " failed: " + std::strerror(-rc));
  }
  std::string out;
  if (lseek(fd, 0, SEEK_SET) != 0) {
    const int err = errno;
    close(fd);
    return system_error("lseek", err);
  }
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return system_error("read", err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

Result<void> add_rules(scmp_filter_ctx ctx, const Rule& rule, std::uint32_t action,
                       const std::vector<Alternative>& alts, std::string_view what) {
  for (std::size_t i = 0; i < alts.size(); ++i) {
    const auto& alt = alts[i];
    const int rc = seccomp_rule_add_array(ctx, action, rule.number,
                                          static_cast<unsigned>(alt.size()),
                                          alt.empty() ? nullptr : alt.data());
    if (rc < 0) {
      return error_at(rule.where, "libseccomp rejected " + std::string(what) + " rule " +
                                      std::to_string(i + 1) + " of " + std::to_string(alts.size()) +
                                      " for '" + rule.syscall + "': " + std::strerror(-rc));
    }
  }
  return {};
}

// One rule of a @denylist policy (default action ALLOW): `trap` and `return ERRNO` deny the
// syscall outright; a condition denies it (trap, or the `; return ERRNO` errno) exactly when the
// condition does not hold. Only deny rules reach libseccomp, one action per syscall, so the
// rule trees it merges never mix actions; the condition must still test a single argument
// (its complement is several rules, and libseccomp 2.5.4 can hang merging rules of one syscall
// over several arguments).
Result<void> add_denylist_rule(scmp_filter_ctx ctx, const Rule& rule) {
  const std::uint32_t deny = rule.errno_value != 0
                                 ? SCMP_ACT_ERRNO(static_cast<std::uint32_t>(rule.errno_value))
                                 : SCMP_ACT_TRAP;
  switch (rule.kind) {
    case RuleKind::kAllow:
      return error_at(rule.where, "'" + rule.syscall + ": 1' in a @denylist policy");
    case RuleKind::kTrap:
    case RuleKind::kErrno:
      return add_rules(ctx, rule, deny, {Alternative{}}, "deny");
    case RuleKind::kConditional:
      break;
  }
  for (const auto& conj : rule.condition) {
    for (const auto& cmp : conj) {
      if (cmp.arg != rule.condition[0][0].arg) {
        return error_at(rule.where, "a @denylist condition must test a single argument; this one "
                                    "tests arg" + std::to_string(rule.condition[0][0].arg) +
                                    " and arg" + std::to_string(cmp.arg));
      }
    }
  }
  auto dnf = expand(rule.condition, rule.where);
  if (!dnf) return dnf.error();
  auto allowed = normalize_all(*dnf, rule.where);
  if (!allowed) return allowed.error();
  if (allowed->empty()) {
    return error_at(rule.where, "condition for '" + rule.syscall + "' can never be true: write '" +
                                    rule.syscall + ": trap'");
  }
  auto rest = complement(*dnf, rule.where);
  if (!rest) return rest.error();
  auto denied = normalize_all(*rest, rule.where);
  if (!denied) return denied.error();
  if (denied->empty()) {
    return error_at(rule.where, "condition for '" + rule.syscall + "' is always true: it denies "
                                    "nothing in a @denylist policy");
  }
  return add_rules(ctx, rule, deny, *denied, "deny");
}

}  // namespace

Result<ParsedPolicy> parse(std::string_view file_name, std::string_view text,
                           const IncludeResolver& resolver) {
  const std::string name = std::filesystem::path(std::string(file_name)).lexically_normal().string();
  if (text.size() > kMaxFileSize) {
    return error_at(Location{name, 0}, "file is larger than 1 MiB");
  }
  Parser parser(resolver);
  if (auto r = parser.parse_text(name, text, 0); !r) return r.error();
  ParsedPolicy out = parser.take();
  out.file = name;
  return out;
}

Result<ParsedPolicy> parse_file(const std::string& path) {
  const auto read = [](const std::string& p) -> Result<std::string> {
    std::ifstream in(p, std::ios::binary);
    if (!in) return system_error("open " + p, errno);
    std::string data;
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      data.append(buf, static_cast<std::size_t>(in.gcount()));
      if (data.size() > kMaxFileSize) return make_error("file is larger than 1 MiB");
    }
    if (in.bad()) return make_error("read error on " + p);
    return data;
  };
  auto text = read(path);
  if (!text) return make_error(path + ":0: " + text.error().message);
  const IncludeResolver resolver = read;
  return parse(path, *text, resolver);
}

Result<CompiledPolicy> compile(const ParsedPolicy& policy) {
  const Location top{policy.file, 0};
  // A forbidden syscall is not run; the kernel sends SIGSYS (SECCOMP_RET_TRAP). The daemon's
  // handler reports the syscall's name and ends the process; without a handler SIGSYS kills.
  // A deny list allows what it does not name; its rules are all traps or errnos.
  Ctx ctx(seccomp_init(policy.denylist ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP));
  if (!ctx) return error_at(top, "seccomp_init failed");
  // A syscall made through a foreign ABI (e.g. i386 int 0x80) kills the process at once.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0) {
    return error_at(top, std::string("seccomp_attr_set(ACT_BADARCH): ") + std::strerror(-rc));
  }
  // CTL_NNP only affects seccomp_load(), which we never call: the BPF is exported
  // and installed by install_filter(), which insists that the daemon has already
  // set PR_SET_NO_NEW_PRIVS itself. Clear it so nobody relies on libseccomp for it.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0) {
    return error_at(top, std::string("seccomp_attr_set(CTL_NNP): ") + std::strerror(-rc));
  }

  for (const Rule& rule : policy.rules) {
    if (policy.denylist) {
      if (auto r = add_denylist_rule(ctx.get(), rule); !r) return r.error();
      continue;
    }
    switch (rule.kind) {
      case RuleKind::kTrap:
        return error_at(rule.where, "'trap' is only meaningful in a @denylist policy");
      case RuleKind::kAllow:
        if (auto r = add_rules(ctx.get(), rule, SCMP_ACT_ALLOW, {Alternative{}}, "allow"); !r) {
          return r.error();
        }
        break;
      case RuleKind::kErrno:
        if (auto r = add_rules(ctx.get(), rule, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(rule.errno_value)),
                               {Alternative{}}, "errno");
            !r) {
          return r.error();
        }
        break;
      case RuleKind::kConditional: {
        auto dnf = expand(rule.condition, rule.where);
        if (!dnf) return dnf.error();
        auto allowed = normalize_all(*dnf, rule.where);
        if (!allowed) return allowed.error();
        if (allowed->empty()) {
          return error_at(rule.where, "condition for '" + rule.syscall + "' can never be true");
        }
        // libseccomp 2.5.4 can loop for minutes merging several rules of one syscall that test
        // different arguments with range comparisons (found by fuzz_policy_parser: "arg0 != 9
        // && arg1 != -2", i.e. LE/GE/EQ rules over two arguments). Such a condition must
        // normalise to a single conjunction, test one argument, or use only exact and masked
        // equalities (==, & and in tests): thousands of random rule sets of that last kind over
        // up to four arguments compiled at once, while about 1% of those with ranges hung.
        // (A '; return ERRNO' rule has its own, stricter check below.)
        if (allowed->size() > 1 && rule.errno_value == 0) {
          std::optional<unsigned> only_arg;
          bool several_arguments = false;
          bool ranges = false;
          for (const auto& alternative : *allowed) {
            for (const auto& cmp : alternative) {
              if (!only_arg) only_arg = cmp.arg;
              several_arguments = several_arguments || cmp.arg != *only_arg;
            }
          }
          for (const auto& conj : rule.condition) {
            for (const auto& cmp : conj) {
              ranges = ranges || (cmp.op != CmpOp::kEq && cmp.op != CmpOp::kAnyBits &&
                                  cmp.op != CmpOp::kIn);
            }
          }
          if (several_arguments && ranges) {
            return error_at(rule.where,
                            "condition for '" + rule.syscall + "' tests several arguments "
                            "with range comparisons and needs " + std::to_string(allowed->size()) +
                            " rules; libseccomp cannot compile that reliably: use one "
                            "conjunction, one argument, or only ==, & and in tests");
          }
        }
        if (auto r = add_rules(ctx.get(), rule, SCMP_ACT_ALLOW, *allowed, "allow"); !r) {
          return r.error();
        }
        if (rule.errno_value != 0) {
          // libseccomp 2.5.4 loops forever merging ALLOW and ERRNO rule trees that
          // test several arguments, so the fallback is limited to one argument.
          for (const auto& conj : rule.condition) {
            for (const auto& cmp : conj) {
              if (cmp.arg != rule.condition[0][0].arg) {
                return error_at(rule.where,
                                "'; return ERRNO' needs a condition on a single argument; "
                                "this one tests arg" + std::to_string(rule.condition[0][0].arg) +
                                " and arg" + std::to_string(cmp.arg));
              }
            }
          }
          auto rest = complement(*dnf, rule.where);
          if (!rest) return rest.error();
          auto denied = normalize_all(*rest, rule.where);
          if (!denied) return denied.error();
          if (auto r = add_rules(ctx.get(), rule,
                                 SCMP_ACT_ERRNO(static_cast<std::uint32_t>(rule.errno_value)),
                                 *denied, "fallback errno");
              !r) {
            return r.error();
          }
        }
        break;
      }
    }
  }

  CompiledPolicy out;
  auto bpf = export_to_string(ctx.get(), true);
  if (!bpf) return error_at(top, bpf.error().message);
  if (bpf->empty() || bpf->size() % sizeof(sock_filter) != 0) {
    return error_at(top, "seccomp_export_bpf produced a malformed program");
  }
  out.bpf.resize(bpf->size() / sizeof(sock_filter));
  std::memcpy(out.bpf.data(), bpf->data(), bpf->size());
  if (out.bpf.size() > BPF_MAXINSNS) {
    return error_at(top, "compiled filter has " + std::to_string(out.bpf.size()) +
                      " instructions, more than the kernel's limit of " +
                      std::to_string(BPF_MAXINSNS));
  }
  auto pfc = export_to_string(ctx.get(), false);
  if (!pfc) return error_at(top, pfc.error().message);
  out.pfc = std::move(*pfc);
  out.source = policy.expanded_source;
  out.denylist = policy.denylist;
  if (policy.denylist) {
    // Syscall names are unique per policy (the parser refuses duplicates).
    for (const Rule& rule : policy.rules) {
      if (rule.kind == RuleKind::kErrno || (rule.kind == RuleKind::kConditional && rule.errno_value != 0)) {
        ++out.errno_syscalls;
      } else {
        ++out.trapped_syscalls;
      }
    }
    return out;
  }
  std::set<std::string> allowed, errno_only;
  for (const Rule& rule : policy.rules) {
    if (rule.kind == RuleKind::kErrno) errno_only.insert(rule.syscall);
    else allowed.insert(rule.syscall);
  }
  for (const auto& name : allowed) errno_only.erase(name);
  out.allowed_syscalls = allowed.size();
  out.errno_syscalls = errno_only.size();
  return out;
}

}  // namespace wftpd::policy
