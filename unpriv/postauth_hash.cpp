// PostauthSession: HASH, RANG and OPTS HASH (draft-bryan-ftpext-hash-02). The digest is computed
// here, in the sandboxed post-auth child, from a file opened the way RETR opens it; what a HASH
// may cost is bounded twice: hash_max_bytes per command, and the session's HashBudget over time.
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <utility>

#include "unpriv/file_digest.hpp"
#include "unpriv/hash_command.hpp"
#include "unpriv/postauth_engine.hpp"
#include "unpriv/reply.hpp"
#include "unpriv/session_filesystem.hpp"

namespace wftpd {

std::string PostauthSession::hash_feature() const {
  return hash_enabled(config_) ? hash_feature_list(hash_algorithm_) : std::string();
}

void PostauthSession::opts_hash(std::string_view argument) {
  if (!hash_enabled(config_)) {
    reply(501, "HASH is off on this server.");
    return;
  }
  const auto option = parse_hash_option(argument);
  if (!option) {
    switch (option.error()) {
      case HashOptionError::kUnknownAlgorithm:
        reply(501, "Unknown algorithm, current selection not changed.");
        return;
      case HashOptionError::kMalformed:
        reply(501, "Usage: OPTS HASH [algorithm]");
        return;
    }
    return;
  }
  if (option->select) hash_algorithm_ = *option->select;
  reply(200, std::string(digest_name(hash_algorithm_)));
}

PostauthSession::Next PostauthSession::cmd_rang(const FtpCommand& command) {
  if (!hash_enabled(config_)) {
    reply(502, "RANG is not implemented here (HASH is off).");
    return Next::kContinue;
  }
  hash_range_.reset();  // a refused RANG leaves the whole file selected, as the draft says
  const auto request = parse_rang_argument(command.argument);
  if (!request) {
    switch (request.error()) {
      case RangeError::kMalformed:
        reply(501, "Usage: RANG <start> <end> (byte offsets, both inclusive; RANG 1 0 resets).");
        return Next::kContinue;
      case RangeError::kStartAfterEnd:
        reply(501, "RANG start is after its end; the range is reset to the whole file.");
        return Next::kContinue;
    }
    return Next::kContinue;
  }
  if (!request->range) {
    reply(350, "Range reset to the whole file.");
    return Next::kContinue;
  }
  hash_range_ = request->range;
  restart_offset_ = 0;  // RANG and REST each replace the other
  reply(350, "Range " + std::to_string(hash_range_->first) + "-" + std::to_string(hash_range_->last) +
                 " selected for the next HASH.");
  return Next::kContinue;
}

// The draft's reply codes: 550 no such file (and, here, no access or not a plain file, as for
// RETR; the draft suggests 553 for a directory), 556 larger than this server hashes, 450 busy (the
// session's allowance is spent for now: try later). TYPE does not matter: the digest is always
// of the file's octets as TYPE I sends them. REST does not apply: only RANG selects a part.
PostauthSession::Next PostauthSession::cmd_hash(const FtpCommand& command) {
  const std::optional<OctetRange> range = std::exchange(hash_range_, std::nullopt);
  if (!hash_enabled(config_)) {
    reply(502, "HASH is off on this server.");
    return Next::kContinue;
  }
  std::string path;
  UniqueFd file;
  struct stat st{};
  if (!open_readable_file(command.argument, "HASH failed", path, file, st)) return Next::kContinue;
  const auto span = hash_span(range, static_cast<std::uint64_t>(st.st_size));
  if (!span) {
    reply(554, "HASH failed: the range starts past the end of the file (" +
                   std::to_string(st.st_size) + " bytes).");
    return Next::kContinue;
  }
  // SECURITY: a HASH costs the client one line and the server a read of up to the whole file;
  // hash_max_bytes bounds one command and the budget bounds a session's rate, so a client
  // cannot make this child read the disk without end for free.
  if (span->length > config_.hash_max_bytes) {
    reply(556, "HASH is answered for at most " + std::to_string(config_.hash_max_bytes) +
                   " bytes; this one would read " + std::to_string(span->length) +
                   " (RANG selects a part).");
    return Next::kContinue;
  }
  const std::uint64_t wait = hash_budget_.seconds_until(span->length, std::chrono::steady_clock::now());
  if (wait > 0) {
    reply(450, "This session's HASH allowance is spent for now; try again in " +
                   std::to_string(wait) + " s.");
    return Next::kContinue;
  }
  FileDigest digest(hash_algorithm_);
  const DigestRead read = digest_file_range(file.get(), span->offset, span->length, digest,
                                            [this] { return control_.abort_requested(); });
  hash_budget_.spend(read.bytes, std::chrono::steady_clock::now());
  switch (read.result) {
    case DigestReadResult::kComplete:
      reply(213, hash_reply_text(hash_algorithm_, span->reported, digest.finish_hex(),
                                 command.argument));
      return Next::kContinue;
    case DigestReadResult::kAborted:
      // RFC 959 4.1.3, as for an aborted transfer: the command gets 426, then ABOR 226.
      reply(426, "HASH aborted.");
      reply(226, "ABOR successful.");
      return Next::kContinue;
    case DigestReadResult::kShrank:
      reply(451, "HASH failed: the file became shorter while it was read.");
      return Next::kContinue;
    case DigestReadResult::kFailed:
      monitor_.log(EventLevel::kWarning, "HASH of '" + path.substr(0, 256) + "': read failed: " +
                                             file_error_from_errno(read.error_number).reply_text);
      reply(451, "Local error in processing.");
      return Next::kContinue;
  }
  return Next::kContinue;
}

}  // namespace wftpd
