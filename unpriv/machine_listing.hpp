// MLSD and MLST (RFC 3659): machine-readable facts about files, in place of `ls -l` guessing.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

// Which facts are sent (OPTS MLST selects them). All on by default.
struct FactSet {
  bool type = true;
  bool size = true;
  bool modify = true;
  bool perm = true;
  bool unique = true;
  bool unix_mode = true;
};

// Who is looking: perm facts are computed for this uid/gid from the mode bits.
struct FactViewer {
  uid_t uid = 0;
  gid_t gid = 0;
};

// "OPTS MLST type;size;" -> the selected facts; unknown fact names are ignored (RFC 3659 7.9).
FactSet parse_mlst_options(std::string_view argument);

// "type*;size*;modify*;perm*;unique*;UNIX.mode*;": the FEAT line, '*' marking selected facts.
std::string describe_facts(const FactSet& facts);

// The selected facts for the OPTS MLST reply: "type;size;".
std::string selected_facts(const FactSet& facts);

// One entry: "fact=value;...; NAME" (no line ending). `parent_writable` decides the d and f
// perms. `type_override` replaces the type fact (e.g. "cdir").
std::string format_facts(std::string_view name, const struct stat& st, const FactSet& facts,
                         const FactViewer& viewer, bool parent_writable,
                         std::string_view type_override = {});

// format_facts(), appended to `out` (MLSD builds all its lines in one string).
void append_facts(std::string& out, std::string_view name, const struct stat& st,
                  const FactSet& facts, const FactViewer& viewer, bool parent_writable,
                  std::string_view type_override = {});

// The permission bits (rwx, 0..7) that apply to `viewer` for a file with `st`.
unsigned viewer_access(const struct stat& st, const FactViewer& viewer);

}  // namespace wftpd
