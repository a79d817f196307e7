#include "core/utf8.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(Utf8Test, LengthsOfWellFormedSequences) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength(std::string_view("\0", 1)), 1u);
  EXPECT_EQ(Utf8SequenceLength("д"), 2u);
  EXPECT_EQ(Utf8SequenceLength("€"), 3u);
  EXPECT_EQ(Utf8SequenceLength("😀"), 4u);
}

TEST(Utf8Test, RejectsMalformedSequences) {
  for (std::string_view bad : {std::string_view("\x80"), std::string_view("\xC0\xAF"),
                               std::string_view("\xED\xA0\x80"), std::string_view("\xF4\x90\x80\x80"),
                               std::string_view("\xE2\x82"), std::string_view("")}) {
    EXPECT_EQ(Utf8SequenceLength(bad), 0u);
  }
}

}  // namespace
}  // namespace sluice
