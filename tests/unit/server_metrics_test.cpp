#include "priv/server_metrics.hpp"

#include <gtest/gtest.h>

namespace wftpd {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(ServerMetrics, ReportsAndEventsMoveTheirCounters) {
  ServerMetrics metrics;
  metrics.session_started();
  metrics.refused(ServerMetrics::Refusal::kBanned);
  metrics.ban_started(BanList::Origin::kAutomatic);
  SessionReport accepted;
  accepted.type = ReportType::kLoginAccepted;
  accepted.backend = LoginBackend::kPam;
  accepted.user = "alice";
  metrics.apply(accepted);
  SessionReport failed;
  failed.type = ReportType::kLoginFailed;
  failed.throttled = true;
  metrics.apply(failed);
  SessionReport done;
  done.type = ReportType::kTransferDone;
  done.direction = TransferDirection::kIncoming;
  done.bytes = 5000;
  done.complete = false;
  metrics.apply(done);
  SessionReport status;
  status.type = ReportType::kStatus;
  status.status.data_tls_handshakes = 2;
  status.status.data_tls_refusals = 1;
  metrics.apply(status);
  ServerMetrics::Gauges gauges;
  gauges.sessions_open = 3;
  const std::string text = metrics.render(gauges);
  EXPECT_TRUE(has_line(text, "wardenftpd_sessions_total 1")) << text;
  EXPECT_TRUE(has_line(text, "wardenftpd_sessions_open 3"));
  EXPECT_TRUE(has_line(text, "wardenftpd_connections_refused_total{reason=\"banned\"} 1"));
  EXPECT_TRUE(has_line(text, "wardenftpd_bans_total{origin=\"automatic\"} 1"));
  EXPECT_TRUE(has_line(text, "wardenftpd_logins_total{result=\"accepted\",backend=\"pam\"} 1"));
  EXPECT_TRUE(has_line(text, "wardenftpd_logins_total{result=\"failed\",backend=\"none\"} 1"));
  EXPECT_TRUE(has_line(text, "wardenftpd_logins_throttled_total 1"));
  EXPECT_TRUE(has_line(text, "wardenftpd_transfer_bytes_total{direction=\"in\"} 5000"));
  EXPECT_TRUE(has_line(text, "wardenftpd_transfers_total{direction=\"in\",result=\"incomplete\"} 1"));
  EXPECT_TRUE(has_line(text, "wardenftpd_tls_handshakes_total{channel=\"data\"} 2"));
  EXPECT_TRUE(has_line(text, "wardenftpd_tls_reuse_refusals_total 1"));
}

TEST(ServerMetrics, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  const std::string text = ServerMetrics{}.render({});
  std::size_t families = 0;
  std::size_t at = 0;
  while ((at = text.find("# TYPE ", at)) != std::string::npos) {
    ++families;
    const std::size_t end = text.find('\n', at);
    const std::string line = text.substr(at + 7, end - at - 7);
    const std::string name = line.substr(0, line.find(' '));
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    const std::string type = line.substr(line.find(' ') + 1);
    EXPECT_TRUE(type == "counter" || type == "gauge") << line;
    if (type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
    at = end;
  }
  EXPECT_GE(families, 15u);
}

}  // namespace
}  // namespace wftpd
