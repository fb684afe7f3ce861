// The operator's control socket (control_socket): a Unix stream socket the listener serves
// between its other work, never blocking on a client. One request per connection, one answer,
// then the connection closes.
//
// SECURITY: the socket is made in a directory only root can write (checked), mode 0600 (0660
// for control_group); every connection's peer is checked again with SO_PEERCRED (root) or its
// groups (SO_PEERGROUPS, control_group). Requests are bounded (common/control_protocol.hpp),
// connections are few (kMaxConnections) and short-lived (kDeadline). FTP clients cannot reach
// it: it is a file in the listener's file system, and no session process holds it.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/control_protocol.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace wftpd {

class ControlSocket {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxConnections = 16;
  static constexpr std::chrono::seconds kDeadline{10};

  // Who asked, for the log.
  struct Peer {
    uid_t uid = 0;
    pid_t pid = 0;
  };
  struct Request {
    std::uint64_t connection = 0;
    Peer peer;
    ControlRequest request;
  };

  ControlSocket() = default;
  ControlSocket(ControlSocket&&) noexcept = default;
  ControlSocket& operator=(ControlSocket&& other) noexcept;
  ~ControlSocket();

  // Binds `path` (a stale socket of a stopped listener is replaced; a live one is an error).
  static Result<ControlSocket> open(const std::string& path, std::optional<gid_t> group);

  bool active() const { return listen_.valid(); }
  const std::string& path() const { return path_; }
  // The group that may connect besides root (changed on reload: the socket file's group and mode
  // follow, and new connections are checked against it).
  void set_group(std::optional<gid_t> group);

  void append_poll_fds(std::vector<pollfd>& fds) const;
  // Accepts, reads and times out connections; returns the requests that are complete. Requests
  // from peers that may not use the socket are answered (refused) and logged here.
  std::vector<Request> process(std::span<const pollfd> fds, Clock::time_point now);
  // The answer to a request process() returned; the connection closes once it is written.
  void respond(std::uint64_t connection, const ControlResponse& response);
  // The earliest connection deadline, for poll()'s timeout (-1: none).
  int poll_timeout_ms(Clock::time_point now) const;

 private:
  struct Connection {
    std::uint64_t id = 0;
    UniqueFd fd;
    Peer peer;
    bool allowed = false;
    ControlFrameReader reader{kMaxControlRequest};
    std::string output;   // the answer, being written
    bool answered = false;
    Clock::time_point deadline;
  };
  void accept_connections(Clock::time_point now);
  bool peer_allowed(int fd, Peer& peer) const;
  // Reads what is there; true when the connection is still useful.
  bool read_request(Connection& connection, std::vector<Request>& requests);
  bool write_answer(Connection& connection);

  UniqueFd listen_;
  std::string path_;
  std::optional<gid_t> group_;
  std::vector<Connection> connections_;
  std::uint64_t next_id_ = 1;
};

}  // namespace wftpd
