// FileWriter and FileLineReader over a real (embedded) store: chunking, lines that span chunks,
// resuming at an offset, and lines over the limit.
#include "store/file_chunks.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/store.h"

namespace sluice {
namespace {

class FileChunksTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-files-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Writes `content` in pieces of `piece` bytes; returns the file id.
  std::string Write(const std::string& content, std::size_t piece = 1000) {
    FileWriter writer(*store_, StoredFile{.id = "file_" + std::to_string(++files_),
                                          .purpose = "batch",
                                          .created_at = 1});
    for (std::size_t at = 0; at < content.size(); at += piece) {
      EXPECT_TRUE(writer.append(std::string_view(content).substr(at, piece)).ok());
    }
    EXPECT_TRUE(writer.finish().ok());
    EXPECT_EQ(writer.bytes(), static_cast<std::int64_t>(content.size()));
    return writer.file().id;
  }

  std::vector<FileLineReader::Line> ReadAll(FileLineReader& reader) {
    std::vector<FileLineReader::Line> lines;
    for (;;) {
      auto line = reader.next();
      EXPECT_TRUE(line.ok()) << line.status().ToString();
      if (!line.ok() || !line->has_value()) return lines;
      lines.push_back(std::move(**line));
    }
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  int files_ = 0;
};

TEST_F(FileChunksTest, EveryChunkButTheLastIsFullAndContentRoundTrips) {
  std::string content;
  for (int i = 0; content.size() < 2 * kFileChunkBytes + 5000; ++i) {
    content += "{\"custom_id\":\"r" + std::to_string(i) + "\"}\n";
  }
  std::string id = Write(content, 777);
  auto file = store_->get_file(kDefaultTenant, id);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->bytes, static_cast<std::int64_t>(content.size()));
  std::string back;
  for (std::int64_t n = 0;; ++n) {
    auto chunk = store_->get_file_chunk(id, n);
    ASSERT_TRUE(chunk.ok());
    if (!chunk->has_value()) break;
    if (n < 2) {
      EXPECT_EQ(static_cast<std::int64_t>((*chunk)->size()), kFileChunkBytes);
    }
    back += **chunk;
  }
  EXPECT_EQ(back, content);

  // Lines come back whole across chunk borders, numbered, with their end offsets.
  FileLineReader reader(*store_, id);
  auto lines = ReadAll(reader);
  ASSERT_FALSE(lines.empty());
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].number, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(lines[i].text, "{\"custom_id\":\"r" + std::to_string(i) + "\"}");
    offset += static_cast<std::int64_t>(lines[i].text.size()) + 1;
    EXPECT_EQ(lines[i].end_offset, offset);
  }
  EXPECT_EQ(offset, static_cast<std::int64_t>(content.size()));

  // Resuming after line 1000 reads exactly the rest.
  FileLineReader resumed(*store_, id, lines[999].end_offset, 1000);
  auto rest = ReadAll(resumed);
  ASSERT_EQ(rest.size(), lines.size() - 1000);
  EXPECT_EQ(rest.front().number, 1001);
  EXPECT_EQ(rest.front().text, lines[1000].text);
}

TEST_F(FileChunksTest, LastLineWithoutNewlineBlankLinesCrLfAndTooLongLines) {
  std::string id = Write("a\r\n\nlong line here\nlast", 3);
  FileLineReader reader(*store_, id, 0, 0, /*max_line_bytes=*/8);
  auto lines = ReadAll(reader);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].text, "");
  EXPECT_FALSE(lines[1].too_long);
  EXPECT_TRUE(lines[2].too_long);
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].text, "last");
  EXPECT_EQ(lines[3].number, 4);
}

TEST_F(FileChunksTest, AnEmptyFileIsCreatedAndHasNoLines) {
  std::string id = Write("");
  auto file = store_->get_file(kDefaultTenant, id);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->bytes, 0);
  FileLineReader reader(*store_, id);
  EXPECT_TRUE(ReadAll(reader).empty());
}

}  // namespace
}  // namespace sluice
