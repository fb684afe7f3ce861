// A value-or-error type for code that must not throw across a trust boundary.
// (std::expected would do, but clang 14's libFuzzer build cannot use libstdc++'s <expected>.)
// The error is a text (Error) unless a caller must decide by it: then it is a type of its own,
// usually an enum (Result<ActiveTarget, PortArgumentError>), never a text to match.
#pragma once

#include <cassert>
#include <cstring>
#include <string>
#include <utility>
#include <string_view>
#include <variant>

namespace wftpd {

struct Error {
  std::string message;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

// Error text for a failed system call: "CALL: strerror(errno)".
inline Error system_error(std::string_view call, int err) {
  std::string text(call);
  text += ": ";
  text += std::strerror(err);
  return Error{std::move(text)};
}

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, E> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> ok_result() { return Result<void>(); }

}  // namespace wftpd
