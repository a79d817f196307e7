#include "blobs/file_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/job.h"

namespace sluice {

namespace fs = std::filesystem;

namespace {

constexpr char kTenantsDir[] = "tenants";
constexpr char kRemoving[] = ".gc";  // remove()'s name for a blob it is deciding about

bool IsTenantName(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > 64) return false;
  for (std::size_t i = 0; i < tenant.size(); ++i) {
    const char c = tenant[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

bool IsHex(std::string_view s, std::size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsMissing(int error) {
  return error == ENOENT || error == ENOTDIR;
}

Status Failed(const std::string& what, const std::string& path) {
  return Unavailable(what + " " + path + ": " + std::string(strerror(errno)));
}

Millis MtimeOf(const struct stat& st) {
  return static_cast<Millis>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

// The names in `dir` for which `keep` holds, sorted; none when `dir` does not exist.
template <typename Keep>
Result<std::vector<std::string>> SortedNames(const std::string& dir, Keep keep) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
      return names;
    }
    return Unavailable("cannot list blob dir " + dir + ": " + ec.message());
  }
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (keep(name)) names.push_back(std::move(name));
  }
  if (ec) return Unavailable("cannot list blob dir " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

// Moves a blob that remove() set aside back to `path`, unless a put wrote it anew meanwhile
// (link never replaces: the fresher file stays).
Status PutBack(const std::string& removing, const std::string& path) {
  if (::link(removing.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    return Failed("cannot put back blob", path);
  }
  if (::unlink(removing.c_str()) != 0 && !IsMissing(errno)) {
    return Failed("cannot unlink", removing);
  }
  return Status::Ok();
}

}  // namespace

Status FileBlobStore::SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open blob dir " + dir + ": " + strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return Unavailable("cannot sync blob dir " + dir + ": " + strerror(err));
  return Status::Ok();
}

Status FileBlobStore::CreateDirectories(const std::string& dir) const {
  std::vector<fs::path> missing;  // deepest first
  std::error_code ec;
  for (fs::path p(dir); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    if (ec) break;
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create blob dir: " + ec.message());
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    const fs::path parent = it->parent_path();
    RETURN_IF_ERROR(sync_dir_(parent.empty() ? std::string(".") : parent.string()));
  }
  return Status::Ok();
}

Status FileBlobStore::Init() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Unavailable("cannot create blob dir " + dir_ + ": " + ec.message());
  return Status::Ok();
}

std::string FileBlobStore::TenantRoot(std::string_view tenant) const {
  if (tenant == kDefaultTenant) return dir_;
  if (!IsTenantName(tenant)) return "";
  return dir_ + "/" + kTenantsDir + "/" + std::string(tenant);
}

std::string FileBlobStore::PathFor(std::string_view tenant, std::string_view id) const {
  if (!IsValidId(id)) return "";
  const std::string root = TenantRoot(tenant);
  if (root.empty()) return "";
  std::string_view hex = id.substr(7);
  return root + "/" + std::string(hex.substr(0, 2)) + "/" + std::string(hex);
}

Result<std::vector<std::string>> FileBlobStore::Tenants() const {
  ASSIGN_OR_RETURN(std::vector<std::string> tenants,
                   SortedNames(dir_ + "/" + kTenantsDir, [](const std::string& name) {
                     return name != kDefaultTenant && IsTenantName(name);
                   }));
  tenants.push_back(kDefaultTenant);
  std::sort(tenants.begin(), tenants.end());
  return tenants;
}

Result<bool> FileBlobStore::exists(std::string_view tenant, std::string_view id) const {
  const std::string path = PathFor(tenant, id);
  if (path.empty()) return false;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (IsMissing(errno)) return false;
  return Failed("cannot read blob", path);
}

Result<bool> FileBlobStore::renew(std::string_view tenant, std::string_view id) {
  const std::string path = PathFor(tenant, id);
  if (path.empty()) return false;
  if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0) return true;
  if (IsMissing(errno)) return false;
  return Failed("cannot renew blob", path);
}

Result<BlobInfo> FileBlobStore::put(std::string_view tenant, std::string_view content) {
  if (TenantRoot(tenant).empty()) {
    return InvalidArgument("not a tenant id: " + std::string(tenant), "tenant");
  }
  BlobInfo info;
  info.id = IdOf(content);
  info.bytes = static_cast<std::int64_t>(content.size());
  ASSIGN_OR_RETURN(bool stored, renew(tenant, info.id));
  if (stored) return info;
  const std::string path = PathFor(tenant, info.id);
  const std::string parent = fs::path(path).parent_path().string();
  RETURN_IF_ERROR(CreateDirectories(parent));
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
  // The rename is durable only once the directory is: without this, a power cut can lose a
  // blob whose id the client already has. Should the sync fail, the blob goes again, so that
  // a retried put (which would find it and stop there) writes and syncs it afresh.
  if (Status synced = sync_dir_(parent); !synced.ok()) {
    ::unlink(path.c_str());
    return synced;
  }
  info.created = true;
  return info;
}

Result<std::string> FileBlobStore::get(std::string_view tenant, std::string_view id) const {
  if (!IsValidId(id)) return InvalidArgument("not a blob id: expected sha256:<64 hex>", "id");
  const std::string path = PathFor(tenant, id);
  if (path.empty()) return NotFound("no blob " + std::string(id));
  // A blob remove() is deciding about is still this blob until it is gone (see the header).
  for (const std::string& candidate : {path, path + kRemoving}) {
    std::ifstream in(candidate, std::ios::binary);
    if (!in) continue;
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }
  return NotFound("no blob " + std::string(id));
}

Result<std::vector<BlobKey>> FileBlobStore::list_older(Millis before, const BlobKey& after,
                                                       int limit) const {
  std::vector<BlobKey> out;
  if (limit <= 0) return out;
  const std::string after_prefix = after.id.size() > 9 ? after.id.substr(7, 2) : "";
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
  for (const std::string& tenant : tenants) {
    if (tenant < after.tenant) continue;
    const std::string root = TenantRoot(tenant);
    ASSIGN_OR_RETURN(std::vector<std::string> prefixes,
                     SortedNames(root, [](const std::string& n) { return IsHex(n, 2); }));
    for (const std::string& prefix : prefixes) {
      if (tenant == after.tenant && prefix < after_prefix) continue;
      const std::string dir = root + "/" + prefix;
      const std::size_t removing = std::strlen(kRemoving);
      ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(dir, [&](const std::string& n) {
                         const bool set_aside = n.size() == 64 + removing && n.ends_with(kRemoving);
                         return (IsHex(n, 64) || (set_aside && IsHex(n.substr(0, 64), 64))) &&
                                n.starts_with(prefix);
                       }));
      for (const std::string& name : names) {
        const std::string path = dir + "/" + name.substr(0, 64);
        // A crash in remove() left this set aside: put it back and judge it afresh.
        if (name.size() > 64) RETURN_IF_ERROR(PutBack(path + kRemoving, path));
        BlobKey key{tenant, "sha256:" + name.substr(0, 64)};
        if (key <= after || (!out.empty() && key == out.back())) continue;
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) {
          if (IsMissing(errno)) continue;
          return Failed("cannot read blob", path);
        }
        if (MtimeOf(st) >= before) continue;
        out.push_back(std::move(key));
        if (static_cast<int>(out.size()) == limit) return out;
      }
    }
  }
  return out;
}

Result<bool> FileBlobStore::remove(std::string_view tenant, std::string_view id, Millis before) {
  const std::string path = PathFor(tenant, id);
  if (path.empty()) return false;
  const std::string removing = path + kRemoving;
  // From here exists() and renew() find nothing: a submit that comes now is refused.
  if (::rename(path.c_str(), removing.c_str()) != 0) {
    if (IsMissing(errno)) return false;
    return Failed("cannot remove blob", path);
  }
  // The same inode: a renew that came before the rename shows in its mtime.
  struct stat st;
  if (::stat(removing.c_str(), &st) != 0 || MtimeOf(st) >= before) {
    RETURN_IF_ERROR(PutBack(removing, path));
    return false;
  }
  if (::unlink(removing.c_str()) != 0) return Failed("cannot remove blob", removing);
  return true;
}

}  // namespace sluice
