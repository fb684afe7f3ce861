#include "unpriv/control_connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

namespace wftpd {
namespace {

using std::chrono::milliseconds;

struct Pair {
  int server = -1;
  int client = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    server = fds[0];
    client = fds[1];
  }
  ~Pair() {
    ::close(server);  // ControlConnection does not own its descriptor
    ::close(client);
  }
};

TEST(ControlConnection, AQuietHookRunsOnceWhileTheClientPausesAndTheLineStillArrives) {
  Pair pair;
  ControlConnection control(pair.server, std::chrono::seconds(10));
  int calls = 0;
  control.call_if_quiet(std::chrono::steady_clock::now() + milliseconds(30), [&] { ++calls; });
  std::thread client([&] {
    std::this_thread::sleep_for(milliseconds(200));
    ASSERT_EQ(::write(pair.client, "NOOP\r\n", 6), 6);
  });
  auto input = control.next_line();
  client.join();
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->status, ControlChannel::Status::kLine);
  EXPECT_EQ(input->line, "NOOP");
  EXPECT_EQ(calls, 1);
}

TEST(ControlConnection, AQuietHookDoesNotStopTheIdleTimeout) {
  Pair pair;
  ControlConnection control(pair.server, std::chrono::seconds(1));
  int calls = 0;
  control.call_if_quiet(std::chrono::steady_clock::now() + milliseconds(10), [&] { ++calls; });
  const auto started = std::chrono::steady_clock::now();
  auto input = control.next_line();
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->status, ControlChannel::Status::kTimeout);
  EXPECT_EQ(calls, 1);
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(900));
}

TEST(ControlConnection, ALineBeforeTheQuietTimeLeavesTheHookUncalled) {
  Pair pair;
  ControlConnection control(pair.server, std::chrono::seconds(10));
  int calls = 0;
  control.call_if_quiet(std::chrono::steady_clock::now() + std::chrono::seconds(5), [&] { ++calls; });
  ASSERT_EQ(::write(pair.client, "PWD\r\n", 5), 5);
  auto input = control.next_line();
  ASSERT_TRUE(input.ok());
  EXPECT_EQ(input->line, "PWD");
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace wftpd
