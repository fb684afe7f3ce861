#include "priv/listener_link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/log.hpp"

namespace wftpd {

void ListenerLink::report(const SessionReport& report) {
  if (!fd_) return;
  const std::string frame = encode_report(report);
  [[maybe_unused]] const ssize_t n = ::write(fd_.get(), frame.data(), frame.size());
}

ListenerLink::Got ListenerLink::read_notice(ListenerNotice& notice) {
  char buffer[kMaxReportFrame];
  for (;;) {
    // recvmsg: the monitor's filter has no read() (policy/fragments/monitor_channel.policy).
    iovec part{buffer, sizeof(buffer)};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd_.get(), &message, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Got::kNothing;
    if (n <= 0) {
      log_warning(n == 0 ? std::string("the listener closed the report socket")
                         : system_error("recvmsg(listener notice)", errno).message);
      fd_.reset();
      return Got::kGone;
    }
    auto decoded = decode_notice(std::string_view(buffer, static_cast<std::size_t>(n)));
    if (!decoded) {
      // SECURITY: the listener is trusted, but a frame that does not decode is never half-used.
      log_error("malformed notice from the listener: " + decoded.error().message);
      return Got::kNothing;
    }
    notice = *decoded;
    if (notice.type == NoticeType::kRateShare) {
      shares_[notice.direction == TransferDirection::kIncoming ? 0 : 1] = notice.rate;
    }
    return Got::kNotice;
  }
}

std::optional<ListenerNotice> ListenerLink::ask(const SessionReport& question, NoticeType wanted,
                                                std::chrono::milliseconds timeout) {
  if (!fd_) return std::nullopt;
  const std::string frame = encode_report(question);
  if (::write(fd_.get(), frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) {
    log_warning(system_error("write(report to the listener)", errno).message);
    return std::nullopt;
  }
  // The listener answers at its next wakeup; it is never expected to take long.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ListenerNotice notice;
    const Got got = read_notice(notice);
    if (got == Got::kGone) return std::nullopt;
    if (got == Got::kNotice) {
      if (notice.type == wanted) return notice;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{fd_.get(), POLLIN, 0};
    const int n = left.count() > 0 ? ::poll(&ready, 1, static_cast<int>(left.count())) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log_warning("the listener did not answer in time");
      return std::nullopt;
    }
  }
}

void ListenerLink::take_waiting() {
  // Bounded: the listener sends a notice per change of the running transfers; a flood would
  // still end after this many.
  for (int i = 0; i < 64 && fd_; ++i) {
    ListenerNotice notice;
    if (read_notice(notice) != Got::kNotice) return;
  }
}

}  // namespace wftpd
