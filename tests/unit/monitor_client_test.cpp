// The unprivileged side of the monitor protocol, over a real socketpair.
#include "unpriv/monitor_client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/monitor_protocol.hpp"

namespace wftpd {
namespace {

// Every LogEvent waiting on `fd` (non-blocking reads until none is left).
std::vector<LogEvent> drain_log_events(int fd) {
  std::vector<LogEvent> events;
  char datagram[kMonitorHeaderSize + kMaxMonitorPayload];
  for (;;) {
    const ssize_t n = ::recv(fd, datagram, sizeof(datagram), MSG_DONTWAIT);
    if (n <= 0) break;
    auto header = decode_header(std::string_view(datagram, static_cast<std::size_t>(n)));
    EXPECT_TRUE(header.ok());
    if (!header) break;
    EXPECT_EQ(header->type, static_cast<std::uint16_t>(MessageType::kLogEvent));
    auto event = decode_payload<LogEvent>(header->payload);
    EXPECT_TRUE(event.ok());
    if (event) events.push_back(*event);
  }
  return events;
}

// The monitor ends the session at a child's LogEvent number kMaxLogEventsPerChild + 1; an honest
// child stops short, says so, and leaves one line for the seccomp violation report.
TEST(MonitorClient, StopsLoggingShortOfTheMonitorsCap) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  int buffer = 1 << 20;  // room for every datagram of this test
  ASSERT_EQ(::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer)), 0);
  ASSERT_EQ(::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer)), 0);
  MonitorClient client(fds[1]);  // owns fds[1]
  std::vector<LogEvent> events;
  for (std::uint32_t i = 0; i < 2 * kMaxLogEventsPerChild; ++i) {
    client.log(EventLevel::kInfo, "line " + std::to_string(i));
    for (auto& event : drain_log_events(fds[0])) events.push_back(std::move(event));
  }
  ::close(fds[0]);
  ASSERT_EQ(events.size(), kMaxLogEventsPerChild - 1);
  EXPECT_EQ(events[kMaxLogEventsPerChild - 3].text, "line " + std::to_string(kMaxLogEventsPerChild - 3));
  EXPECT_EQ(events.back().level, EventLevel::kWarning);
  EXPECT_NE(events.back().text.find("further log lines are dropped"), std::string::npos)
      << events.back().text;
}

}  // namespace
}  // namespace wftpd
