#include "unpriv/machine_listing.hpp"

#include <array>
#include <charconv>

#include "common/ascii.hpp"
#include "unpriv/listing.hpp"

namespace wftpd {
namespace {

std::string_view type_of(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return "file";
  if (S_ISDIR(st.st_mode)) return "dir";
  if (S_ISLNK(st.st_mode)) return "OS.unix=symlink";
  return "OS.unix=special";
}

// `value` in `base`, lower-case digits, no prefix (like printf's %llu, %llx, %o).
template <class Int>
void append_number(std::string& out, Int value, int base) {
  std::array<char, 24> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, base);
  if (ec == std::errc()) out.append(buffer.data(), end);  // 24 bytes hold any 64-bit number
}

}  // namespace

FactSet parse_mlst_options(std::string_view argument) {
  FactSet facts{false, false, false, false, false, false};
  // Bounded by the argument's length: each turn consumes one ';'-terminated name.
  while (!argument.empty()) {
    const auto semicolon = argument.find(';');
    const std::string name = to_ascii_lower(argument.substr(0, semicolon));
    if (name == "type") facts.type = true;
    else if (name == "size") facts.size = true;
    else if (name == "modify") facts.modify = true;
    else if (name == "perm") facts.perm = true;
    else if (name == "unique") facts.unique = true;
    else if (name == "unix.mode") facts.unix_mode = true;
    if (semicolon == std::string_view::npos) break;
    argument.remove_prefix(semicolon + 1);
  }
  return facts;
}

std::string describe_facts(const FactSet& facts) {
  std::string out;
  const auto add = [&out](const char* name, bool on) {
    out += name;
    if (on) out += '*';
    out += ';';
  };
  add("type", facts.type);
  add("size", facts.size);
  add("modify", facts.modify);
  add("perm", facts.perm);
  add("unique", facts.unique);
  add("UNIX.mode", facts.unix_mode);
  return out;
}

std::string selected_facts(const FactSet& facts) {
  std::string out;
  if (facts.type) out += "type;";
  if (facts.size) out += "size;";
  if (facts.modify) out += "modify;";
  if (facts.perm) out += "perm;";
  if (facts.unique) out += "unique;";
  if (facts.unix_mode) out += "UNIX.mode;";
  return out;
}

unsigned viewer_access(const struct stat& st, const FactViewer& viewer) {
  if (st.st_uid == viewer.uid) return (st.st_mode >> 6) & 7u;
  if (st.st_gid == viewer.gid) return (st.st_mode >> 3) & 7u;
  return st.st_mode & 7u;
}

void append_facts(std::string& out, std::string_view name, const struct stat& st,
                  const FactSet& facts, const FactViewer& viewer, bool parent_writable,
                  std::string_view type_override) {
  if (facts.type) {
    out += "type=";
    out += type_override.empty() ? type_of(st) : type_override;
    out += ';';
  }
  if (facts.size && !S_ISDIR(st.st_mode)) {
    out += "size=";
    append_number(out, st.st_size, 10);
    out += ';';
  }
  if (facts.modify) {
    out += "modify=";
    out += format_mdtm(st.st_mtime);
    out += ';';
  }
  if (facts.perm) {
    const unsigned access = viewer_access(st, viewer);
    out += "perm=";
    if (S_ISDIR(st.st_mode)) {
      if (access & 1u) out += 'e';
      if (access & 4u) out += 'l';
      if (access & 2u) out += "cmp";
    } else {
      if (access & 4u) out += 'r';
      if (access & 2u) out += "wa";
    }
    if (parent_writable) out += "df";
    out += ';';
  }
  if (facts.unique) {
    out += "unique=";
    append_number(out, static_cast<unsigned long long>(st.st_dev), 16);
    out += 'g';
    append_number(out, static_cast<unsigned long long>(st.st_ino), 16);
    out += ';';
  }
  if (facts.unix_mode) {
    out += "UNIX.mode=0";
    append_number(out, static_cast<unsigned>(st.st_mode & 07777), 8);
    out += ';';
  }
  out += ' ';
  out += name;
}

std::string format_facts(std::string_view name, const struct stat& st, const FactSet& facts,
                         const FactViewer& viewer, bool parent_writable,
                         std::string_view type_override) {
  std::string out;
  append_facts(out, name, st, facts, viewer, parent_writable, type_override);
  return out;
}

}  // namespace wftpd
