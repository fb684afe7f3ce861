// One end of a monitor socketpair (AF_UNIX, SOCK_SEQPACKET): whole datagrams, optional fd.
#pragma once

#include <string.h>  // explicit_bzero

#include <chrono>
#include <string>

#include "common/monitor_protocol.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

struct ReceivedMessage {
  std::uint16_t type = 0;
  std::string payload;
  UniqueFd attached_fd;  // at most one descriptor travels with a message
};

enum class ReceiveStatus { kMessage, kClosed, kTimeout };

class MonitorChannel {
 public:
  MonitorChannel() = default;
  explicit MonitorChannel(UniqueFd socket) : socket_(std::move(socket)) {}

  int fd() const { return socket_.get(); }
  bool valid() const { return socket_.valid(); }
  void close() { socket_.reset(); }

  // SECURITY: the encoded datagram is wiped once sent (some messages carry a password or a TLS
  // session; see encode_message).
  template <class Message>
  Result<void> send(const Message& message, int attached_fd = -1) {
    std::string datagram = encode_message(message);
    auto sent = send_datagram(datagram, attached_fd);
    ::explicit_bzero(datagram.data(), datagram.size());
    return sent;
  }

  // Receives one datagram. An oversized datagram, a truncated one or more than one passed
  // descriptor is an error (the peer is misbehaving); end of stream is kClosed.
  Result<ReceiveStatus> receive(ReceivedMessage& out,
                                std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

  // Receives exactly a Message: any other type, a closed channel or a bad payload is an error.
  template <class Message>
  Result<Message> expect(UniqueFd* attached = nullptr,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(-1)) {
    ReceivedMessage received;
    auto status = receive(received, timeout);
    if (!status) return status.error();
    if (*status == ReceiveStatus::kClosed) return make_error("monitor channel closed");
    if (*status == ReceiveStatus::kTimeout) return make_error("monitor channel timed out");
    // SECURITY: answers are checked for the exact expected type.
    if (received.type != static_cast<std::uint16_t>(Message::kType)) {
      return make_error("unexpected message " + std::string(message_type_name(received.type)));
    }
    if (attached != nullptr) {
      *attached = std::move(received.attached_fd);
    } else if (received.attached_fd.valid()) {
      return make_error("unexpected descriptor with message");
    }
    return decode_payload<Message>(received.payload);
  }

 // One already encoded message (encode_message), for callers that hold it type-erased.
  Result<void> send_datagram(const std::string& datagram, int attached_fd);

 private:
  UniqueFd socket_;
};

// Creates a connected SOCK_SEQPACKET pair (close-on-exec).
Result<std::pair<UniqueFd, UniqueFd>> make_monitor_socketpair();

}  // namespace wftpd
