// Password hashing and verification with libxcrypt; see password_hash.hpp.
#include "common/password_hash.hpp"

#include <crypt.h>
#include <string.h>  // explicit_bzero

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/secret_wipe.hpp"

namespace wftpd {

static_assert(kMaxHashablePasswordLength == CRYPT_MAX_PASSPHRASE_SIZE - 1);
static_assert(kMaxHashablePasswordLength <= kMaxPasswordLength);

namespace {

constexpr std::string_view kYescryptPrefix = "$y$";
constexpr std::string_view kSha512Prefix = "$6$";
constexpr std::string_view kRoundsPrefix = "rounds=";
constexpr std::size_t kSha512MaxSalt = 16;       // sha512-crypt uses at most 16 salt characters
constexpr std::size_t kSha512HashLength = 86;    // 512 bits in crypt's base-64
constexpr std::size_t kYescryptHashLength = 43;  // 256 bits in crypt's base-64
constexpr std::size_t kYescryptMaxParams = 32;
constexpr std::size_t kYescryptMaxSalt = 86;

bool is_crypt64_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

bool is_crypt64(std::string_view text) {
  for (char c : text) {
    if (!is_crypt64_char(c)) return false;
  }
  return true;
}

bool is_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

std::string_view strip_lock(std::string_view hash) {
  while (!hash.empty() && hash.front() == '!') hash.remove_prefix(1);
  return hash;
}

// "$6$[rounds=N$]SALT$HASH" with the field sizes sha512-crypt produces.
bool is_sha512_hash(std::string_view hash) {
  if (!hash.starts_with(kSha512Prefix)) return false;
  std::string_view rest = hash.substr(kSha512Prefix.size());
  if (rest.starts_with(kRoundsPrefix)) {
    const std::size_t end = rest.find('$');
    if (end == std::string_view::npos) return false;
    const std::string_view rounds = rest.substr(kRoundsPrefix.size(), end - kRoundsPrefix.size());
    if (!is_digits(rounds) || rounds.size() > 9 || rounds.front() == '0') return false;
    rest.remove_prefix(end + 1);
  }
  const std::size_t sep = rest.find('$');
  if (sep == std::string_view::npos) return false;
  const std::string_view salt = rest.substr(0, sep);
  const std::string_view digest = rest.substr(sep + 1);
  return !salt.empty() && salt.size() <= kSha512MaxSalt && is_crypt64(salt) &&
         digest.size() == kSha512HashLength && is_crypt64(digest);
}

// "$y$PARAMS$SALT$HASH"; the parameters and salt are crypt base-64 of variable length.
bool is_yescrypt_hash(std::string_view hash) {
  if (!hash.starts_with(kYescryptPrefix)) return false;
  std::string_view rest = hash.substr(kYescryptPrefix.size());
  const std::size_t params_end = rest.find('$');
  if (params_end == std::string_view::npos) return false;
  const std::string_view params = rest.substr(0, params_end);
  rest.remove_prefix(params_end + 1);
  const std::size_t salt_end = rest.find('$');
  if (salt_end == std::string_view::npos) return false;
  const std::string_view salt = rest.substr(0, salt_end);
  const std::string_view digest = rest.substr(salt_end + 1);
  return !params.empty() && params.size() <= kYescryptMaxParams && is_crypt64(params) &&
         !salt.empty() && salt.size() <= kYescryptMaxSalt && is_crypt64(salt) &&
         digest.size() == kYescryptHashLength && is_crypt64(digest);
}

const char* method_prefix(HashMethod method) {
  return method == HashMethod::kYescrypt ? "$y$" : "$6$";
}

bool is_acceptable_password(std::string_view password) {
  return password.size() <= kMaxPasswordLength && password.find('\0') == std::string_view::npos;
}

// A NUL-terminated heap copy of secret text, wiped before it is freed.
class SecretCopy {
 public:
  explicit SecretCopy(std::string_view text)
      : size_(text.size() + 1), bytes_(std::make_unique<char[]>(size_)) {
    std::memcpy(bytes_.get(), text.data(), text.size());
    bytes_[text.size()] = '\0';
  }
  SecretCopy(const SecretCopy&) = delete;
  SecretCopy& operator=(const SecretCopy&) = delete;
  // SECURITY: the password must not linger in freed heap memory.
  ~SecretCopy() { explicit_bzero(bytes_.get(), size_); }

  const char* c_str() const { return bytes_.get(); }
  char* data() { return bytes_.get(); }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> bytes_;
};

// crypt_data is about 32 KiB: too large for the stack of a sandboxed worker, so it lives on the
// heap, zeroed first (libxcrypt requires that before first use) and wiped after, because it
// holds intermediate state derived from the password.
class CryptScratch {
 public:
  CryptScratch() : data_(std::make_unique<crypt_data>()) {
    std::memset(data_.get(), 0, sizeof(crypt_data));
  }
  CryptScratch(const CryptScratch&) = delete;
  CryptScratch& operator=(const CryptScratch&) = delete;
  // SECURITY: wipe password-derived state, here and in the stack frames crypt_rn used (libxcrypt
  // leaves copies of the hash it computed there, which a later deep call may never overwrite).
  ~CryptScratch() {
    explicit_bzero(data_.get(), sizeof(crypt_data));
    wipe_stack_below_caller();
  }

  // crypt_rn's output, or nullptr on failure. crypt_rn returns NULL rather than a "*" failure
  // token, but a '*' is checked too so that no failure token is ever treated as a hash.
  const char* run(const SecretCopy& password, const char* setting) {
    const char* out =
        crypt_rn(password.c_str(), setting, data_.get(), static_cast<int>(sizeof(crypt_data)));
    if (out == nullptr || out[0] == '*') return nullptr;
    return out;
  }

 private:
  std::unique_ptr<crypt_data> data_;
};

// Compares a crypt output (NUL-terminated, inside a CRYPT_OUTPUT_SIZE buffer) with `expected`.
// The time taken depends only on expected.size(), never on where the first difference is.
bool constant_time_equal(const char* computed, std::string_view expected) {
  if (expected.size() >= CRYPT_OUTPUT_SIZE) return false;
  const std::size_t computed_size = strnlen(computed, CRYPT_OUTPUT_SIZE);
  unsigned diff = computed_size == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    // Index stays inside the output buffer because expected.size() < CRYPT_OUTPUT_SIZE.
    diff |= static_cast<unsigned char>(computed[i]) ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

Result<std::string> generate_setting(HashMethod method) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE] = {};
  // SECURITY: count 0 selects the library's default cost; NULL rbytes makes libxcrypt take the
  // salt from the kernel's random generator instead of trusting the caller.
  errno = 0;
  if (crypt_gensalt_rn(method_prefix(method), 0, nullptr, 0, setting, sizeof setting) == nullptr) {
    return system_error("crypt_gensalt_rn", errno != 0 ? errno : EINVAL);
  }
  return std::string(setting);
}

}  // namespace

std::string_view hash_method_name(HashMethod method) {
  return method == HashMethod::kYescrypt ? "yescrypt" : "sha512";
}

std::optional<HashMethod> parse_hash_method_name(std::string_view name) {
  if (name == "yescrypt") return HashMethod::kYescrypt;
  if (name == "sha512") return HashMethod::kSha512Crypt;
  return std::nullopt;
}

std::optional<HashMethod> hash_method_of(std::string_view hash) {
  if (hash.size() > kMaxHashLength) return std::nullopt;
  hash = strip_lock(hash);
  if (is_yescrypt_hash(hash)) return HashMethod::kYescrypt;
  if (is_sha512_hash(hash)) return HashMethod::kSha512Crypt;
  return std::nullopt;
}

bool is_locked_hash(std::string_view hash) { return !hash.empty() && hash.front() == '!'; }

bool is_valid_stored_hash(std::string_view hash) {
  if (hash.size() > kMaxHashLength) return false;
  if (is_locked_hash(hash) && strip_lock(hash).empty()) return true;
  return hash_method_of(hash).has_value();
}

Result<std::string> hash_password(std::string_view password, HashMethod method) {
  // SECURITY: an empty password is never a credential.
  if (password.empty()) return make_error("empty password refused");
  if (password.find('\0') != std::string_view::npos) {
    return make_error("password contains a NUL byte");
  }
  if (password.size() > kMaxHashablePasswordLength) {
    return make_error("password longer than " + std::to_string(kMaxHashablePasswordLength) +
                      " bytes");
  }
  auto setting = generate_setting(method);
  if (!setting.ok()) return setting.error();

  SecretCopy secret(password);
  CryptScratch scratch;
  errno = 0;
  const char* out = scratch.run(secret, setting->c_str());
  if (out == nullptr) return system_error("crypt_rn", errno != 0 ? errno : EINVAL);
  std::string hashed(out);
  // Defence in depth: never hand out something the users file parser would refuse.
  if (hash_method_of(hashed) != method) {
    return make_error("crypt_rn produced a malformed " + std::string(hash_method_name(method)) +
                      " hash");
  }
  return hashed;
}

bool verify_password(std::string_view password, std::string_view hash) {
  // SECURITY: a NUL would silently truncate the password for crypt; overlong input is refused
  // rather than costing unbounded work.
  if (!is_acceptable_password(password)) return false;
  const bool locked = is_locked_hash(hash);
  const std::string_view real = strip_lock(hash);
  // SECURITY: only yescrypt and sha512-crypt; crypt would happily check DES or MD5 hashes.
  if (!hash_method_of(real).has_value()) return false;

  SecretCopy secret(password);
  const SecretCopy setting(real);  // not secret, but needs a terminating NUL
  CryptScratch scratch;
  // A locked account still does the full work, so it answers no faster than a wrong password.
  const char* out = scratch.run(secret, setting.c_str());
  if (out == nullptr) return false;
  const bool equal = constant_time_equal(out, real);
  // SECURITY: a locked hash never matches, even with the right password.
  return equal && !locked;
}

}  // namespace wftpd
