#include "unpriv/listing.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace wftpd {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A number in decimal, in a buffer on the stack (no allocation per listing field).
// std::to_chars is specified to be locale-independent, unlike printf-family functions.
class Decimal {
 public:
  template <class Int>
  explicit Decimal(Int value) {
    const auto [end, ec] = std::to_chars(buf_.data(), buf_.data() + buf_.size(), value);
    // Cannot fail: 24 bytes hold any 64-bit integer.
    size_ = ec == std::errc() ? static_cast<std::size_t>(end - buf_.data()) : 0;
    if (ec != std::errc()) buf_[size_++] = '?';
  }
  std::string_view view() const { return {buf_.data(), size_}; }

 private:
  std::array<char, 24> buf_{};
  std::size_t size_ = 0;
};

void append_padded_left(std::string& out, std::string_view text, std::size_t width) {
  if (text.size() < width) out.append(width - text.size(), ' ');
  out.append(text);
}

void append_padded_right(std::string& out, std::string_view text, std::size_t width) {
  out.append(text);
  if (text.size() < width) out.append(width - text.size(), ' ');
}

void append_two_digits(std::string& out, int value, char pad) {
  out.push_back(value < 10 ? pad : static_cast<char>('0' + value / 10 % 10));
  out.push_back(static_cast<char>('0' + value % 10));
}

bool is_line_breaking(char c) { return c == '\r' || c == '\n' || c == '\0'; }

void append_single_line(std::string& out, std::string_view text) {
  // SECURITY: the listing line must stay one line even if a caller forgot name_is_listable().
  const std::size_t start = out.size();
  out.append(text);
  for (std::size_t i = start; i < out.size(); ++i) {
    if (is_line_breaking(out[i])) out[i] = '?';
  }
}

void append_date(std::string& out, std::time_t mtime, std::time_t now) {
  struct tm tm_utc {};
  if (gmtime_r(&mtime, &tm_utc) == nullptr) {
    out += "Jan  1  1970";  // unrepresentable time; any fixed, well-formed date will do
    return;
  }
  const int month = tm_utc.tm_mon >= 0 && tm_utc.tm_mon < 12 ? tm_utc.tm_mon : 0;
  out.append(kMonths[static_cast<std::size_t>(month)]);
  out.push_back(' ');
  append_two_digits(out, tm_utc.tm_mday, ' ');
  out.push_back(' ');
  // No plain now - mtime: it could overflow for extreme (hostile or corrupt) timestamps.
  constexpr std::time_t kMinTime = std::numeric_limits<std::time_t>::min();
  const std::time_t cutoff = now < kMinTime + kRecentSeconds ? kMinTime : now - kRecentSeconds;
  const bool recent = mtime <= now && mtime >= cutoff;
  if (recent) {
    append_two_digits(out, tm_utc.tm_hour, '0');
    out.push_back(':');
    append_two_digits(out, tm_utc.tm_min, '0');
  } else {
    const std::int64_t year = std::int64_t{tm_utc.tm_year} + 1900;
    append_padded_left(out, Decimal(year).view(), 5);
  }
}

// The ten characters of format_mode(), written into `out` (which holds at least 10).
void write_mode(char* out, mode_t mode) {
  std::fill(out, out + 10, '-');
  char type = '?';
  if (S_ISREG(mode)) {
    type = '-';
  } else if (S_ISDIR(mode)) {
    type = 'd';
  } else if (S_ISLNK(mode)) {
    type = 'l';
  } else if (S_ISFIFO(mode)) {
    type = 'p';
  } else if (S_ISSOCK(mode)) {
    type = 's';
  } else if (S_ISCHR(mode)) {
    type = 'c';
  } else if (S_ISBLK(mode)) {
    type = 'b';
  }
  out[0] = type;
  if (mode & S_IRUSR) out[1] = 'r';
  if (mode & S_IWUSR) out[2] = 'w';
  if (mode & S_IRGRP) out[4] = 'r';
  if (mode & S_IWGRP) out[5] = 'w';
  if (mode & S_IROTH) out[7] = 'r';
  if (mode & S_IWOTH) out[8] = 'w';
  // The special bits share the execute column: lower case when execute is also set.
  if (mode & S_ISUID) {
    out[3] = (mode & S_IXUSR) ? 's' : 'S';
  } else if (mode & S_IXUSR) {
    out[3] = 'x';
  }
  if (mode & S_ISGID) {
    out[6] = (mode & S_IXGRP) ? 's' : 'S';
  } else if (mode & S_IXGRP) {
    out[6] = 'x';
  }
  if (mode & S_ISVTX) {
    out[9] = (mode & S_IXOTH) ? 't' : 'T';
  } else if (mode & S_IXOTH) {
    out[9] = 'x';
  }
}

}  // namespace

std::string format_mode(mode_t mode) {
  std::string out(10, '-');
  write_mode(out.data(), mode);
  return out;
}

void append_list_line(std::string& out, std::string_view name, const struct stat& st,
                      std::time_t now, std::string_view symlink_target) {
  char mode[10];
  write_mode(mode, st.st_mode);
  out.append(mode, sizeof(mode));
  out.push_back(' ');
  append_padded_left(out, Decimal(st.st_nlink).view(), 4);
  out.push_back(' ');
  append_padded_right(out, Decimal(st.st_uid).view(), 8);
  out.push_back(' ');
  append_padded_right(out, Decimal(st.st_gid).view(), 8);
  out.push_back(' ');
  append_padded_left(out, Decimal(st.st_size).view(), 8);
  out.push_back(' ');
  append_date(out, st.st_mtime, now);
  out.push_back(' ');
  append_single_line(out, name);
  if (S_ISLNK(st.st_mode) && !symlink_target.empty()) {
    out += " -> ";
    append_single_line(out, symlink_target);
  }
  out += "\r\n";
}

std::string format_list_line(std::string_view name, const struct stat& st, std::time_t now,
                             std::string_view symlink_target) {
  std::string out;
  out.reserve(64 + name.size() + symlink_target.size());
  append_list_line(out, name, st, now, symlink_target);
  return out;
}

bool name_is_listable(std::string_view name) {
  for (char c : name) {
    if (is_line_breaking(c)) return false;
  }
  return true;
}

void append_nlst_line(std::string& out, std::string_view name) {
  append_single_line(out, name);  // SECURITY: same second line of defence as format_list_line()
  out += "\r\n";
}

std::string format_nlst_line(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  append_nlst_line(out, name);
  return out;
}

std::string format_mdtm(std::time_t t) {
  struct tm tm_utc {};
  const bool converted = gmtime_r(&t, &tm_utc) != nullptr;
  const std::int64_t year = std::int64_t{tm_utc.tm_year} + 1900;
  if (!converted) return t < 0 ? "00000101000000" : "99991231235959";
  if (year > 9999) return "99991231235959";
  if (year < 0) return "00000101000000";

  std::string out;
  out.reserve(14);
  const auto y = static_cast<int>(year);
  append_two_digits(out, y / 100, '0');
  append_two_digits(out, y % 100, '0');
  append_two_digits(out, tm_utc.tm_mon + 1, '0');
  append_two_digits(out, tm_utc.tm_mday, '0');
  append_two_digits(out, tm_utc.tm_hour, '0');
  append_two_digits(out, tm_utc.tm_min, '0');
  append_two_digits(out, tm_utc.tm_sec, '0');  // may be 60 for a leap second; still two digits
  return out;
}

}  // namespace wftpd
