#include "blobs/file_blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice {

namespace fs = std::filesystem;

Status FileBlobStore::Init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Unavailable("cannot create blob dir " + dir_ + ": " + ec.message());
  return Status::Ok();
}

std::string FileBlobStore::PathFor(std::string_view id) const {
  std::string_view hex = id.substr(7);
  return dir_ + "/" + std::string(hex.substr(0, 2)) + "/" + std::string(hex);
}

Result<bool> FileBlobStore::exists(std::string_view id) const {
  return IsValidId(id) && fs::exists(PathFor(id));
}

Result<BlobInfo> FileBlobStore::put(std::string_view content) {
  BlobInfo info;
  info.id = IdOf(content);
  info.bytes = static_cast<std::int64_t>(content.size());
  std::string path = PathFor(info.id);
  if (fs::exists(path)) return info;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Unavailable("cannot create blob dir: " + ec.message());
  static std::atomic<std::uint64_t> seq{0};
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(seq++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("cannot write blob: " + std::string(strerror(errno)));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Unavailable("cannot write blob: " + why);  // e.g. disk full: the client may retry
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Unavailable("cannot sync blob: " + std::string(strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Unavailable("cannot store blob: " + std::string(strerror(errno)));
  }
  info.created = true;
  return info;
}

Result<std::string> FileBlobStore::get(std::string_view id) const {
  if (!IsValidId(id)) return InvalidArgument("not a blob id: expected sha256:<64 hex>", "id");
  std::ifstream in(PathFor(id), std::ios::binary);
  if (!in) return NotFound("no blob " + std::string(id));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace sluice
