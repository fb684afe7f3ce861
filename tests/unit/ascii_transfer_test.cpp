#include "unpriv/ascii_transfer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace wftpd {
namespace {

std::string encode_in_pieces(std::string_view data, std::size_t piece) {
  AsciiEncoder encoder;
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += piece) out += encoder.encode(data.substr(i, piece));
  return out;
}

std::string decode_in_pieces(std::string_view data, std::size_t piece) {
  AsciiDecoder decoder;
  std::string out;
  for (std::size_t i = 0; i < data.size(); i += piece) out += decoder.decode(data.substr(i, piece));
  return out + decoder.finish();
}

TEST(AsciiTransfer, EncoderTurnsLfIntoCrlf) {
  AsciiEncoder encoder;
  EXPECT_EQ(encoder.encode("a\nb\n\n"), "a\r\nb\r\n\r\n");
}

TEST(AsciiTransfer, EncoderLeavesExistingCrlfAlone) {
  AsciiEncoder encoder;
  EXPECT_EQ(encoder.encode("a\r\nb\rc\r\r\n"), "a\r\nb\rc\r\r\n");
}

TEST(AsciiTransfer, EncoderCrlfSplitAcrossChunksIsNotDoubled) {
  AsciiEncoder encoder;
  EXPECT_EQ(encoder.encode("a\r"), "a\r");
  EXPECT_EQ(encoder.encode("\nb"), "\nb");
  EXPECT_EQ(encoder.encode("\n"), "\r\n");
}

TEST(AsciiTransfer, EncoderEmptyChunk) {
  AsciiEncoder encoder;
  EXPECT_EQ(encoder.encode(""), "");
  EXPECT_EQ(encoder.encode("\n"), "\r\n");
}

TEST(AsciiTransfer, DecoderTurnsCrlfIntoLf) {
  AsciiDecoder decoder;
  EXPECT_EQ(decoder.decode("a\r\nb\r\n"), "a\nb\n");
  EXPECT_EQ(decoder.finish(), "");
}

TEST(AsciiTransfer, DecoderKeepsLoneCrAndBareLf) {
  AsciiDecoder decoder;
  EXPECT_EQ(decoder.decode("a\rb\nc\r\r\n"), "a\rb\nc\r\n");
}

TEST(AsciiTransfer, DecoderHoldsCrAtChunkEnd) {
  AsciiDecoder decoder;
  EXPECT_EQ(decoder.decode("a\r"), "a");
  EXPECT_EQ(decoder.decode("\nb\r"), "\nb");
  EXPECT_EQ(decoder.decode("x"), "\rx");
  EXPECT_EQ(decoder.decode("\r"), "");
  EXPECT_EQ(decoder.decode(""), "");
  EXPECT_EQ(decoder.finish(), "\r");
  EXPECT_EQ(decoder.finish(), "");
}

TEST(AsciiTransfer, DecoderHeldCrFollowedByCr) {
  AsciiDecoder decoder;
  EXPECT_EQ(decoder.decode("\r"), "");
  EXPECT_EQ(decoder.decode("\r"), "\r");
  EXPECT_EQ(decoder.decode("\n"), "\n");
}

TEST(AsciiTransfer, ChunkBoundariesAnywhereGiveTheSameResult) {
  const std::string file = "line1\nline2\r\nx\r\r\n\n\r\rend\r";
  const std::string wire = encode_in_pieces(file, file.size());
  const std::string decoded = decode_in_pieces(wire, wire.size());
  for (std::size_t piece = 1; piece <= file.size(); ++piece) {
    EXPECT_EQ(encode_in_pieces(file, piece), wire) << piece;
    EXPECT_EQ(decode_in_pieces(wire, piece), decoded) << piece;
  }
}

TEST(AsciiTransfer, RoundTripOfUnixTextIsIdentity) {
  const std::string file = "a\nb\n\nc\rd\n";
  EXPECT_EQ(decode_in_pieces(encode_in_pieces(file, 3), 2), file);
}

TEST(AsciiTransfer, DecoderNeverGrowsOutput) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  all += "\r\r\r\n\n\r";
  EXPECT_LE(decode_in_pieces(all, 5).size(), all.size());
}

}  // namespace
}  // namespace wftpd
