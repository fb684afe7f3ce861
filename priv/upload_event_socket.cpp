#include "priv/upload_event_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"

namespace wftpd {

std::string_view upload_event_delivery_name(UploadEventDelivery delivery) {
  switch (delivery) {
    case UploadEventDelivery::kSent: return "sent";
    case UploadEventDelivery::kNoConsumer: return "no consumer";
    case UploadEventDelivery::kConsumerBusy: return "consumer busy";
    case UploadEventDelivery::kConsumerGone: return "consumer gone";
    case UploadEventDelivery::kSendFailed: return "send failed";
  }
  return "?";
}

UploadEventSocket UploadEventSocket::connect_to(const std::string& path) {
  UploadEventSocket events;
  events.path_ = path;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    events.connect_errno_ = ENAMETOOLONG;  // the configuration parser refuses such a path
    return events;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  // SECURITY: non-blocking from the start, so no send can ever wait for the consumer.
  UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket) {
    events.connect_errno_ = errno;
    return events;
  }
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    events.connect_errno_ = errno;
    return events;
  }
  events.socket_ = std::move(socket);
  return events;
}

UploadEventDelivery UploadEventSocket::send(std::string_view event) {
  if (!socket_) return drop(UploadEventDelivery::kNoConsumer, connect_errno_);
  iovec part{const_cast<char*>(event.data()), event.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  ssize_t n;
  do {
    n = ::sendmsg(socket_.get(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    ++sent_;  // a datagram is sent whole or not at all
    return UploadEventDelivery::kSent;
  }
  const int error_number = errno;
  switch (error_number) {
    case EAGAIN:
      return drop(UploadEventDelivery::kConsumerBusy, error_number);
    case ECONNREFUSED:  // the peer closed: the kernel disconnects this socket
    case ENOTCONN:      // every send after that
    case ECONNRESET:
    case EPIPE:
      return drop(UploadEventDelivery::kConsumerGone, error_number);
    default:
      return drop(UploadEventDelivery::kSendFailed, error_number);
  }
}

UploadEventDelivery UploadEventSocket::drop(UploadEventDelivery why, int error_number) {
  if (++dropped_ > 1) return why;
  const std::string error_text =
      error_number == 0 ? std::string() : std::string(" (") + std::strerror(error_number) + ")";
  std::string detail;
  switch (why) {
    case UploadEventDelivery::kNoConsumer:
      detail = "no consumer at " + path_ + " when this session started" + error_text;
      break;
    case UploadEventDelivery::kConsumerBusy:
      detail = "the consumer at " + path_ + " is not keeping up, its queue is full" + error_text;
      break;
    case UploadEventDelivery::kConsumerGone:
      detail = "the consumer at " + path_ + " went away" + error_text +
               "; a restarted consumer gets the events of sessions started after it";
      break;
    case UploadEventDelivery::kSendFailed:
    case UploadEventDelivery::kSent:
      detail = "sending to " + path_ + " failed" + error_text;
      break;
  }
  log_line(LogLevel::kWarning,
           "upload event dropped: " + detail +
               "; the upload itself is unaffected; further drops in this session are counted "
               "and reported when it ends",
           {{"event", "upload-event-dropped"},
            {"reason", upload_event_delivery_name(why)}});
  return why;
}

void UploadEventSocket::log_summary() const {
  if (dropped_ == 0) return;
  const std::string dropped = std::to_string(dropped_);
  const std::string total = std::to_string(dropped_ + sent_);
  log_line(LogLevel::kWarning,
           "upload events dropped in this session: " + dropped + " of " + total,
           {{"event", "upload-events-dropped"}, {"dropped", dropped}, {"total", total}});
}

}  // namespace wftpd
