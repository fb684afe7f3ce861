#include "common/monitor_channel.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/io.hpp"

namespace wftpd {

Result<void> MonitorChannel::send_datagram(const std::string& datagram, int attached_fd) {
  iovec iov{const_cast<char*>(datagram.data()), datagram.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (attached_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &attached_fd, sizeof(int));
  }
  for (;;) {
    const ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL);
    if (n >= 0) return ok_result();
    if (errno == EINTR) continue;
    return system_error("sendmsg", errno);
  }
}

Result<ReceiveStatus> MonitorChannel::receive(ReceivedMessage& out,
                                              std::chrono::milliseconds timeout) {
  if (timeout.count() >= 0) {
    auto ready = wait_readable(socket_.get(), timeout);
    if (!ready) return ready.error();
    if (*ready == Readiness::kTimeout) return ReceiveStatus::kTimeout;
  }
  // One byte more than the largest valid datagram, so an oversized one is noticed even if the
  // kernel did not set MSG_TRUNC.
  std::string buffer(kMonitorHeaderSize + kMaxMonitorPayload + 1, '\0');
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // Room for more than one descriptor, so that extra ones are received (and closed) rather than
  // silently truncated away.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  for (;;) {
    n = ::recvmsg(socket_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return ReceiveStatus::kClosed;
    return system_error("recvmsg", errno);
  }
  std::vector<UniqueFd> descriptors;
  for (cmsghdr* header = CMSG_FIRSTHDR(&msg); header != nullptr;
       header = CMSG_NXTHDR(&msg, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      descriptors.emplace_back(fd);
    }
  }
  if (n == 0 && descriptors.empty()) return ReceiveStatus::kClosed;
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
      static_cast<std::size_t>(n) > kMonitorHeaderSize + kMaxMonitorPayload) {
    return make_error("oversized or truncated monitor message");
  }
  if (descriptors.size() > 1) return make_error("more than one descriptor with a message");
  auto header = decode_header(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  if (!header) return header.error();
  out.type = header->type;
  out.payload.assign(header->payload);
  out.attached_fd = descriptors.empty() ? UniqueFd() : std::move(descriptors.front());
  // The datagram may have carried a password (LoginRequest, PamCheck): only the caller's copy
  // is left.
  ::explicit_bzero(buffer.data(), static_cast<std::size_t>(n));
  return ReceiveStatus::kMessage;
}

Result<std::pair<UniqueFd, UniqueFd>> make_monitor_socketpair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return system_error("socketpair", errno);
  }
  return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

}  // namespace wftpd
