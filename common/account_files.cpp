// See account_files.hpp.
#include "common/account_files.hpp"

#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <vector>

#include "common/io.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxAccountFileBytes = std::size_t{16} << 20;
constexpr std::uint64_t kMaxId = 4294967294U;  // (uid_t)-1 is no id

std::optional<std::uint32_t> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > kMaxId) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const auto colon = line.find(':');
    fields.push_back(line.substr(0, colon));
    if (colon == std::string_view::npos) return fields;
    line.remove_prefix(colon + 1);
  }
}

// Calls `found(fields)` for the first well-formed line whose first field is `name`; every line
// is checked, so a damaged file is reported whichever name is asked for.
template <class OnMatch>
Result<bool> scan(std::string_view text, std::string_view name, std::string_view file_name,
                  std::size_t field_count, std::size_t id_fields_begin, std::size_t id_fields_end,
                  OnMatch on_match) {
  bool matched = false;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const auto fail = [&](const std::string& what) {
      return make_error(std::string(file_name) + ":" + std::to_string(line_number) + ": " + what);
    };
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '+' || line.front() == '-') {
      return fail("NIS compat entries are not supported (give numeric ids instead)");
    }
    const auto fields = split_fields(line);
    if (fields.size() != field_count) {
      return fail("expected " + std::to_string(field_count) + " ':'-separated fields");
    }
    if (fields[0].empty()) return fail("empty name");
    for (std::size_t i = id_fields_begin; i < id_fields_end; ++i) {
      if (!parse_id(fields[i])) return fail("bad numeric id '" + std::string(fields[i]) + "'");
    }
    if (!matched && fields[0] == name) {
      on_match(fields);
      matched = true;
    }
  }
  return matched;
}

}  // namespace

Result<std::optional<PasswdEntry>> find_passwd_entry(std::string_view text, std::string_view name,
                                                     std::string_view file_name) {
  PasswdEntry entry{};
  auto found = scan(text, name, file_name, 7, 2, 4, [&](const std::vector<std::string_view>& f) {
    entry.uid = *parse_id(f[2]);
    entry.gid = *parse_id(f[3]);
    entry.home = std::string(f[5]);
  });
  if (!found) return found.error();
  if (!*found) return std::optional<PasswdEntry>();
  return std::optional<PasswdEntry>(entry);
}

Result<std::optional<gid_t>> find_group_entry(std::string_view text, std::string_view name,
                                              std::string_view file_name) {
  gid_t gid = 0;
  auto found = scan(text, name, file_name, 4, 2, 3, [&](const std::vector<std::string_view>& f) {
    gid = *parse_id(f[2]);
  });
  if (!found) return found.error();
  if (!*found) return std::optional<gid_t>();
  return std::optional<gid_t>(gid);
}

Result<std::string> read_account_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error("open(" + path + ")", errno);
  auto text = read_whole_fd(fd.get(), kMaxAccountFileBytes);
  if (!text) return make_error(path + ": " + text.error().message);
  return text;
}

}  // namespace wftpd
