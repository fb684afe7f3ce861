// The monitor protocol codec: the privileged monitor decodes datagrams written by sandboxed,
// possibly compromised children, so this is the trust boundary that matters most.
//
// The input is one datagram. decode_header runs on it; then decode_payload<T> runs for every
// message type on the payload (and on the raw input too, so payload decoders also see bytes no
// valid header would carry). Whenever a decode succeeds:
//   * encode_message of the decoded value, decoded again, re-encodes to the identical datagram;
//   * if the header's type is T's, the re-encoding equals the input byte for byte (the encoding
//     is canonical: the decoder accepts exactly one spelling of every message);
//   * field bounds and the "never uid/gid 0" rule hold.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/monitor_protocol.hpp"
#include "common/pam_protocol.hpp"
#include "common/users_file.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace wftpd;

void check_fields(const LoginRequest& m) {
  FUZZ_CHECK(m.user.size() <= kMaxLoginNameLength && m.password.size() <= kMaxPasswordLength);
}
void check_fields(const LoginResult& m) {
  const auto v = static_cast<unsigned>(m.status);
  FUZZ_CHECK(v >= 1 && v <= 4);
}
void check_fields(const SessionStatus& m) {
  FUZZ_CHECK(m.bytes < (1ull << 63) && m.path.size() <= kMaxStatusPathLength);
}
void check_fields(const RateQuery& m) {
  const auto v = static_cast<unsigned>(m.direction);
  FUZZ_CHECK(v >= 1 && v <= 2);
}
void check_fields(const RateAnswer& m) { FUZZ_CHECK(m.bytes_per_second <= kMaxByteRate); }
void check_tls_state(const ControlTlsState& tls) {
  FUZZ_CHECK(tls.control_tls || (!tls.pbsz_set && !tls.prot_private));
}
void check_fields(const Handoff& m) {
  FUZZ_CHECK(m.pending_input.size() <= kMaxPendingInput);
  check_tls_state(m.tls);
}
void check_fields(const BecomeUser& m) {
  FUZZ_CHECK(m.uid != 0 && m.gid != 0);  // SECURITY: a decoded BecomeUser never means root
  FUZZ_CHECK(m.name.size() <= kMaxLoginNameLength && m.root.size() <= kMaxRootPathLength);
}
void check_fields(const StandbyReady& m) { FUZZ_CHECK(m.reason.size() <= kMaxReasonLength); }
void check_fields(const StartSession& m) {
  FUZZ_CHECK(m.pending_input.size() <= kMaxPendingInput);
  check_tls_state(m.tls);
}
void check_fields(const PassiveListen&) {}
void check_fields(const LogEvent& m) {
  const auto v = static_cast<unsigned>(m.level);
  FUZZ_CHECK(v >= 1 && v <= 4 && m.text.size() <= kMaxReasonLength);
}
void check_fields(const TransferDone& m) {
  const auto v = static_cast<unsigned>(m.direction);
  FUZZ_CHECK(v >= 1 && v <= 2 && m.path.size() <= kMaxTransferPathLength && !m.path.empty() &&
             m.path.front() == '/' && m.bytes <= 0x7fffffffffffffffull &&
             m.milliseconds <= 0x7fffffffffffffffull);
}
void check_fields(const PassiveReady& m) {
  const auto s = static_cast<unsigned>(m.status);
  const auto f = static_cast<unsigned>(m.family);
  FUZZ_CHECK(s >= 1 && s <= 2);
  FUZZ_CHECK(f == 4 || f == 6);
}
void check_fields(const DataConnect& m) {
  const auto v = static_cast<unsigned>(m.purpose);
  FUZZ_CHECK(v == 1 || v == 2);
}
void check_fields(const DataReady& m) {
  const auto v = static_cast<unsigned>(m.status);
  FUZZ_CHECK(v >= 1 && v <= 4);
}
void check_fields(const ActiveTarget& m) {
  const auto f = static_cast<unsigned>(m.family);
  FUZZ_CHECK(f == 4 || f == 6);
}
void check_fields(const ActiveReady& m) {
  const auto v = static_cast<unsigned>(m.status);
  FUZZ_CHECK(v >= 1 && v <= 4);
}

void check_fields(const UserQuery& m) { FUZZ_CHECK(m.user.size() <= kMaxLoginNameLength); }
void check_fields(const UserAnswer& m) {
  const auto v = static_cast<unsigned>(m.clear_login);
  FUZZ_CHECK(v >= 1 && v <= 3);
}

void check_fields(const SignRequest& m) {
  const auto info = describe_scheme(static_cast<std::uint16_t>(m.scheme));
  FUZZ_CHECK(info.has_value() && m.digest.size() == info->digest_length);
}
void check_fields(const SignResult& m) { FUZZ_CHECK(m.signature.size() <= kMaxSignatureLength); }

void check_fields(const PamCheck& m) {
  FUZZ_CHECK(is_valid_pam_service(m.service));
  FUZZ_CHECK(m.user.size() <= kMaxLoginNameLength && m.password.size() <= kMaxPasswordLength &&
             m.remote_host.size() <= kMaxRemoteHostLength);
}
void check_fields(const PamVerdict& m) {
  const auto v = static_cast<unsigned>(m.outcome);
  FUZZ_CHECK(v >= 1 && v <= 5 && m.reason.size() <= kMaxReasonLength);
  FUZZ_CHECK(m.groups.size() <= kMaxAccountGroups);
  if (m.outcome == PamOutcome::kAccepted) {
    // SECURITY: a decoded acceptance never means root and always names a clean home.
    FUZZ_CHECK(m.uid != 0 && m.gid != 0 && is_valid_user_root(m.home) && !m.account.empty());
  } else {
    FUZZ_CHECK(m.uid == 0 && m.gid == 0 && m.home.empty() && m.account.empty() && m.groups.empty());
  }
}

template <class Message>
void try_decode(std::string_view payload, const std::string_view* whole_datagram) {
  auto decoded = decode_payload<Message>(payload);
  if (!decoded) {
    FUZZ_CHECK(!decoded.error().message.empty());
    return;
  }
  check_fields(*decoded);
  const std::string datagram = encode_message(*decoded);
  FUZZ_CHECK(datagram.size() - kMonitorHeaderSize == payload.size());
  if (whole_datagram != nullptr) FUZZ_CHECK(datagram == *whole_datagram);

  auto header = decode_header(datagram);
  FUZZ_CHECK(header.ok());
  FUZZ_CHECK(header->type == static_cast<std::uint16_t>(Message::kType));
  FUZZ_CHECK(header->payload == payload);
  FUZZ_CHECK(message_type_name(header->type) != "unknown");
  auto again = decode_payload<Message>(header->payload);
  FUZZ_CHECK(again.ok());
  check_fields(*again);
  FUZZ_CHECK(encode_message(*again) == datagram);
}

template <class... Messages>
void try_all(std::string_view payload, std::uint16_t header_type, const std::string_view* datagram) {
  // The exact-input comparison applies only to the type the header names.
  (try_decode<Messages>(payload, header_type == static_cast<std::uint16_t>(Messages::kType)
                                     ? datagram
                                     : nullptr),
   ...);
}

void decode_everything(std::string_view payload, std::uint16_t header_type,
                       const std::string_view* datagram) {
  try_all<LoginRequest, LoginResult, Handoff, BecomeUser, StandbyReady, StartSession,
          PassiveListen, PassiveReady, DataConnect, DataReady, ActiveTarget, ActiveReady, LogEvent,
          TransferDone, PamCheck, PamVerdict, UserQuery, UserAnswer, SignRequest, SignResult,
          SessionStatus, RateQuery, RateAnswer>(
      payload, header_type, datagram);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view datagram = fuzz::as_view(data, size);
  auto header = decode_header(datagram);
  if (header) {
    FUZZ_CHECK(size >= kMonitorHeaderSize);
    FUZZ_CHECK(header->payload.size() == size - kMonitorHeaderSize);
    FUZZ_CHECK(header->payload.size() <= kMaxMonitorPayload);
    FUZZ_CHECK(header->payload.data() == datagram.data() + kMonitorHeaderSize);
    FUZZ_CHECK(datagram[2] == 0 && datagram[3] == 0);
    (void)message_type_name(header->type);
    decode_everything(header->payload, header->type, &datagram);
  } else {
    FUZZ_CHECK(!header.error().message.empty());
  }
  // Payload decoders on the raw bytes as well (no header type: no exact-input comparison).
  decode_everything(datagram, 0, nullptr);
  return 0;
}
