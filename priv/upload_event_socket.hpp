// The monitor's end of the upload-event socket (upload_event_socket): a non-blocking Unix
// datagram socket connected once, when the session starts, to the socket the consumer bound.
// Each event (priv/upload_event.hpp) is one datagram sent without waiting; an event that cannot
// be sent at once is dropped and counted, never retried, so an upload never waits for, or fails
// because of, the consumer.
//
// SECURITY: the socket is opened and connected before the monitor enters its sandbox, so the
// monitor's seccomp filter needs no AF_UNIX socket() (it allows TCP sockets only) and sending
// needs only sendmsg, which the monitor channel already uses. The monitor never reconnects: it
// could not (its filter makes no AF_UNIX socket, and in its chroot, the empty directory, the
// path names nothing). A consumer that restarts (binds a new socket at the path) is reached by
// the sessions that start after it is back; sessions already running drop their events
// (ECONNREFUSED, then ENOTCONN: "consumer gone").
//
// Logging is bounded: the first drop of a session is logged with its reason, and the count at
// the session's end (log_summary), never one line per drop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/unique_fd.hpp"

namespace wftpd {

enum class UploadEventDelivery : std::uint8_t {
  kSent,
  kNoConsumer,    // dropped: nobody had bound the socket when the session started
  kConsumerBusy,  // dropped: the consumer's queue is full (EAGAIN)
  kConsumerGone,  // dropped: the consumer closed its socket since (ECONNREFUSED, ENOTCONN)
  kSendFailed,    // dropped: any other error (EMSGSIZE, ENOBUFS, ...)
};

class UploadEventSocket {
 public:
  UploadEventSocket() = default;  // no socket configured: every send is kNoConsumer

  // socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC) and connect() to `path`. Never
  // fails: a consumer absent now (no socket file, nobody bound, no permission) makes every
  // event of this session a kNoConsumer drop; why is kept for the first drop's log line.
  static UploadEventSocket connect_to(const std::string& path);

  // One event, one datagram, MSG_DONTWAIT. Counts and, for the first drop, logs.
  UploadEventDelivery send(std::string_view event);

  bool connected() const { return socket_.valid(); }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }

  // At the session's end: one line if any event was dropped (how many, of how many).
  void log_summary() const;

 private:
  UploadEventDelivery drop(UploadEventDelivery why, int error_number);

  UniqueFd socket_;
  std::string path_;
  int connect_errno_ = 0;  // why there is no socket (0: none configured)
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

// "sent", "no consumer", "consumer busy", "consumer gone", "send failed".
std::string_view upload_event_delivery_name(UploadEventDelivery delivery);

}  // namespace wftpd
