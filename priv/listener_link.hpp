// The session monitor's end of its report socket to the listener (descriptor 7 at exec; a
// SOCK_SEQPACKET pair, priv/session_report.hpp): reports go out, best effort; notices come in,
// either as the answer to a question (ask()) or unasked (rate shares, whenever the listener
// recomputes them). read_notice() is the one place that reads and decodes notices; it keeps the
// rate shares, whoever called it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/unique_fd.hpp"
#include "priv/session_report.hpp"

namespace wftpd {

class ListenerLink {
 public:
  ListenerLink() = default;
  explicit ListenerLink(UniqueFd fd) : fd_(std::move(fd)) {}

  // False without a listener (inetd mode), or once the listener closed its end.
  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // Best effort: the socket is non-blocking and a frame is sent whole or not at all.
  void report(const SessionReport& report);
  // Sends `question` and waits (at most `timeout`) for the notice of type `wanted`; notices of
  // other types that arrive meanwhile are kept as usual.
  std::optional<ListenerNotice> ask(const SessionReport& question, NoticeType wanted,
                                    std::chrono::milliseconds timeout);
  // Reads every notice waiting now (the monitor's loop calls it when the socket is readable).
  void take_waiting();
  // The latest share the listener sent for this session's transfers in `direction`; 0: none.
  std::uint64_t rate_share(TransferDirection direction) const {
    return shares_[direction == TransferDirection::kIncoming ? 0 : 1];
  }

 private:
  enum class Got { kNotice, kNothing, kGone };
  // Reads and decodes one notice if one is waiting; keeps it if it is a rate share.
  Got read_notice(ListenerNotice& notice);

  UniqueFd fd_;
  std::array<std::uint64_t, 2> shares_{};
};

}  // namespace wftpd
