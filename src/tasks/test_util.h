// Helpers shared by the tasks tests: the repository's bundled tasks dir, and scratch tasks dirs
// written file by file.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/status.h"

namespace sluice::testing {

// <repo>/tasks, found by walking up from this source file (no build-time path needed).
inline std::string BundledTasksDir() {
  std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path();
  while (!dir.empty() && dir != dir.root_path()) {
    if (std::filesystem::exists(dir / "tasks" / "classify_ticket.toml"))
      return (dir / "tasks").string();
    dir = dir.parent_path();
  }
  CHECK(false && "no tasks/classify_ticket.toml above the source file");
  return {};
}

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-tasks-XXXXXX").string();
    CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `text` to <dir>/<relative>, creating folders on the way.
  void Write(const std::string& relative, const std::string& text) const {
    std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    CHECK(out.good());
  }

  // Copies every file of `dir` (recursively) into this one.
  void CopyFrom(const std::string& dir) const {
    std::filesystem::copy(dir, path_,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
  }

 private:
  std::string path_;
};

}  // namespace sluice::testing
