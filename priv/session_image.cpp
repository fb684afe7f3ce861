#include "priv/session_image.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "common/result.hpp"
#include "priv/session_spawn.hpp"

namespace wftpd {
namespace {

constexpr const char* kLeanImageName = "wardenftpd-session";

Result<std::string> own_directory() {
  std::array<char, PATH_MAX> buffer{};
  const ssize_t length = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (length < 0) return system_error("readlink(/proc/self/exe)", errno);
  std::string path(buffer.data(), static_cast<std::size_t>(length));
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return make_error("unexpected /proc/self/exe: " + path);
  return path.substr(0, slash);
}

}  // namespace

LeanSessionImage find_lean_session_image() {
  LeanSessionImage image;
  auto directory = own_directory();
  if (!directory) {
    image.problem = directory.error().message;
    return image;
  }
  image.path = *directory + "/" + kLeanImageName;
  // O_PATH: exec'd through /proc/self/fd, never read; O_NOFOLLOW: the file itself, not a link.
  UniqueFd fd(::open(image.path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    image.problem = system_error("open(" + image.path + ")", errno).message;
    return image;
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) {
    image.problem = system_error("fstat(" + image.path + ")", errno).message;
    return image;
  }
  // SECURITY: every session of a server without TLS runs this file as root; only root may have
  // been able to write it.
  if (!S_ISREG(status.st_mode)) {
    image.problem = image.path + " is not a regular file";
  } else if (status.st_uid != 0) {
    image.problem = image.path + " is not owned by root";
  } else if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    image.problem = image.path + " is writable by group or others";
  } else if ((status.st_mode & S_IXUSR) == 0) {
    image.problem = image.path + " is not executable";
  }
  if (!image.problem.empty()) return image;
  auto high = move_high(std::move(fd));
  if (!high) {
    image.problem = high.error().message;
    return image;
  }
  image.fd = std::move(*high);
  return image;
}

}  // namespace wftpd
