// An owning DIR* (closedir on destruction).
#pragma once

#include <dirent.h>

#include <memory>

namespace wftpd {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

}  // namespace wftpd
