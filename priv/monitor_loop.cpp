#include "priv/monitor_loop.hpp"

#include <poll.h>

#include <cerrno>

#include "common/log.hpp"

namespace wftpd {

void run_monitor_loop(MonitorDispatcher& dispatcher, MonitorChannel& preauth, MonitorChannel& postauth,
                      ListenerLink& listener) {
  for (;;) {
    pollfd fds[3];
    Child children[2];
    nfds_t count = 0;
    // The post-auth child first: after login it is the one that matters.
    if (postauth.valid() && dispatcher.listens_to(Child::kPostauth)) {
      fds[count] = {postauth.fd(), POLLIN, 0};
      children[count++] = Child::kPostauth;
    }
    if (preauth.valid() && dispatcher.listens_to(Child::kPreauth)) {
      fds[count] = {preauth.fd(), POLLIN, 0};
      children[count++] = Child::kPreauth;
    }
    if (count == 0) return;
    const nfds_t children_count = count;
    if (listener.connected()) fds[count++] = {listener.fd(), POLLIN, 0};
    const int ready = ::poll(fds, count, static_cast<int>(dispatcher.wait_limit().count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      log_error(system_error("poll", errno).message);
      return;
    }
    if (ready == 0) {
      if (dispatcher.on_timeout() == Step::kEndSession) return;
      continue;
    }
    if (count > children_count && fds[children_count].revents != 0) {
      listener.take_waiting();
      if (ready == 1) continue;
    }
    const nfds_t index = fds[0].revents != 0 ? 0 : 1;
    const Child from = children[index];
    MonitorChannel& channel = from == Child::kPreauth ? preauth : postauth;
    ReceivedMessage message;
    auto status = channel.receive(message, std::chrono::milliseconds(0));
    Step step = Step::kContinue;
    if (!status || *status == ReceiveStatus::kClosed) {
      step = dispatcher.on_closed(from, status ? std::string() : status.error().message);
      channel.close();
    } else if (*status == ReceiveStatus::kMessage) {
      step = dispatcher.dispatch(from, message);
    }
    if (step == Step::kEndSession) return;
  }
}

}  // namespace wftpd
