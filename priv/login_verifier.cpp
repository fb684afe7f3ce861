#include "priv/login_verifier.hpp"

#include <time.h>

#include <cerrno>

#include "common/password_hash.hpp"
#include "common/secret_wipe.hpp"

namespace wftpd {
namespace {

// A yescrypt hash (default cost) of a random password nobody knows, used only when the users
// file has no usable entry, so that a failed login still costs one hash computation.
constexpr std::string_view kFallbackDecoy =
    "$y$j9T$5Dba1x5X699LPPafvAoox0$9rb605z6Z70E4EbRhPdbXWboPe9SPMsDpnSObXDv5h9";

}  // namespace

void sleep_until(std::chrono::steady_clock::time_point deadline) {
  const auto since_epoch = deadline.time_since_epoch();
  timespec when{};
  when.tv_sec = static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
  when.tv_nsec = static_cast<long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch % std::chrono::seconds(1))
          .count());
  // steady_clock is CLOCK_MONOTONIC on Linux.
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, nullptr) == EINTR) {
  }
}

LoginVerifier::LoginVerifier(std::vector<VirtualUser> users) : users_(std::move(users)) {
  // The decoy shares the method and cost of a real entry, so checking it costs the same.
  decoy_hash_ = std::string(kFallbackDecoy);
  for (const auto& user : users_) {
    if (!is_locked_hash(user.hash)) {
      decoy_hash_ = user.hash;
      break;
    }
  }
}

LoginVerifier::~LoginVerifier() {
  wipe_hashes(users_);
  wipe_secret(decoy_hash_);
}

bool LoginVerifier::knows(std::string_view name) const { return find_user(users_, name) != nullptr; }

LoginDecision LoginVerifier::check(std::string_view name, std::string_view password) const {
  LoginDecision decision;
  const VirtualUser* user = find_user(users_, name);
  if (user != nullptr) {
    decision.accepted = verify_password(password, user->hash);
    if (decision.accepted) {
      decision.user = user;
      return decision;
    }
    decision.log_reason = is_locked_hash(user->hash) ? "account locked" : "wrong password";
  } else {
    // SECURITY: same work for an unknown user; the result is discarded.
    [[maybe_unused]] const bool ignored = verify_password(password, decoy_hash_);
    decision.log_reason = "unknown user";
  }
  return decision;
}

}  // namespace wftpd
