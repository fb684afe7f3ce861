#include "priv/ban_state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "common/address_prefix.hpp"
#include "common/io.hpp"
#include "common/unique_fd.hpp"
#include "priv/state_file.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxStateBytes = 16u << 20;

std::string_view next_word(std::string_view& line) {
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  const std::size_t end = line.find(' ');
  const std::string_view word = line.substr(0, end);
  line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  return word;
}

}  // namespace

std::string format_ban_state(const std::vector<BanList::Entry>& entries,
                             std::chrono::system_clock::time_point now) {
  std::string text =
      "# wardenftpd bans in force (rewritten by the daemon; edit with wardenftpd-ctl ban/unban)\n";
  for (const auto& entry : entries) {
    text += entry.origin == BanList::Origin::kAutomatic ? "automatic " : "manual ";
    text += entry.prefix;
    if (entry.remaining) {
      const auto end = now + std::chrono::ceil<std::chrono::seconds>(*entry.remaining);
      text += " until " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                             end.time_since_epoch()).count());
    } else {
      text += " forever";
    }
    text += '\n';
  }
  return text;
}

Result<std::vector<StoredBan>> parse_ban_state(std::string_view text, std::int64_t now_unix) {
  std::vector<StoredBan> bans;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto bad = [&](const std::string& why) {
      return make_error("line " + std::to_string(number) + ": " + why);
    };
    StoredBan ban;
    const std::string_view origin = next_word(line);
    if (origin == "automatic") ban.origin = BanList::Origin::kAutomatic;
    else if (origin == "manual") ban.origin = BanList::Origin::kManual;
    else return bad("expected 'automatic' or 'manual'");
    const std::string_view prefix = next_word(line);
    auto parsed = AddressPrefix::parse(prefix);
    if (!parsed) return bad(parsed.error().message);
    ban.prefix = parsed->text();
    const std::string_view kind = next_word(line);
    if (kind == "until") {
      const std::string_view when = next_word(line);
      std::int64_t until = 0;
      const auto [ptr, ec] = std::from_chars(when.data(), when.data() + when.size(), until);
      if (when.empty() || ec != std::errc() || ptr != when.data() + when.size() || until < 0) {
        return bad("expected UNIX seconds after 'until'");
      }
      ban.until = until;
    } else if (kind != "forever") {
      return bad("expected 'until SECONDS' or 'forever'");
    }
    if (!next_word(line).empty()) return bad("trailing text");
    if (ban.until && *ban.until <= now_unix) continue;
    if (ban.origin == BanList::Origin::kAutomatic && !ban.until) return bad("an automatic ban ends");
    bans.push_back(std::move(ban));
  }
  return bans;
}

Result<std::string> read_ban_state(const std::string& path) {
  // SECURITY: whoever can write this file can lift any ban or ban every client.
  return read_root_state_file(path, kMaxStateBytes);
}

Result<void> write_ban_state(const std::string& path, std::string_view text) {
  return write_state_file(path, text);
}

}  // namespace wftpd
