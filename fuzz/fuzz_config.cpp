// parse_config on arbitrary text (the configuration file is read by the privileged listener).
//
// Checks: an accepted config serialises to text that parses again, and that text is a fixed
// point (serialize(parse(serialize(c))) == serialize(c)); the second parse gives the same values.
// Rejected configs give an error naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

bool same(const wftpd::Config& a, const wftpd::Config& b) {
  return a.listen_addresses == b.listen_addresses && a.listen_port == b.listen_port &&
         a.max_clients == b.max_clients && a.nopriv_uid == b.nopriv_uid &&
         a.nopriv_gid == b.nopriv_gid && a.secure_chroot_dir == b.secure_chroot_dir &&
         a.users_file == b.users_file && a.pasv_min_port == b.pasv_min_port &&
         a.pasv_max_port == b.pasv_max_port && a.login_fail_delay_ms == b.login_fail_delay_ms &&
         a.max_login_attempts == b.max_login_attempts && a.idle_timeout == b.idle_timeout &&
         a.data_connection_timeout == b.data_connection_timeout &&
         a.data_timeout == b.data_timeout && a.policy.local_umask == b.policy.local_umask &&
         a.ftpd_banner == b.ftpd_banner && a.anonymous_enable == b.anonymous_enable &&
         a.anon_uid == b.anon_uid && a.anon_gid == b.anon_gid && a.anon_root == b.anon_root &&
         a.log_level == b.log_level;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = wftpd::fuzz::as_view(data, size);
  auto config = wftpd::parse_config(text, "fuzz.conf");
  if (!config) {
    FUZZ_CHECK(config.error().message.starts_with("fuzz.conf:"));
    return 0;
  }
  FUZZ_CHECK(!config->listen_addresses.empty());

  const std::string serialized = wftpd::serialize_config(*config);
  auto again = wftpd::parse_config(serialized, "fuzz.conf");
  if (!again) {
    std::fprintf(stderr, "re-parse failed: %s\n--- serialized:\n%s---\n",
                 again.error().message.c_str(), serialized.c_str());
  }
  FUZZ_CHECK(again.ok());
  const std::string reserialized = wftpd::serialize_config(*again);
  FUZZ_CHECK(reserialized == serialized);
  // Names in nopriv_user/anon_user become UID:GID on serialisation (ids resolved or defaulted),
  // so compare the parsed values after one round, when both sides are in canonical form.
  auto third = wftpd::parse_config(reserialized, "fuzz.conf");
  FUZZ_CHECK(third.ok() && same(*again, *third));
  // Every user a section names gets a policy (the parser checked its class and keys), the one
  // the session monitor would hand to the post-auth child.
  for (const auto& override : again->user_overrides) {
    auto policy = wftpd::effective_policy(*again, override.user, "", false);
    FUZZ_CHECK(policy.ok());
    wftpd::WireWriter out;
    wftpd::encode_session_policy(out, *policy);
    const std::string wire = out.take();
    wftpd::WireReader in(wire);
    FUZZ_CHECK(wftpd::decode_session_policy(in).ok());
  }
  return 0;
}
