#include "priv/control_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.hpp"

namespace wftpd {
namespace {

constexpr std::size_t kMaxPeerGroups = 256;

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return make_error("control_socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// SECURITY: whoever can write the socket's directory can replace the socket with their own and
// read what the operator types, or remove it.
Result<void> check_directory(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string directory = slash == 0 ? "/" : path.substr(0, slash);
  if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return system_error("mkdir(" + directory + ")", errno);
  }
  struct stat st{};
  if (::lstat(directory.c_str(), &st) != 0) return system_error("lstat(" + directory + ")", errno);
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return make_error("control_socket: " + directory +
                      " must be a directory owned by root and writable only by root");
  }
  return ok_result();
}

// A socket file left by a listener that stopped without removing it is replaced; one that a
// running listener serves is not taken over.
Result<void> clear_stale_socket(const std::string& path, const sockaddr_un& address) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok_result();
    return system_error("lstat(" + path + ")", errno);
  }
  if (!S_ISSOCK(st.st_mode)) return make_error("control_socket: " + path + " exists and is not a socket");
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return system_error("socket(AF_UNIX)", errno);
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    return make_error("control_socket: another process serves " + path +
                      " (another wardenftpd?); give each daemon its own control_socket");
  }
  if (errno != ECONNREFUSED) return system_error("connect(" + path + ")", errno);
  if (::unlink(path.c_str()) != 0) return system_error("unlink(" + path + ")", errno);
  return ok_result();
}

}  // namespace

ControlSocket& ControlSocket::operator=(ControlSocket&& other) noexcept {
  if (this != &other) {
    if (listen_) ::unlink(path_.c_str());
    listen_ = std::move(other.listen_);
    path_ = std::move(other.path_);
    group_ = other.group_;
    connections_ = std::move(other.connections_);
    next_id_ = other.next_id_;
  }
  return *this;
}

ControlSocket::~ControlSocket() {
  if (listen_) ::unlink(path_.c_str());
}

Result<ControlSocket> ControlSocket::open(const std::string& path, std::optional<gid_t> group) {
  auto address = unix_address(path);
  if (!address) return address.error();
  auto directory = check_directory(path);
  if (!directory) return directory.error();
  auto cleared = clear_stale_socket(path, *address);
  if (!cleared) return cleared.error();
  ControlSocket socket;
  socket.listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.listen_) return system_error("socket(AF_UNIX)", errno);
  // SECURITY: created mode 0600 (umask), so nobody but root can connect before the chown/chmod.
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(socket.listen_.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address));
  const int bind_error = errno;
  ::umask(old_mask);
  if (bound != 0) return system_error("bind(" + path + ")", bind_error);
  socket.path_ = path;  // from here on the destructor removes it
  if (group) {
    if (::chown(path.c_str(), 0, *group) != 0) return system_error("chown(" + path + ")", errno);
    if (::chmod(path.c_str(), 0660) != 0) return system_error("chmod(" + path + ")", errno);
  }
  if (::listen(socket.listen_.get(), 16) != 0) return system_error("listen(" + path + ")", errno);
  socket.group_ = group;
  return socket;
}

void ControlSocket::set_group(std::optional<gid_t> group) {
  if (group == group_) return;
  group_ = group;
  if (!listen_) return;
  // Narrow first: the mode before the owner when a group loses access.
  if (!group) {
    if (::chmod(path_.c_str(), 0600) != 0 || ::chown(path_.c_str(), 0, 0) != 0) {
      log_warning(system_error("control socket: chmod/chown(" + path_ + ")", errno).message);
    }
  } else if (::chown(path_.c_str(), 0, *group) != 0 || ::chmod(path_.c_str(), 0660) != 0) {
    log_warning(system_error("control socket: chown/chmod(" + path_ + ")", errno).message);
  }
}

void ControlSocket::append_poll_fds(std::vector<pollfd>& fds) const {
  if (!listen_) return;
  fds.push_back({listen_.get(), POLLIN, 0});
  for (const auto& connection : connections_) {
    fds.push_back({connection.fd.get(), static_cast<short>(connection.answered ? POLLOUT : POLLIN), 0});
  }
}

int ControlSocket::poll_timeout_ms(Clock::time_point now) const {
  int timeout = -1;
  for (const auto& connection : connections_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(connection.deadline - now).count();
    const int ms = static_cast<int>(std::clamp<long long>(left, 0, 60000));
    timeout = timeout < 0 ? ms : std::min(timeout, ms);
  }
  return timeout;
}

bool ControlSocket::peer_allowed(int fd, Peer& peer) const {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    log_warning(system_error("control socket: getsockopt(SO_PEERCRED)", errno).message);
    return false;
  }
  peer = Peer{credentials.uid, credentials.pid};
  if (credentials.uid == 0) return true;
  if (!group_) return false;
  if (credentials.gid == *group_) return true;
  std::vector<gid_t> groups(kMaxPeerGroups);
  socklen_t size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size) != 0) return false;
  groups.resize(size / sizeof(gid_t));
  return std::find(groups.begin(), groups.end(), *group_) != groups.end();
}

void ControlSocket::accept_connections(Clock::time_point now) {
  // Bounded per wakeup; beyond kMaxConnections, new ones wait in the backlog.
  for (int i = 0; i < 16 && connections_.size() < kMaxConnections; ++i) {
    UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        log_warning(system_error("control socket: accept4", errno).message);
      }
      return;
    }
    Connection connection;
    connection.id = next_id_++;
    connection.fd = std::move(fd);
    connection.deadline = now + kDeadline;
    connection.allowed = peer_allowed(connection.fd.get(), connection.peer);
    if (!connection.allowed) {
      log_warning("control socket: refused a connection from uid " +
                  std::to_string(connection.peer.uid) + " (pid " + std::to_string(connection.peer.pid) +
                  "): only root" + (group_ ? " and control_group" : "") + " may use it");
      ControlResponse refusal;
      refusal.ok = false;
      refusal.message = "permission denied: the control socket is for root" +
                        std::string(group_ ? " and control_group" : "");
      connection.output = encode_control_response(refusal);
      connection.answered = true;
      if (!write_answer(connection)) continue;  // written whole: closed
    }
    connections_.push_back(std::move(connection));
  }
}

bool ControlSocket::read_request(Connection& connection, std::vector<Request>& requests) {
  char buffer[1024];
  for (int turns = 0; turns < 8; ++turns) {
    const ssize_t n = ::read(connection.fd.get(), buffer, sizeof(buffer));
    if (n == 0) return false;  // gone before asking
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    connection.reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    auto body = connection.reader.next();
    if (body && !*body) continue;
    auto request = body ? decode_control_request(**body) : Result<ControlRequest>(body.error());
    if (!request) {
      ControlResponse refusal;
      refusal.ok = false;
      refusal.message = "malformed request: " + request.error().message;
      connection.output = encode_control_response(refusal);
      connection.answered = true;
      return write_answer(connection);
    }
    requests.push_back(Request{connection.id, connection.peer, std::move(*request)});
    connection.answered = true;  // the answer comes through respond(); nothing more is read
    return true;
  }
  return true;
}

bool ControlSocket::write_answer(Connection& connection) {
  while (!connection.output.empty()) {
    const ssize_t n = ::send(connection.fd.get(), connection.output.data(), connection.output.size(),
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    connection.output.erase(0, static_cast<std::size_t>(n));
  }
  return false;  // all written: close
}

std::vector<ControlSocket::Request> ControlSocket::process(std::span<const pollfd> fds, Clock::time_point now) {
  std::vector<Request> requests;
  if (!listen_ || fds.empty()) return requests;
  // fds: the listening socket, then the connections as append_poll_fds() listed them.
  std::vector<bool> keep(connections_.size(), true);
  for (std::size_t i = 0; i < connections_.size() && i + 1 < fds.size(); ++i) {
    Connection& connection = connections_[i];
    if (fds[i + 1].revents == 0) continue;
    if (!connection.answered) {
      keep[i] = read_request(connection, requests);
    } else if (!connection.output.empty()) {
      keep[i] = write_answer(connection);
    } else if ((fds[i + 1].revents & (POLLHUP | POLLERR)) != 0) {
      keep[i] = false;
    }
  }
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    if (connections_[i].deadline <= now) keep[i] = false;
  }
  std::size_t index = 0;
  std::erase_if(connections_, [&](const Connection&) { return !keep[index++]; });
  if ((fds[0].revents & POLLIN) != 0) accept_connections(now);
  return requests;
}

void ControlSocket::respond(std::uint64_t id, const ControlResponse& response) {
  for (auto& connection : connections_) {
    if (connection.id != id) continue;
    connection.output = encode_control_response(response);
    connection.answered = true;
    if (!write_answer(connection)) {
      std::erase_if(connections_, [&](const Connection& c) { return c.id == id; });
    }
    return;
  }
}

}  // namespace wftpd
