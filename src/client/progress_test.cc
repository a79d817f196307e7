#include "client/progress.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace sluice::client {
namespace {

TEST(ProgressTest, BarShowsCountsRateEtaFailuresAndReview) {
  ProgressCounts c{.total = 1000, .ended = 450, .failed = 3, .review = 1};
  std::string bar = RenderProgressBar(c, 110.0, 100);
  EXPECT_EQ(bar.front(), '[');
  EXPECT_NE(bar.find("450/1000  45%"), std::string::npos) << bar;
  EXPECT_NE(bar.find("110.0/s"), std::string::npos) << bar;
  EXPECT_NE(bar.find("ETA 0:05"), std::string::npos) << bar;
  EXPECT_NE(bar.find("failed 3"), std::string::npos) << bar;
  EXPECT_NE(bar.find("review 1"), std::string::npos) << bar;
  EXPECT_LE(bar.size(), 100u);
  // Half the bar is filled, give or take a cell.
  auto filled = std::count(bar.begin(), bar.end(), '#');
  auto empty = bar.find(']') - 1 - filled;
  EXPECT_NEAR(static_cast<double>(filled) / static_cast<double>(filled + empty), 0.45, 0.05);
}

TEST(ProgressTest, PlainLineAndEta) {
  ProgressCounts c{.total = 10, .ended = 10};
  EXPECT_EQ(RenderProgressLine(c, 2.5), "progress: 10/10 (100%) 2.5/s  ETA 0:00");
  EXPECT_EQ(RenderProgressLine(ProgressCounts{.total = 10}, 0), "progress: 0/10 (0%) 0.0/s  ETA ?");
  EXPECT_EQ(FormatEta(3909), "1:05:09");
  EXPECT_EQ(FormatEta(245), "4:05");
  EXPECT_EQ(FormatEta(std::nullopt), "?");
}

TEST(ProgressTest, PlainLinesComeEveryFewSecondsOnly) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  FakeClock clock;
  {
    ProgressReporter r(out, /*terminal=*/false, clock, 5'000);
    ProgressCounts c{.total = 100};
    r.update(c);  // the first update draws
    for (int i = 1; i <= 10; ++i) {
      c.ended = i;
      clock.advance(400);
      r.update(c);  // 4 s in all: no new line
    }
    clock.advance(1'000);
    r.update(c);  // 5 s after the first: a line
    EXPECT_NEAR(r.rate(), 10 / 5.0, 0.5);
    c.ended = 100;
    r.finish(c);
  }
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("progress: 100/100 (100%)"), std::string::npos) << text;
}

TEST(ProgressTest, TheBarRedrawsInPlaceAtAboutFiveHertz) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  FakeClock clock;
  {
    ProgressReporter r(out, /*terminal=*/true, clock);
    ProgressCounts c{.total = 100};
    for (int i = 0; i < 50; ++i) {  // 50 updates over 1 s: 5 or 6 draws
      c.ended = i;
      r.update(c);
      clock.advance(20);
    }
    r.finish(c);
  }
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  auto draws = std::count(text.begin(), text.end(), '\r');
  EXPECT_GE(draws, 5);
  EXPECT_LE(draws, 7);
  EXPECT_NE(text.find("\r\033[K["), std::string::npos);
  EXPECT_EQ(text.back(), '\n');  // finish ends the line
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace sluice::client
