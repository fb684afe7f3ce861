#include "priv/transfer_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace wftpd {

std::string escape_xferlog_field(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (out.empty()) out = "-";  // an empty field would shift every field after it
  return out;
}

std::string format_transfer_log_line(const TransferLogEntry& entry) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  ::gmtime_r(&entry.now, &tm);
  // ctime(3) layout: "Mon Nov 30 16:54:38 2026", the day of the month padded with a space.
  char time_text[32];
  std::snprintf(time_text, sizeof(time_text), "%s %s %2d %02d:%02d:%02d %d", kDays[tm.tm_wday % 7],
                kMonths[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                tm.tm_year + 1900);
  const std::uint64_t seconds = entry.milliseconds == 0 ? 1 : (entry.milliseconds + 999) / 1000;
  const TransferDone& t = entry.transfer;
  std::string line = time_text;
  line += ' ' + std::to_string(seconds);
  line += ' ' + escape_xferlog_field(entry.remote_host);
  line += ' ' + std::to_string(t.bytes);
  line += ' ' + escape_xferlog_field(t.path);
  line += t.ascii ? " a" : " b";
  line += " _";  // special-action-flag: no compression or tar conversion
  line += t.direction == TransferDirection::kIncoming ? " i" : " o";
  switch (entry.access) {
    case AccessMode::kReal: line += " r"; break;
    case AccessMode::kAnonymous: line += " a"; break;
    case AccessMode::kGuest: line += " g"; break;
  }
  line += ' ' + escape_xferlog_field(entry.user);
  line += " ftp 0 *";  // service name; no RFC 931 authentication, so no authenticated user id
  line += t.complete ? " c\n" : " i\n";
  return line;
}

Result<void> check_transfer_log_location(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string directory = slash == 0 ? "/" : path.substr(0, slash);
  struct stat st{};
  if (::lstat(directory.c_str(), &st) != 0) return system_error("lstat(" + directory + ")", errno);
  // SECURITY: a directory others can write to lets them swap the file for a link.
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & S_IWOTH) != 0) {
    return make_error("xferlog_file: " + directory +
                      " must be a directory owned by root and not writable by others");
  }
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok_result();  // created on first open
    return system_error("lstat(" + path + ")", errno);
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != 0) {
    return make_error("xferlog_file: " + path + " must be a regular file owned by root");
  }
  return ok_result();
}

Result<UniqueFd> open_transfer_log(const std::string& path) {
  auto location = check_transfer_log_location(path);
  if (!location) return location.error();
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                     0640));
  if (!fd) return system_error("open(" + path + ")", errno);
  // SECURITY: checked again on what was opened: the file may have changed since the lstat.
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return system_error("fstat(" + path + ")", errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != 0) {
    return make_error("xferlog_file: " + path + " must be a regular file owned by root");
  }
  return fd;
}

}  // namespace wftpd
