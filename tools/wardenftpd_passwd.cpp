// wardenftpd-passwd: adds, deletes and lists virtual users in the wardenftpd users file.
//
// Exit status: 0 success, 1 error, 2 usage error. The password is read from the terminal or
// stdin (see tools/password_input.hpp), never from the command line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/password_hash.hpp"
#include "common/result.hpp"
#include "common/session_policy.hpp"
#include "common/users_file.hpp"
#include "tools/password_input.hpp"
#include "tools/users_file_store.hpp"

namespace wftpd {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr const char* kDefaultUsersFile = "/etc/wardenftpd/users";

constexpr std::string_view kUsage =
    "Usage:\n"
    "  wardenftpd-passwd [-f FILE] add NAME --uid UID --gid GID --root DIR\n"
    "                    [--class CLASS] [--method yescrypt|sha512] [--replace]\n"
    "  wardenftpd-passwd [-f FILE] delete NAME\n"
    "  wardenftpd-passwd [-f FILE] list\n"
    "  wardenftpd-passwd --help\n"
    "\n"
    "Manages the wardenftpd virtual users file (default /etc/wardenftpd/users).\n"
    "\n"
    "  add     Add user NAME, or with --replace change an existing one. The password is\n"
    "          prompted for twice on the terminal, or read as one line from stdin when\n"
    "          stdin is not a terminal. It is never taken from the command line.\n"
    "          UID and GID: 1..4294967294 (0 is refused). DIR: absolute, normalised path.\n"
    "          --method defaults to yescrypt. --class: a [class NAME] section of the\n"
    "          daemon's configuration (without it, the user gets default_class).\n"
    "  delete  Remove user NAME.\n"
    "  list    Print one user per line: NAME UID GID ROOT METHOD CLASS, tab-separated\n"
    "          (CLASS \"-\" when the user has none).\n"
    "          The hash itself is never printed; a locked account shows \"(locked)\".\n"
    "\n"
    "Exit status: 0 success, 1 error, 2 usage error.\n";

struct UsageError {
  std::string message;
};

int usage_error(std::string_view message) {
  std::fprintf(stderr, "wardenftpd-passwd: %.*s\nTry 'wardenftpd-passwd --help'.\n",
               static_cast<int>(message.size()), message.data());
  return kExitUsage;
}

int fail(std::string_view message) {
  std::fprintf(stderr, "wardenftpd-passwd: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return kExitError;
}

bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

struct AddOptions {
  std::string name;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  std::string root;
  std::string user_class;
  HashMethod method = HashMethod::kYescrypt;
  bool replace = false;
};

// Parses the arguments after "add". Accepts "--opt VALUE" and "--opt=VALUE".
std::optional<UsageError> parse_add(const std::vector<std::string_view>& args,
                                    AddOptions& options) {
  bool have_name = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--replace") {
      options.replace = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      if (have_name) return UsageError{"add: unexpected argument '" + std::string(arg) + "'"};
      // Validated here too, for a usage error rather than a failure later.
      if (!is_valid_user_name(arg)) {
        return UsageError{"add: invalid user name '" + std::string(arg) +
                          "' (1-64 bytes of [A-Za-z0-9._@-], not starting with '-' or '.')"};
      }
      options.name = std::string(arg);
      have_name = true;
      continue;
    }
    std::string_view option = arg;
    std::string_view value;
    if (const std::size_t equals = arg.find('='); equals != std::string_view::npos) {
      option = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    } else {
      if (option != "--uid" && option != "--gid" && option != "--root" && option != "--method" &&
          option != "--class") {
        return UsageError{"add: unknown option '" + std::string(arg) + "'"};
      }
      if (i + 1 >= args.size()) return UsageError{"add: " + std::string(option) + " needs a value"};
      value = args[++i];
    }
    if (option == "--uid" || option == "--gid") {
      const std::optional<std::uint32_t> id = parse_user_id(value);
      if (!id.has_value()) {
        return UsageError{"add: invalid " + std::string(option) + " '" + std::string(value) +
                          "' (a decimal number from 1 to 4294967294)"};
      }
      (option == "--uid" ? options.uid : options.gid) = id;
    } else if (option == "--root") {
      if (!is_valid_user_root(value)) {
        return UsageError{
            "add: invalid --root '" + std::string(value) +
            "' (an absolute path without '.', '..', '//', ':', a trailing '/' or control bytes)"};
      }
      options.root = std::string(value);
    } else if (option == "--class") {
      if (!is_valid_class_name(value)) {
        return UsageError{"add: invalid --class '" + std::string(value) +
                          "' (1-32 bytes of [A-Za-z0-9_-])"};
      }
      options.user_class = std::string(value);
    } else if (option == "--method") {
      const std::optional<HashMethod> method = parse_hash_method_name(value);
      if (!method.has_value()) {
        return UsageError{"add: unknown --method '" + std::string(value) +
                          "' (yescrypt or sha512)"};
      }
      options.method = *method;
    } else {
      return UsageError{"add: unknown option '" + std::string(arg) + "'"};
    }
  }
  if (!have_name) return UsageError{"add: missing user NAME"};
  if (!options.uid.has_value()) return UsageError{"add: missing --uid"};
  if (!options.gid.has_value()) return UsageError{"add: missing --gid"};
  if (options.root.empty()) return UsageError{"add: missing --root"};
  return std::nullopt;
}

int run_add(const std::string& file, const std::vector<std::string_view>& args) {
  AddOptions options;
  if (auto error = parse_add(args, options); error.has_value()) return usage_error(error->message);

  // Early check, without the lock, so nobody types a password for an add that cannot succeed.
  // It is repeated under the lock below.
  {
    auto users = load_users_file(file);
    if (!users.ok()) return fail(users.error().message);
    if (!options.replace && find_user(*users, options.name) != nullptr) {
      return fail("user '" + options.name + "' already exists in " + file +
                  " (use --replace to change it)");
    }
  }

  std::string hash;
  {
    SecretText password;
    if (auto read = read_new_password(password); !read.ok()) return fail(read.error().message);
    auto hashed = hash_password(password.view(), options.method);
    if (!hashed.ok()) return fail(hashed.error().message);
    hash = std::move(*hashed);
  }  // SECURITY: the plain-text password is wiped here, before any file is touched.

  auto lock = UsersFileLock::acquire(file);
  if (!lock.ok()) return fail(lock.error().message);
  auto users = load_users_file(file);
  if (!users.ok()) return fail(users.error().message);

  VirtualUser user{options.name, hash, static_cast<uid_t>(*options.uid),
                   static_cast<gid_t>(*options.gid), options.root, options.user_class};
  bool replaced = false;
  for (VirtualUser& existing : *users) {
    if (existing.name != options.name) continue;
    if (!options.replace) {
      return fail("user '" + options.name + "' already exists in " + file +
                  " (use --replace to change it)");
    }
    existing = std::move(user);
    replaced = true;
    break;
  }
  if (!replaced) {
    if (users->size() >= kMaxUsers)
      return fail(file + ": already holds the maximum of 100000 users");
    users->push_back(std::move(user));
  }
  if (auto written = replace_users_file(file, *users); !written.ok())
    return fail(written.error().message);
  std::printf("%s user '%s' in %s\n", replaced ? "replaced" : "added", options.name.c_str(),
              file.c_str());
  return kExitOk;
}

int run_delete(const std::string& file, const std::vector<std::string_view>& args) {
  if (args.size() != 1 || args[0].starts_with("-"))
    return usage_error("delete: expected exactly one user NAME");
  const std::string name(args[0]);
  auto lock = UsersFileLock::acquire(file);
  if (!lock.ok()) return fail(lock.error().message);
  auto users = load_users_file(file);
  if (!users.ok()) return fail(users.error().message);
  const VirtualUser* user = find_user(*users, name);
  // The name is only echoed once known to be valid: it may hold control bytes otherwise.
  if (user == nullptr) {
    return fail(is_valid_user_name(name) ? "no user '" + name + "' in " + file
                                         : "invalid user name");
  }
  users->erase(users->begin() + (user - users->data()));
  if (auto written = replace_users_file(file, *users); !written.ok())
    return fail(written.error().message);
  std::printf("deleted user '%s' from %s\n", name.c_str(), file.c_str());
  return kExitOk;
}

int run_list(const std::string& file, const std::vector<std::string_view>& args) {
  if (!args.empty()) return usage_error("list: takes no arguments");
  // No lock: the file is only replaced whole, by rename().
  auto users = load_users_file(file);
  if (!users.ok()) return fail(users.error().message);
  for (const VirtualUser& user : *users) {
    // SECURITY: only the method is shown, never the hash (offline cracking material).
    std::string method = "locked";
    if (const auto kind = hash_method_of(user.hash); kind.has_value()) {
      method = std::string(hash_method_name(*kind));
      if (is_locked_hash(user.hash)) method += " (locked)";
    }
    std::printf("%s\t%u\t%u\t%s\t%s\t%s\n", user.name.c_str(), static_cast<unsigned>(user.uid),
                static_cast<unsigned>(user.gid), user.root.c_str(), method.c_str(),
                user.user_class.empty() ? "-" : user.user_class.c_str());
  }
  if (std::fflush(stdout) != 0) return fail("write stdout failed");
  return kExitOk;
}

int run(int argc, char** argv) {
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  for (std::string_view arg : args) {
    if (is_help(arg)) {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return kExitOk;
    }
  }
  std::string file = kDefaultUsersFile;
  std::size_t next = 0;
  while (next < args.size() && args[next].starts_with("-")) {
    const std::string_view arg = args[next];
    if (arg == "-f" || arg == "--file") {
      if (next + 1 >= args.size()) return usage_error(std::string(arg) + " needs a FILE");
      file = std::string(args[next + 1]);
      next += 2;
    } else if (arg.starts_with("--file=")) {
      file = std::string(arg.substr(7));
      ++next;
    } else {
      return usage_error("unknown option '" + std::string(arg) + "'");
    }
    if (file.empty()) return usage_error("empty FILE");
  }
  if (next >= args.size()) return usage_error("missing command (add, delete or list)");
  const std::string_view command = args[next];
  const std::vector<std::string_view> rest(args.begin() + static_cast<std::ptrdiff_t>(next) + 1,
                                           args.end());
  if (command == "add") return run_add(file, rest);
  if (command == "delete") return run_delete(file, rest);
  if (command == "list") return run_list(file, rest);
  return usage_error("unknown command '" + std::string(command) + "' (add, delete or list)");
}

}  // namespace
}  // namespace wftpd

int main(int argc, char** argv) { return wftpd::run(argc, argv); }
