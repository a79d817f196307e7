#include "store/file_chunks.h"

#include <algorithm>

namespace sluice {

Status FileWriter::ensure_created() {
  if (created_) return Status::Ok();
  RETURN_IF_ERROR(store_.create_file(file_));
  created_ = true;
  return Status::Ok();
}

Status FileWriter::store_chunk() {
  RETURN_IF_ERROR(ensure_created());
  RETURN_IF_ERROR(store_.put_file_chunk(file_.id, next_chunk_, buffer_));
  ++next_chunk_;
  written_ += static_cast<std::int64_t>(buffer_.size());
  buffer_.clear();
  return Status::Ok();
}

Status FileWriter::append(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto room = static_cast<std::size_t>(kFileChunkBytes) - buffer_.size();
    const std::size_t take = std::min(room, bytes.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (buffer_.size() == static_cast<std::size_t>(kFileChunkBytes)) RETURN_IF_ERROR(store_chunk());
  }
  return Status::Ok();
}

Status FileWriter::finish() {
  if (!buffer_.empty()) RETURN_IF_ERROR(store_chunk());
  RETURN_IF_ERROR(ensure_created());
  file_.bytes = written_;
  return store_.complete_file(file_.id, written_);
}

FileLineReader::FileLineReader(Store& store, std::string file_id, std::int64_t offset,
                               std::int64_t line_before, std::int64_t max_line_bytes)
    : store_(store),
      file_id_(std::move(file_id)),
      max_line_bytes_(max_line_bytes),
      offset_(offset),
      line_before_(line_before) {}

Status FileLineReader::fill() {
  const std::int64_t index = offset_ / kFileChunkBytes;
  ASSIGN_OR_RETURN(std::optional<std::string> chunk, store_.get_file_chunk(file_id_, index));
  if (!chunk) {
    eof_ = true;
    chunk_.clear();
    chunk_start_ = -1;
    return Status::Ok();
  }
  chunk_ = std::move(*chunk);
  chunk_start_ = index * kFileChunkBytes;
  if (offset_ >= chunk_start_ + static_cast<std::int64_t>(chunk_.size())) eof_ = true;
  return Status::Ok();
}

Result<std::optional<FileLineReader::Line>> FileLineReader::next() {
  Line line;
  bool any = false;
  for (;;) {
    const bool in_chunk = chunk_start_ >= 0 && offset_ >= chunk_start_ &&
                          offset_ < chunk_start_ + static_cast<std::int64_t>(chunk_.size());
    if (!in_chunk && !eof_) {
      RETURN_IF_ERROR(fill());
      continue;
    }
    if (!in_chunk) break;  // end of file
    const auto pos = static_cast<std::size_t>(offset_ - chunk_start_);
    const std::size_t nl = chunk_.find('\n', pos);
    const std::size_t end = nl == std::string::npos ? chunk_.size() : nl;
    const std::size_t piece = end - pos;
    any = true;
    if (!line.too_long) {
      if (static_cast<std::int64_t>(line.text.size() + piece) > max_line_bytes_) {
        line.too_long = true;
        line.text.clear();
        line.text.shrink_to_fit();
      } else {
        line.text.append(chunk_, pos, piece);
      }
    }
    offset_ += static_cast<std::int64_t>(piece);
    if (nl != std::string::npos) {
      ++offset_;  // the '\n'
      break;
    }
  }
  if (!any) return std::optional<Line>();
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  line.number = ++line_before_;
  line.end_offset = offset_;
  return std::optional<Line>(std::move(line));
}

}  // namespace sluice
