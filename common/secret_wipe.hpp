// Wiping secrets (passwords, password hashes, key material) before their memory is freed or
// reused, so that they do not outlive their use in a process's heap.
#pragma once

#include <string.h>  // explicit_bzero

#include <cstddef>
#include <string>

namespace wftpd {

// Overwrites the whole of text's buffer (its capacity, not only its size) with zeros, in a way
// the compiler may not drop, and empties the string; the buffer stays allocated.
inline void wipe_secret(std::string& text) {
  // Growing to the capacity never reallocates, so this reaches every byte the string owns.
  text.resize(text.capacity());
  ::explicit_bzero(text.data(), text.size());
  text.clear();
}

// Overwrites `size` bytes at `bytes` with zeros, in a way the compiler may not drop.
inline void wipe_bytes(void* bytes, std::size_t size) { ::explicit_bzero(bytes, size); }

// Zeroes the stack just below the caller's frame, where the functions it called left their
// locals: crypt(3)'s implementations do not wipe all of theirs. Not inlined, so that its
// frame lies where theirs did.
[[gnu::noinline]] inline void wipe_stack_below_caller() {
  char used_by_callees[64 * 1024];
  ::explicit_bzero(used_by_callees, sizeof used_by_callees);
}

}  // namespace wftpd
