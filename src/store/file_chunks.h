// Writing and reading a stored file's content in chunks (Store::put_file_chunk), so that no
// writer or reader holds more than about one chunk of it.
//
// THE CHUNK RULE (persisted): every chunk of a file but its last holds exactly kFileChunkBytes,
// so byte offset k is in chunk k / kFileChunkBytes. FileWriter is the only thing that writes
// chunks; changing kFileChunkBytes would break the offsets of files already stored, so it is
// fixed for good.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "core/status.h"
#include "store/store.h"

namespace sluice {

inline constexpr std::int64_t kFileChunkBytes = 1 << 20;  // 1 MiB

// Appends content to a new file in whole chunks; the file becomes visible on finish().
// Creates the file's row lazily, at the first byte or at finish(), whichever comes first.
// Not thread-safe; one writer per file.
class FileWriter {
 public:
  FileWriter(Store& store, StoredFile file) : store_(store), file_(std::move(file)) {}

  // Buffers `bytes`, storing every chunk that fills up.
  Status append(std::string_view bytes);
  // Stores the last chunk and makes the file visible with its size.
  Status finish();

  std::int64_t bytes() const { return written_ + static_cast<std::int64_t>(buffer_.size()); }
  const StoredFile& file() const { return file_; }

 private:
  Status ensure_created();
  Status store_chunk();

  Store& store_;
  StoredFile file_;
  bool created_ = false;
  std::int64_t next_chunk_ = 0;
  std::int64_t written_ = 0;  // bytes in stored chunks
  std::string buffer_;
};

// Reads a file's content as lines ('\n'-terminated; a last line without one counts too), from
// any byte offset, one chunk at a time. A line longer than max_line_bytes is reported as too
// long and skipped without being held.
class FileLineReader {
 public:
  struct Line {
    std::int64_t number = 0;       // 1-based line number in the file
    std::int64_t end_offset = 0;   // byte offset just past the line (and its '\n')
    std::string text;              // without the '\n' (and a '\r' before it); empty if too long
    bool too_long = false;
  };

  // Starts at `offset`, which must be a line start, numbered `line_before` + 1.
  FileLineReader(Store& store, std::string file_id, std::int64_t offset = 0,
                 std::int64_t line_before = 0, std::int64_t max_line_bytes = 32 << 20);

  // The next line, or nullopt at the end of the file.
  Result<std::optional<Line>> next();

 private:
  Status fill();  // loads the chunk holding `offset_` into chunk_ (at eof_: nothing left)

  Store& store_;
  const std::string file_id_;
  const std::int64_t max_line_bytes_;
  std::int64_t offset_;       // of the next unread byte
  std::int64_t line_before_;
  std::string chunk_;         // the chunk holding offset_ ...
  std::int64_t chunk_start_ = -1;  // ... and its first byte's offset
  bool eof_ = false;
};

}  // namespace sluice
