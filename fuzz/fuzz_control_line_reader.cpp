// ControlLineReader: the first thing that sees the control connection's bytes.
//
// Input layout: byte 0 picks max_line, the next kChunkBytes bytes pick chunk sizes, the rest is
// the byte stream. The stream is fed three ways (fuzzer-chosen chunks, one piece, single bytes),
// draining next() after every feed; all three must give the same kLine/kTooLong events and leave
// the same pending bytes. Per event: a line is at most max_line bytes and holds no LF; buffered()
// never exceeds max_buffered().
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "unpriv/control_line_reader.hpp"

namespace {

using wftpd::ControlLineReader;
constexpr std::size_t kChunkBytes = 8;

struct Outcome {
  std::vector<ControlLineReader::Event> events;  // kLine and kTooLong only
  std::string pending;
};

void check_event(const ControlLineReader& reader, const ControlLineReader::Event& event) {
  FUZZ_CHECK(reader.buffered() <= reader.max_buffered());
  if (event.status == ControlLineReader::Status::kLine) {
    FUZZ_CHECK(event.line.size() <= reader.max_line());
    FUZZ_CHECK(event.line.find('\n') == std::string::npos);
  } else {
    FUZZ_CHECK(event.line.empty());
  }
}

void drain(ControlLineReader& reader, std::vector<ControlLineReader::Event>& events) {
  // Each next() either consumes input or returns kNeedMore, so this ends; the bound is a
  // harness safety net (one event per raw byte at most, plus the overflow report).
  for (std::size_t guard = 0;; ++guard) {
    FUZZ_CHECK(guard < (std::size_t{1} << 22));
    auto event = reader.next();
    check_event(reader, event);
    if (event.status == ControlLineReader::Status::kNeedMore) return;
    events.push_back(std::move(event));
  }
}

void feed(ControlLineReader& reader, std::string_view chunk,
          std::vector<ControlLineReader::Event>& events) {
  reader.feed(chunk);
  FUZZ_CHECK(reader.buffered() <= reader.max_buffered());
  drain(reader, events);
}

Outcome finish(ControlLineReader& reader, std::vector<ControlLineReader::Event> events) {
  // take_pending() contract: outside discard mode a fresh reader fed the pending bytes behaves
  // identically. Pending bytes are only non-empty outside discard mode once everything is drained.
  ControlLineReader copy = reader;
  std::string pending = copy.take_pending();
  FUZZ_CHECK(copy.buffered() == 0);
  if (!pending.empty()) {
    ControlLineReader fresh(reader.max_line());
    std::vector<ControlLineReader::Event> fresh_events;
    feed(fresh, pending, fresh_events);
    FUZZ_CHECK(fresh_events.empty());  // the pending bytes hold no complete line
    std::vector<ControlLineReader::Event> original_end;
    feed(fresh, "\n", fresh_events);
    feed(reader, "\n", original_end);
    FUZZ_CHECK(fresh_events.size() == original_end.size());
    for (std::size_t i = 0; i < original_end.size(); ++i) {
      FUZZ_CHECK(fresh_events[i].status == original_end[i].status);
      FUZZ_CHECK(fresh_events[i].line == original_end[i].line);
    }
  }
  return Outcome{std::move(events), std::move(pending)};
}

Outcome run_chunked(std::size_t max_line, std::string_view stream,
                    const std::vector<std::size_t>& sizes) {
  ControlLineReader reader(max_line);
  std::vector<ControlLineReader::Event> events;
  std::size_t i = 0;
  while (!stream.empty()) {
    const std::size_t n = sizes[i++ % sizes.size()];
    feed(reader, stream.substr(0, n), events);
    stream.remove_prefix(std::min(n, stream.size()));
  }
  return finish(reader, std::move(events));
}

void check_same(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.events.size() == b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    FUZZ_CHECK(a.events[i].status == b.events[i].status);
    FUZZ_CHECK(a.events[i].line == b.events[i].line);
  }
  FUZZ_CHECK(a.pending == b.pending);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wftpd::fuzz::Input input(data, size);
  // Small limits reach the too-long paths quickly; 0 (max_line 4096, the default) keeps the
  // production setting covered.
  const std::uint8_t pick = input.byte();
  const std::size_t max_line = pick == 0 ? 4096 : pick % 64;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < kChunkBytes; ++i) sizes.push_back(1 + input.byte() % 32);
  const std::string_view stream = input.rest();

  // All feeds here are far below kFeedAllowance, so the overflow path (which legitimately
  // depends on chunking) is never taken and the three runs must agree exactly.
  const Outcome chunked = run_chunked(max_line, stream, sizes);
  const Outcome whole = run_chunked(max_line, stream, {stream.size() + 1});
  const Outcome bytes = run_chunked(max_line, stream, {1});
  check_same(chunked, whole);
  check_same(chunked, bytes);

  // Oversized feeds (about 1 input in 64, they are slow): the overflow path. Only the
  // documented bounds are checked here.
  if (pick >= 0xfc && stream.size() > 64) {
    ControlLineReader reader(max_line);
    std::vector<ControlLineReader::Event> events;
    std::string big;
    const std::size_t target = reader.max_buffered() + 1 + stream.size();
    big.reserve(target);
    while (big.size() < target) big.append(stream);
    feed(reader, big, events);
    feed(reader, stream, events);
    for (const auto& event : events) check_event(reader, event);
  }
  return 0;
}
