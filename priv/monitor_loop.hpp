// The monitor's event loop: waits on the children's channels and hands every datagram to the
// dispatcher, which alone decides what happens next; it also takes the listener's unasked
// notices (rate shares) as they come.
#pragma once

#include "common/monitor_channel.hpp"
#include "priv/listener_link.hpp"
#include "priv/monitor_dispatch.hpp"

namespace wftpd {

// Returns when the dispatcher ends the session or both channels are gone.
void run_monitor_loop(MonitorDispatcher& dispatcher, MonitorChannel& preauth, MonitorChannel& postauth,
                      ListenerLink& listener);

}  // namespace wftpd
