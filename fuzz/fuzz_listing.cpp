// Listing lines (LIST, NLST, MDTM) and MLSD/MLST facts, with a fuzzed file name, symlink target
// and struct stat (mode, nlink, uid, gid, size, mtime, dev, ino) and a fuzzed "now".
//
// Input: 64 bytes of stat fields and flags, then "name\0target\0mlst-options" (missing parts
// are empty). Checks: format_list_line and format_nlst_line give exactly one line ending in
// CRLF with no other CR, LF or NUL; format_mode is 10 characters; format_mdtm is 14 digits;
// format_facts gives "fact=value;... NAME" whose facts part holds no space, CR or LF, and for a
// name passing name_is_listable() no CR or LF at all; parse_mlst_options round-trips through
// selected_facts().
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "unpriv/listing.hpp"
#include "unpriv/machine_listing.hpp"

namespace {

void check_crlf_line(std::string_view line) {
  FUZZ_CHECK(line.size() >= 2 && line.ends_with("\r\n"));
  const std::string_view body = line.substr(0, line.size() - 2);
  FUZZ_CHECK(body.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
}

bool same(const wftpd::FactSet& a, const wftpd::FactSet& b) {
  return a.type == b.type && a.size == b.size && a.modify == b.modify && a.perm == b.perm &&
         a.unique == b.unique && a.unix_mode == b.unix_mode;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wftpd::fuzz::Input input(data, size);
  struct stat st {};
  st.st_mode = input.integer<mode_t>();
  st.st_nlink = input.integer<nlink_t>();
  st.st_uid = input.integer<uid_t>();
  st.st_gid = input.integer<gid_t>();
  st.st_size = input.integer<off_t>();
  st.st_mtime = input.integer<std::time_t>();
  st.st_dev = input.integer<dev_t>();
  st.st_ino = input.integer<ino_t>();
  const auto now = input.integer<std::time_t>();
  wftpd::FactViewer viewer;
  viewer.uid = input.integer<uid_t>();
  viewer.gid = input.integer<gid_t>();
  const std::uint8_t flags = input.byte();

  const auto [name, tail] = wftpd::fuzz::split_nul(input.rest());
  const auto [target, options] = wftpd::fuzz::split_nul(tail);

  const std::string list = wftpd::format_list_line(name, st, now, target);
  check_crlf_line(list);
  FUZZ_CHECK(list.substr(0, 10) == wftpd::format_mode(st.st_mode));
  check_crlf_line(wftpd::format_nlst_line(name));
  FUZZ_CHECK(wftpd::format_mode(st.st_mode).size() == 10);

  const std::string mdtm = wftpd::format_mdtm(st.st_mtime);
  FUZZ_CHECK(mdtm.size() == 14);
  for (const char c : mdtm) FUZZ_CHECK(c >= '0' && c <= '9');

  const wftpd::FactSet selected = wftpd::parse_mlst_options(options);
  FUZZ_CHECK(same(wftpd::parse_mlst_options(wftpd::selected_facts(selected)), selected));
  const std::string described = wftpd::describe_facts(selected);
  FUZZ_CHECK(described.find_first_of(" \r\n") == std::string::npos);
  const wftpd::FactSet facts = (flags & 1) != 0 ? wftpd::FactSet{} : selected;
  const std::string_view type_override = (flags & 2) != 0 ? "cdir" : "";
  const std::string entry =
      wftpd::format_facts(name, st, facts, viewer, (flags & 4) != 0, type_override);
  FUZZ_CHECK(entry.size() >= name.size() + 1);
  FUZZ_CHECK(entry.ends_with(name));
  const std::string_view fact_part(entry.data(), entry.size() - name.size() - 1);
  FUZZ_CHECK(entry[fact_part.size()] == ' ');
  FUZZ_CHECK(fact_part.find_first_of(std::string_view(" \r\n\0", 4)) == std::string_view::npos);
  FUZZ_CHECK(fact_part.empty() || fact_part.back() == ';');
  if (wftpd::name_is_listable(name)) {
    FUZZ_CHECK(entry.find_first_of("\r\n") == std::string::npos);
  }
  FUZZ_CHECK(wftpd::viewer_access(st, viewer) <= 7);
  return 0;
}
