#include "unpriv/common_commands.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

std::string code_of(const CommonReply& reply) { return reply.text.substr(0, 4); }

TEST(CommonCommands, FtpsCommandsWithoutTlsAre502) {
  ControlTlsState tls;
  CommonSession session{false, false, {}, tls};
  EXPECT_EQ(pbsz_command("0", session).text, "502 TLS is not available on this server.\r\n");
  EXPECT_EQ(code_of(prot_command("P", session)), "502 ");
  EXPECT_EQ(code_of(ccc_command("", session)), "502 ");
  EXPECT_EQ(auth_refusal(session), "502 TLS is not available on this server.\r\n");
  EXPECT_FALSE(tls.pbsz_set || tls.prot_private);
}

TEST(CommonCommands, AuthIsRefusedOnlyWithoutTlsOrWithTlsInPlace) {
  ControlTlsState tls;
  CommonSession session{true, false, {}, tls};
  EXPECT_EQ(auth_refusal(session), "");
  tls.control_tls = true;
  EXPECT_EQ(auth_refusal(session), "503 Already using TLS.\r\n");
  EXPECT_EQ(code_of(ccc_command("", session)), "534 ");
  tls.control_tls = false;
  EXPECT_EQ(code_of(ccc_command("", session)), "533 ");
}

TEST(CommonCommands, AuthMechanismsAndTheLegacyOnesThatImplyPrivateData) {
  EXPECT_EQ(parse_auth_mechanism("TLS"), AuthMechanism::kTls);
  EXPECT_EQ(parse_auth_mechanism("tls-c"), AuthMechanism::kTls);
  EXPECT_EQ(parse_auth_mechanism("ssl"), AuthMechanism::kTlsWithPrivateData);
  EXPECT_EQ(parse_auth_mechanism("TLS-P"), AuthMechanism::kTlsWithPrivateData);
  for (const char* other : {"", "GSSAPI", "TLS ", "TLS-X", "KERBEROS_V4"}) {
    EXPECT_EQ(parse_auth_mechanism(other), AuthMechanism::kUnsupported) << other;
  }
}

TEST(CommonCommands, PbszThenProtChangeTheSessionsTlsState) {
  ControlTlsState tls;
  tls.control_tls = true;
  CommonSession session{true, true, {}, tls};
  EXPECT_EQ(code_of(prot_command("P", session)), "503 ");  // PBSZ first
  EXPECT_EQ(pbsz_command("0", session).text, "200 PBSZ=0\r\n");
  EXPECT_EQ(code_of(prot_command("C", session)), "521 ");  // refuse_clear_data
  EXPECT_FALSE(tls.prot_private);
  EXPECT_EQ(code_of(prot_command("p", session)), "200 ");
  EXPECT_TRUE(tls.prot_private);
}

TEST(CommonCommands, OnlyQuitEndsTheSession) {
  ControlTlsState tls;
  CommonSession session{true, false, "size*;", tls};
  EXPECT_TRUE(quit_command("", session).ends_session);
  EXPECT_EQ(quit_command("", session).text, "221 Goodbye.\r\n");
  for (const CommonHandler handler : {&feat_command, &help_command, &noop_command, &pbsz_command,
                                      &prot_command, &ccc_command}) {
    EXPECT_FALSE(handler("", session).ends_session);
  }
  EXPECT_NE(feat_command("", session).text.find(" MLST size*;\r\n"), std::string::npos);
  EXPECT_NE(feat_command("", session).text.find(" AUTH TLS\r\n"), std::string::npos);
  EXPECT_NE(help_command("", session).text.find(" AUTH CCC  PBSZ PROT\r\n"), std::string::npos);
  EXPECT_EQ(noop_command("", session).text, "200 NOOP ok.\r\n");
}

}  // namespace
}  // namespace wftpd
