#include "priv/proxy_pending.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace wftpd {
namespace {

using Clock = std::chrono::steady_clock;

// A connected stream pair: `server` goes into the pending set, the test writes to `proxy`.
struct Pair {
  UniqueFd server;
  UniqueFd proxy;
};

Pair make_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return Pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void send_text(int fd, const std::string& text) {
  ASSERT_EQ(::send(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
}

std::vector<ProxiedConnection> poll_once(PendingProxyHeaders& pending, Clock::time_point now) {
  std::vector<pollfd> fds;
  pending.append_poll_fds(fds);
  EXPECT_GE(::poll(fds.data(), fds.size(), 0), 0);
  return pending.process(fds, now);
}

std::string read_rest(int fd) {
  char buffer[256];
  const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

const SocketAddress kProxy = SocketAddress::parse("127.0.0.1:5000").value();

TEST(PendingProxyHeaders, HeaderSentByteByByteIsConsumedExactlyAndTheClientBytesStay) {
  PendingProxyHeaders pending;
  auto pair = make_pair();
  const int server = pair.server.get();
  const auto now = Clock::now();
  pending.add(std::move(pair.server), 7, kProxy, false, now + std::chrono::seconds(5));
  const std::string header = "PROXY TCP4 192.0.2.9 198.51.100.1 40000 21\r\n";
  for (std::size_t i = 0; i + 1 < header.size(); ++i) {
    send_text(pair.proxy.get(), header.substr(i, 1));
    EXPECT_TRUE(poll_once(pending, now).empty());
    EXPECT_EQ(pending.size(), 1u);
  }
  send_text(pair.proxy.get(), header.substr(header.size() - 1) + "USER demo\r\n");
  auto done = poll_once(pending, now);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(pending.size(), 0u);
  EXPECT_EQ(done[0].fd.get(), server);
  ASSERT_TRUE(done[0].client.has_value());
  EXPECT_EQ(done[0].client->to_string(), "192.0.2.9:40000");
  EXPECT_EQ(done[0].destination->to_string(), "198.51.100.1:21");
  EXPECT_EQ(read_rest(server), "USER demo\r\n");
}

TEST(PendingProxyHeaders, LocalHeaderNamesNoClient) {
  PendingProxyHeaders pending;
  auto pair = make_pair();
  const auto now = Clock::now();
  pending.add(std::move(pair.server), 7, kProxy, true, now + std::chrono::seconds(5));
  send_text(pair.proxy.get(), std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16) + "\x16\x03");
  auto done = poll_once(pending, now);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].client.has_value());
  EXPECT_TRUE(done[0].implicit_tls);
  EXPECT_EQ(read_rest(done[0].fd.get()), "\x16\x03");
}

TEST(PendingProxyHeaders, MalformedHeaderOrEarlyCloseDropsTheConnection) {
  PendingProxyHeaders pending;
  auto bad = make_pair();
  auto closing = make_pair();
  const auto now = Clock::now();
  pending.add(std::move(bad.server), 7, kProxy, false, now + std::chrono::seconds(5));
  pending.add(std::move(closing.server), 7, kProxy, false, now + std::chrono::seconds(5));
  send_text(bad.proxy.get(), "GET / HTTP/1.0\r\n");
  send_text(closing.proxy.get(), "PROXY TCP4 ");
  closing.proxy.reset();
  EXPECT_TRUE(poll_once(pending, now).empty());  // the bad one goes; the header prefix is taken
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_TRUE(poll_once(pending, now).empty());  // then the end of stream
  EXPECT_EQ(pending.size(), 0u);
  // The server side was closed (with the bad bytes unread: a reset), not kept open.
  char byte;
  const ssize_t got = ::recv(bad.proxy.get(), &byte, 1, 0);
  EXPECT_TRUE(got == 0 || (got < 0 && errno == ECONNRESET)) << got;
}

TEST(PendingProxyHeaders, DeadlineDropsASilentProxyAndPollWaitsNoLonger) {
  PendingProxyHeaders pending;
  auto pair = make_pair();
  const auto now = Clock::now();
  EXPECT_EQ(pending.poll_timeout_ms(now), -1);
  pending.add(std::move(pair.server), 7, kProxy, false, now + std::chrono::milliseconds(1500));
  const int timeout = pending.poll_timeout_ms(now);
  EXPECT_GE(timeout, 1500);
  EXPECT_LE(timeout, 1501);
  EXPECT_TRUE(poll_once(pending, now + std::chrono::milliseconds(1499)).empty());
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending.poll_timeout_ms(now + std::chrono::seconds(2)), 0);
  EXPECT_TRUE(poll_once(pending, now + std::chrono::milliseconds(1500)).empty());
  EXPECT_EQ(pending.size(), 0u);
}

}  // namespace
}  // namespace wftpd
