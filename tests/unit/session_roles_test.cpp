// The roles table (common/session_roles.hpp) against the filters built into the binary.
#include "common/session_roles.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "policy/embedded_policy.hpp"
#include "priv/privilege_drop.hpp"

namespace wftpd {
namespace {

TEST(SessionRoles, EveryEmbeddedFilterIsARoleAndEveryRolePolicyIsEmbedded) {
  std::set<std::string> embedded, table;
  for (const auto& policy : policy::embedded_policies()) embedded.emplace(policy.role);
  for (const auto& role : role_table()) {
    EXPECT_EQ(&role_spec(role.role), &role) << role.name;
    EXPECT_EQ(find_role(role.name), &role) << role.name;
    if (!role.policy.empty()) table.emplace(role.policy);
  }
  EXPECT_EQ(embedded, table);
  EXPECT_EQ(find_role("nosuchrole"), nullptr);
}

TEST(SessionRoles, ConfigurationChoosesTheVariant) {
  Config config;
  EXPECT_EQ(preauth_role(config), Role::kPreauth);
  EXPECT_EQ(postauth_role(config, false), Role::kPostauth);
  EXPECT_EQ(postauth_role(config, true), Role::kAnonymous);
  config.tls_enable = true;
  config.anon_upload_dir = "/incoming";
  EXPECT_EQ(preauth_role(config), Role::kPreauthTls);
  EXPECT_EQ(postauth_role(config, true), Role::kAnonymousUpload);
  EXPECT_EQ(effective_role("preauth", config)->name, "preauth-tls");
  EXPECT_EQ(effective_role("anonymous", config)->name, "anonymous-upload");
  EXPECT_EQ(effective_role("monitor", config)->name, "monitor");
  EXPECT_EQ(effective_role("bogus", config), nullptr);
}

TEST(SessionRoles, SandboxSpecCarriesTheRowsLimits) {
  const SandboxSpec preauth = sandbox_spec(Role::kPreauthTls);
  EXPECT_EQ(preauth.role, "preauth-tls");
  EXPECT_TRUE(preauth.change_identity);
  EXPECT_EQ(preauth.max_open_files, 16u);
  EXPECT_EQ(preauth.max_address_space, rlim_t{1} << 30);
  EXPECT_EQ(preauth.max_cpu_seconds, 600u);
  EXPECT_FALSE(preauth.allow_fork);
  const SandboxSpec monitor = sandbox_spec(Role::kMonitor);
  EXPECT_FALSE(monitor.change_identity);
  EXPECT_EQ(monitor.max_open_files, 64u);
  EXPECT_EQ(monitor.max_cpu_seconds, RLIM_INFINITY);
  const SandboxSpec postauth = sandbox_spec(Role::kAnonymous);
  EXPECT_EQ(postauth.max_address_space, rlim_t{4} << 30);
  EXPECT_EQ(postauth.max_cpu_seconds, RLIM_INFINITY);
}

}  // namespace
}  // namespace wftpd
