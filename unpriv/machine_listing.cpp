#include "unpriv/machine_listing.hpp"

#include <cstdio>

#include "unpriv/listing.hpp"

namespace wftpd {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string type_of(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return "file";
  if (S_ISDIR(st.st_mode)) return "dir";
  if (S_ISLNK(st.st_mode)) return "OS.unix=symlink";
  return "OS.unix=special";
}

}  // namespace

FactSet parse_mlst_options(std::string_view argument) {
  FactSet facts{false, false, false, false, false, false};
  // Bounded by the argument's length: each turn consumes one ';'-terminated name.
  while (!argument.empty()) {
    const auto semicolon = argument.find(';');
    const std::string name = lower(argument.substr(0, semicolon));
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

std::string format_facts(std::string_view name, const struct stat& st, const FactSet& facts,
                         const FactViewer& viewer, bool parent_writable,
                         std::string_view type_override) {
  std::string out;
  if (facts.type) {
    out += "type=";
    out += type_override.empty() ? type_of(st) : std::string(type_override);
    out += ';';
  }
  if (facts.size && !S_ISDIR(st.st_mode)) out += "size=" + std::to_string(st.st_size) + ";";
  if (facts.modify) out += "modify=" + format_mdtm(st.st_mtime) + ";";
  if (facts.perm) {
    const unsigned access = viewer_access(st, viewer);
    std::string perm;
    if (S_ISDIR(st.st_mode)) {
      if (access & 1u) perm += 'e';
      if (access & 4u) perm += 'l';
      if (access & 2u) perm += "cmp";
    } else {
      if (access & 4u) perm += 'r';
      if (access & 2u) perm += "wa";
    }
    if (parent_writable) perm += "df";
    out += "perm=" + perm + ";";
  }
  if (facts.unique) {
    char unique[48];
    std::snprintf(unique, sizeof(unique), "%llxg%llx", static_cast<unsigned long long>(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    out += "unique=";
    out += unique;
    out += ';';
  }
  if (facts.unix_mode) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "0%o", static_cast<unsigned>(st.st_mode & 07777));
    out += "UNIX.mode=";
    out += mode;
    out += ';';
  }
  out += ' ';
  out += name;
  return out;
}

}  // namespace wftpd
