// The monitor's upload-event sender (priv/upload_event_socket.hpp) against real consumer sockets:
// delivered, or dropped and counted without ever waiting.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/unique_fd.hpp"
#include "priv/upload_event_socket.hpp"

namespace wftpd {
namespace {

class UploadEventSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wftpd-upload-event-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
    path_ = directory_ + "/events";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(directory_.c_str());
  }

  // A consumer: a datagram socket bound at path_ (what contrib/upload-scan does).
  UniqueFd bind_consumer(int type = SOCK_DGRAM) {
    ::unlink(path_.c_str());
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.valid());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0)
        << std::strerror(errno);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(::listen(fd.get(), 1), 0);
    }
    return fd;
  }

  static std::string receive(int fd) {
    std::string buffer(256, '\0');
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : buffer.substr(0, static_cast<std::size_t>(n));
  }

  std::string directory_;
  std::string path_;
};

TEST_F(UploadEventSocketTest, EachEventReachesTheConsumerAsOneDatagram) {
  UniqueFd consumer = bind_consumer();
  UploadEventSocket events = UploadEventSocket::connect_to(path_);
  ASSERT_TRUE(events.connected());
  EXPECT_EQ(events.send("{\"n\":1}"), UploadEventDelivery::kSent);
  EXPECT_EQ(events.send("{\"n\":2}"), UploadEventDelivery::kSent);
  EXPECT_EQ(receive(consumer.get()), "{\"n\":1}");
  EXPECT_EQ(receive(consumer.get()), "{\"n\":2}");
  EXPECT_EQ(events.sent(), 2u);
  EXPECT_EQ(events.dropped(), 0u);
}

TEST_F(UploadEventSocketTest, NoConsumerAtSessionStartDropsEveryEventOfTheSession) {
  UploadEventSocket events = UploadEventSocket::connect_to(path_);  // nothing bound there
  EXPECT_FALSE(events.connected());
  // A consumer that comes later is not reached by this session (the monitor cannot reconnect).
  UniqueFd consumer = bind_consumer();
  EXPECT_EQ(events.send("{}"), UploadEventDelivery::kNoConsumer);
  EXPECT_EQ(events.send("{}"), UploadEventDelivery::kNoConsumer);
  EXPECT_EQ(events.dropped(), 2u);
  EXPECT_EQ(events.sent(), 0u);
  EXPECT_EQ(receive(consumer.get()), "<nothing>");
}

TEST_F(UploadEventSocketTest, StreamSocketAtThePathIsNoConsumer) {
  UniqueFd listener = bind_consumer(SOCK_STREAM);
  UploadEventSocket events = UploadEventSocket::connect_to(path_);
  EXPECT_FALSE(events.connected());
  EXPECT_EQ(events.send("{}"), UploadEventDelivery::kNoConsumer);
}

TEST_F(UploadEventSocketTest, ConsumerThatNeverReadsMakesDropsNotWaits) {
  UniqueFd consumer = bind_consumer();
  UploadEventSocket events = UploadEventSocket::connect_to(path_);
  ASSERT_TRUE(events.connected());
  const std::string event(1000, 'e');
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t busy = 0;
  // The queue holds net.unix.max_dgram_qlen datagrams (10 by default) or the send buffer's worth.
  for (int i = 0; i < 2000; ++i) {
    if (events.send(event) == UploadEventDelivery::kConsumerBusy) ++busy;
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_GT(busy, 0u);
  EXPECT_EQ(events.dropped(), busy);
  EXPECT_EQ(events.sent() + events.dropped(), 2000u);
  EXPECT_GT(events.sent(), 0u);
}

TEST_F(UploadEventSocketTest, ConsumerGoneStaysGoneForTheSessionButNewSessionsReachItsSuccessor) {
  UniqueFd consumer = bind_consumer();
  UploadEventSocket events = UploadEventSocket::connect_to(path_);
  ASSERT_TRUE(events.connected());
  EXPECT_EQ(events.send("{\"n\":1}"), UploadEventDelivery::kSent);
  consumer.reset();
  UniqueFd restarted = bind_consumer();  // the consumer restarts and binds the path again
  EXPECT_EQ(events.send("{\"n\":2}"), UploadEventDelivery::kConsumerGone);
  EXPECT_EQ(events.send("{\"n\":3}"), UploadEventDelivery::kConsumerGone);
  EXPECT_EQ(events.dropped(), 2u);
  EXPECT_EQ(receive(restarted.get()), "<nothing>");
  UploadEventSocket next_session = UploadEventSocket::connect_to(path_);
  EXPECT_EQ(next_session.send("{\"n\":4}"), UploadEventDelivery::kSent);
  EXPECT_EQ(receive(restarted.get()), "{\"n\":4}");
}

}  // namespace
}  // namespace wftpd
