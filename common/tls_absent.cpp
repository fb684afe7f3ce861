// The TLS entry points of a session, for wardenftpd-session: the session image linked without
// OpenSSL, which the listener execs instead of the full image for a configuration without
// tls_enable. A plain session never reaches these: its monitor refuses to start with
// tls_enable=yes (run_session_monitor asks tls_built_in()), no role gets a certificate or
// ticket keys, and without tls_enable the pre-auth child refuses AUTH and the post-auth child
// PROT P before any of them. They exist so that the code shared with the full image links;
// each one fails closed (an error, or the end of the process where no error can be returned),
// and none of them pretends that TLS happened.
//
// SECURITY: this file replaces wftpd_tls (common/CMakeLists.txt) only in wardenftpd-session;
// that image's link line has no OpenSSL library at all, so any new call into OpenSSL from
// session code fails the build rather than pulling the library back in.
#include <cstdio>
#include <cstdlib>

#include "common/openssl_handles.hpp"
#include "common/signing_key.hpp"
#include "common/tls_context.hpp"
#include "common/tls_stream.hpp"

namespace wftpd {
namespace {

constexpr const char* kNoTls = "this session image (wardenftpd-session) was built without TLS";

// Where a caller cannot be given an error: an object of OpenSSL's that cannot exist here.
[[noreturn]] void unreachable_without_tls(const char* what) {
  std::fprintf(stderr, "wardenftpd-session: %s reached in an image without TLS\n", what);
  std::abort();
}

}  // namespace

bool tls_built_in() { return false; }

// Nothing to tell: no TLS library is linked, so none registers a clean-up at exit.
void skip_tls_library_exit_cleanup() {}

Result<void> prepare_tls_library(const Config&, std::string_view) { return make_error(kNoTls); }
Result<std::string> read_certificate_chain(int) { return make_error(kNoTls); }
Result<SigningKey> read_signing_key(int) { return make_error(kNoTls); }

Result<SslCtxPtr> make_control_context(const Config&, std::string_view, RemoteSigner&,
                                       const TicketKeys&) {
  return make_error(kNoTls);
}
Result<SslCtxPtr> make_data_context(const Config&, std::string_view, RemoteSigner*,
                                    const TicketKeys&) {
  return make_error(kNoTls);
}
Result<void> add_resumable_session(SSL_CTX*, std::string_view) { return make_error(kNoTls); }

Result<std::string> SigningKey::sign(std::uint16_t, std::string_view) const {
  return make_error(kNoTls);
}

// The handles are never non-null here: nothing in this image can make an SSL_CTX or a key.
void SslCtxDeleter::operator()(SSL_CTX* ctx) const {
  if (ctx != nullptr) unreachable_without_tls("an SSL_CTX");
}
void EvpPkeyDeleter::operator()(EVP_PKEY* key) const {
  if (key != nullptr) unreachable_without_tls("an EVP_PKEY");
}

Result<std::unique_ptr<TlsStream>> TlsStream::accept(SSL_CTX*, int, std::chrono::milliseconds,
                                                     bool*) {
  return make_error(kNoTls);
}
// A TlsStream is only made by accept(), so none of these can run.
TlsStream::~TlsStream() { unreachable_without_tls("a TLS stream"); }
TlsStream::Io TlsStream::read(std::span<char>) { unreachable_without_tls("a TLS read"); }
TlsStream::Io TlsStream::write(std::string_view) { unreachable_without_tls("a TLS write"); }
bool TlsStream::has_buffered_input() const { unreachable_without_tls("a TLS stream"); }
bool TlsStream::resumed() const { unreachable_without_tls("a TLS stream"); }
bool TlsStream::wait(Status, std::chrono::milliseconds) const {
  unreachable_without_tls("a TLS stream");
}
Result<void> TlsStream::write_all(std::string_view, std::chrono::milliseconds) {
  unreachable_without_tls("a TLS write");
}
void TlsStream::close_notify(std::chrono::milliseconds) { unreachable_without_tls("a TLS close"); }
std::string TlsStream::description() const { unreachable_without_tls("a TLS stream"); }
std::string TlsStream::export_session(std::size_t) const { unreachable_without_tls("a TLS stream"); }

}  // namespace wftpd
