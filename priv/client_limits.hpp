// Per-address admission in the listener, before anything is forked: sessions at once per
// client address and new connections per second per address (a token bucket).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <string>

#include "common/socket_address.hpp"

namespace wftpd {

// IPv4 addresses count one by one; IPv6 addresses by their /64, since one client usually
// holds a whole /64.
std::string client_key(const SocketAddress& address);
// The key as text, an AddressPrefix: "192.0.2.7", "2001:db8:1:2::/64". Empty for a malformed key.
std::string client_key_text(const std::string& key);
// The key of a prefix in that form (the inverse), or nothing for any other prefix.
std::optional<std::string> client_key_of(std::string_view prefix_text);

class ClientLimits {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Decision { kAllow, kTooManySessions, kTooFast };

  // 0 turns a limit off.
  ClientLimits(std::uint32_t max_per_address, std::uint32_t connects_per_second)
      : max_per_address_(max_per_address), connects_per_second_(connects_per_second) {}

  void set_limits(std::uint32_t max_per_address, std::uint32_t connects_per_second);

  // Decides a new connection from `key`; an allowed one uses a token (not yet a session).
  Decision admit(const std::string& key, Clock::time_point now);
  void session_started(const std::string& key);
  void session_ended(const std::string& key);
  std::size_t tracked_addresses() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void prune(Clock::time_point now);

  std::uint32_t max_per_address_;
  std::uint32_t connects_per_second_;
  std::map<std::string, std::uint32_t> sessions_;
  std::map<std::string, Bucket> buckets_;
  Clock::time_point last_prune_{};
};

}  // namespace wftpd
