// Named constants and errno names understood by the policy language.
// The values come from the system headers of the machine that builds the
// policy compiler, which is the machine (and architecture) the daemon targets.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wftpd::policy {

// Value of a named constant (PROT_READ, O_CLOEXEC, AT_FDCWD, ...), sign-extended
// to 64 bits the way the kernel sees a negative int argument. nullopt if unknown.
std::optional<std::uint64_t> lookup_constant(std::string_view name);

// errno value for a name such as "EPERM". nullopt if unknown.
std::optional<int> lookup_errno(std::string_view name);

}  // namespace wftpd::policy
