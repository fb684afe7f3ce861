// The control socket's decoders (common/control_protocol.hpp): what the listener reads from a
// wardenftpd-ctl connection, fed as a byte stream in arbitrary pieces, and the answer decoder of
// the tool.
//
// Checks: the frame reader never yields a body over its bound and never loses or invents bytes;
// a decoded request re-encodes to the same frame (nothing the decoder accepts is lost in
// translation) and its argument stays within kMaxControlArgument; an error carries a
// description; a decoded answer re-encodes and decodes to the same answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/control_protocol.hpp"
#include "fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The listener reads whatever arrives, in pieces: split the input at a point it names.
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  wftpd::ControlFrameReader reader(wftpd::kMaxControlRequest);
  reader.feed(input.substr(0, split));
  auto first = reader.next();
  reader.feed(input.substr(split));
  for (int frames = 0; frames < 64; ++frames) {
    auto body = reader.next();
    if (!body) {
      FUZZ_CHECK(!body.error().message.empty());
      break;
    }
    if (!*body) break;
    FUZZ_CHECK((*body)->size() <= wftpd::kMaxControlRequest);
    auto request = wftpd::decode_control_request(**body);
    if (!request) {
      FUZZ_CHECK(!request.error().message.empty());
      continue;
    }
    FUZZ_CHECK(request->argument.size() <= wftpd::kMaxControlArgument);
    const std::string frame = wftpd::encode_control_request(*request);
    FUZZ_CHECK(frame.substr(4) == **body);
  }
  (void)first;
  auto response = wftpd::decode_control_response(input);
  if (response) {
    const std::string frame = wftpd::encode_control_response(*response);
    auto again = wftpd::decode_control_response(std::string_view(frame).substr(4));
    FUZZ_CHECK(again && again->ok == response->ok && again->message == response->message &&
               again->rows == response->rows && again->text == response->text &&
               again->columns.size() == response->columns.size());
    (void)wftpd::render_control_text(*response);
    (void)wftpd::render_control_json(*response);
  }
  return 0;
}
