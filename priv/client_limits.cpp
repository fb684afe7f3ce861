#include "priv/client_limits.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

namespace wftpd {
namespace {

// Bounds the listener's memory under a flood from many addresses.
constexpr std::size_t kMaxTrackedAddresses = 100000;

}  // namespace

std::string client_key(const SocketAddress& address) {
  const auto bytes = address.address_bytes();
  if (address.is_ipv4()) return std::string(reinterpret_cast<const char*>(bytes.data()), 4);
  return std::string(reinterpret_cast<const char*>(bytes.data()), 8) + "/64";
}

std::string client_key_text(const std::string& key) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (key.size() == 4) {
    ::inet_ntop(AF_INET, key.data(), buffer, sizeof(buffer));
    return buffer;
  }
  if (key.size() == 11 && key.ends_with("/64")) {
    std::array<unsigned char, 16> bytes{};
    std::copy(key.begin(), key.begin() + 8, bytes.begin());
    ::inet_ntop(AF_INET6, bytes.data(), buffer, sizeof(buffer));
    return std::string(buffer) + "/64";
  }
  return {};
}

std::optional<std::string> client_key_of(std::string_view prefix_text) {
  const std::string text(prefix_text);
  std::array<unsigned char, 16> bytes{};
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), 4);
  }
  if (!text.ends_with("/64")) return std::nullopt;
  const std::string host = text.substr(0, text.size() - 3);
  if (::inet_pton(AF_INET6, host.c_str(), bytes.data()) != 1) return std::nullopt;
  if (std::any_of(bytes.begin() + 8, bytes.end(), [](unsigned char b) { return b != 0; })) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(bytes.data()), 8) + "/64";
}

void ClientLimits::set_limits(std::uint32_t max_per_address, std::uint32_t connects_per_second) {
  max_per_address_ = max_per_address;
  connects_per_second_ = connects_per_second;
}

void ClientLimits::prune(Clock::time_point now) {
  // A bucket that has refilled completely carries no information: forget it.
  const double capacity = 2.0 * std::max<std::uint32_t>(connects_per_second_, 1);
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * connects_per_second_ >= capacity) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

ClientLimits::Decision ClientLimits::admit(const std::string& key, Clock::time_point now) {
  if (max_per_address_ != 0) {
    auto it = sessions_.find(key);
    if (it != sessions_.end() && it->second >= max_per_address_) return Decision::kTooManySessions;
  }
  if (connects_per_second_ == 0) return Decision::kAllow;
  const double capacity = 2.0 * connects_per_second_;
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    // SECURITY: a flood from many addresses must not make every accept scan the whole table:
    // prune at most once a second; in between, a new address is refused while it is full.
    if (buckets_.size() >= kMaxTrackedAddresses && now - last_prune_ >= std::chrono::seconds(1)) {
      last_prune_ = now;
      prune(now);
    }
    if (buckets_.size() >= kMaxTrackedAddresses) {
      // Still full: every tracked address is busy. Refuse rather than grow without bound.
      return Decision::kTooFast;
    }
    it = buckets_.emplace(key, Bucket{capacity, now}).first;
  }
  Bucket& bucket = it->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(capacity, bucket.tokens + elapsed * connects_per_second_);
  bucket.updated = now;
  if (bucket.tokens < 1.0) return Decision::kTooFast;
  bucket.tokens -= 1.0;
  return Decision::kAllow;
}

void ClientLimits::session_started(const std::string& key) { ++sessions_[key]; }

void ClientLimits::session_ended(const std::string& key) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  if (--it->second == 0) sessions_.erase(it);
}

}  // namespace wftpd
