// Password hashing and verification for virtual users, on top of libcrypt (libxcrypt).
//
// Only two methods are accepted: yescrypt ("$y$", the default) and sha512-crypt ("$6$", for
// systems whose other tools cannot read yescrypt). Older crypt methods (DES, MD5, ...) are
// refused everywhere: a users file holding one is a configuration error, not a weak login.
//
// A hash prefixed with one or more '!' is a locked account (the passwd(5) convention): it is
// well-formed, but no password ever verifies against it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wftpd {

enum class HashMethod { kYescrypt, kSha512Crypt };

// Longest password verify_password looks at, and the bound for reading one. Longer input is
// refused rather than truncated, so that two different long passwords are never equivalent.
inline constexpr std::size_t kMaxPasswordLength = 1024;

// Longest password libxcrypt hashes (CRYPT_MAX_PASSPHRASE_SIZE - 1); crypt fails on longer
// ones, so hash_password refuses them and verify_password never accepts them.
inline constexpr std::size_t kMaxHashablePasswordLength = 511;

// Longest hash string accepted (yescrypt and sha512-crypt hashes are about 75-125 bytes).
inline constexpr std::size_t kMaxHashLength = 255;

// "yescrypt" or "sha512": the names wardenftpd-passwd uses for --method and `list`.
std::string_view hash_method_name(HashMethod method);
std::optional<HashMethod> parse_hash_method_name(std::string_view name);

// The method of a well-formed hash, locked or not; nullopt for anything else (including "",
// "*", a bare "!", and hashes of other crypt methods). Purely syntactic: never calls crypt.
std::optional<HashMethod> hash_method_of(std::string_view hash);

// True when `hash` starts with '!' (a locked account).
bool is_locked_hash(std::string_view hash);

// True for what a users file may hold in its hash field: a well-formed yescrypt or
// sha512-crypt hash, optionally locked, or a bare run of '!' (locked, never had a password).
bool is_valid_stored_hash(std::string_view hash);

// A new hash of `password` with a fresh salt from the system (crypt_gensalt_rn with no caller
// randomness) and the library's default cost. Refuses empty passwords, passwords holding NUL
// bytes and passwords longer than kMaxHashablePasswordLength.
Result<std::string> hash_password(std::string_view password, HashMethod method);

// Constant-work verification: compares crypt_rn(password, hash) with hash in constant time.
// Returns false for passwords with NUL bytes, longer than kMaxPasswordLength, locked ('!')
// hashes, hashes of other methods, or crypt failure.
bool verify_password(std::string_view password, std::string_view hash);

}  // namespace wftpd
