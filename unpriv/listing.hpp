// Directory listing lines for LIST, NLST and the MDTM reply.
//
// LIST output has no standard; clients (FileZilla, lftp, curl, ftplib, WinSCP) parse the format
// of `ls -l`, so that is what format_list_line() produces:
//   "-rw-r--r--    1 1000     1000         1234 Nov 24 00:18 name\r\n"
// Owner and group are numeric because the session runs chrooted without NSS; dates are in UTC
// and the month names come from a fixed table, because locale data is unavailable after chroot.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <string>
#include <string_view>

namespace wftpd {

// About six months (half a Gregorian year), the cut-off `ls -l` uses between "HH:MM" and year.
inline constexpr std::time_t kRecentSeconds = 31556952 / 2;

// One CRLF-terminated `ls -l` line. The date is "Mon DD HH:MM" if st_mtime is within the last
// kRecentSeconds and not after `now`, otherwise "Mon DD  YYYY". For a symlink (S_ISLNK) with a
// non-empty symlink_target, " -> target" is appended. Device files show st_size, not
// "major, minor", because clients expect one number in the size column.
// SECURITY: callers leave out names that fail name_is_listable(); as a second line of defence any
// CR, LF or NUL in name or target is replaced by '?' here, so the result is always one line.
std::string format_list_line(std::string_view name, const struct stat& st, std::time_t now,
                             std::string_view symlink_target = {});

// format_list_line(), appended to `out` (a listing builds all its lines in one string).
void append_list_line(std::string& out, std::string_view name, const struct stat& st,
                      std::time_t now, std::string_view symlink_target = {});

// SECURITY: false for names containing CR, LF or NUL; such names are left out of LIST/NLST so
// they cannot forge listing lines.
bool name_is_listable(std::string_view name);

// NLST: name + "\r\n" (callers filter with name_is_listable()).
std::string format_nlst_line(std::string_view name);
void append_nlst_line(std::string& out, std::string_view name);

// "YYYYMMDDHHMMSS" in UTC (RFC 3659 time-val). Times outside years 0000..9999 (or that gmtime_r
// cannot convert) are clamped to 00000101000000 / 99991231235959 so the field is always 14 digits.
std::string format_mdtm(std::time_t t);

// "rwxr-xr-x"-style mode string including the type letter, e.g. "drwxr-sr-t" (10 characters).
std::string format_mode(mode_t mode);

}  // namespace wftpd
