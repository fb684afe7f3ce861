// LIST and NLST: the argument forms clients send, and the listing text, with bounds on work.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "unpriv/machine_listing.hpp"
#include "unpriv/session_filesystem.hpp"

namespace wftpd {

inline constexpr std::size_t kMaxListingEntries = 200000;
inline constexpr std::size_t kMaxListingBytes = 64u << 20;

struct ListRequest {
  bool show_hidden = false;   // -a / -A
  std::string path;           // may be empty: the current directory
};

// Accepts "LIST", "LIST path", "LIST -la", "LIST -la path" (ls-style flags that clients send;
// unknown flag letters are ignored, as ls-compatible servers do).
ListRequest parse_list_argument(std::string_view argument);

// Lists `path` (a directory's entries, or the single file) in `ls -l` form, or names only.
// If `path` does not exist and its last component holds wildcards ("*.txt"), the entries of
// its directory that match are listed instead (names then carry `name_prefix`, the directory
// part the client typed, as ls does). No match is ENOENT.
// SECURITY: names holding CR or LF are left out, so no listing line can be forged; the work
// is bounded by kMaxListingEntries and kMaxListingBytes.
bool build_listing(const SessionFilesystem& fs, const std::string& path, bool show_hidden,
                   bool names_only, std::time_t now, std::string& out, FileError& error,
                   std::string_view name_prefix = {});

// MLSD: one "facts; name" line per entry of the directory `path` (hidden entries included,
// "." and ".." left out), with the same bounds as build_listing().
bool build_machine_listing(const SessionFilesystem& fs, const std::string& path,
                           const FactSet& facts, const FactViewer& viewer, std::string& out,
                           FileError& error);

}  // namespace wftpd
