// `sluice files upload FILE [--purpose batch]`: POST /v1/files as multipart/form-data (fields
// `purpose` and `file`, as OpenAI's client sends them); the file is read from disk as it goes
// out, never held whole. Prints the file id (-o json: the file object), so
// `id=$(sluice files upload in.jsonl)` works.
// `sluice files get ID`: GET /v1/files/{id}, the file object.
// `sluice files content ID [--out PATH]`: GET /v1/files/{id}/content, written as it arrives to
// stdout or to PATH. PATH is written under a temporary name beside it and renamed only once
// every byte of the file (its `bytes`, read first) arrived: a download the server ends early
// (it can only close the stream once it has begun) fails with exit 3 and leaves PATH as it was.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "client/pretty_json.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// The server stores an upload before it answers, which for a large file takes a while with no
// byte going either way.
constexpr Millis kUploadSilence = 300'000;
constexpr Millis kDownloadSilence = 60'000;

void PrintObject(const json::value& v, const ClientFlags& client) {
  if (client.output == "json") {
    std::printf("%s\n", JsonText(v).c_str());
  } else {
    std::printf("%s\n", client::PrettyJson(v).c_str());
  }
}

// Where the content goes: stdout, or a temporary file renamed over `path` by commit().
class ContentOut {
 public:
  explicit ContentOut(std::string path) : path_(std::move(path)) {}
  ~ContentOut() {
    if (file_ && file_ != stdout) std::fclose(file_);
    if (!temp_.empty() && !committed_) std::remove(temp_.c_str());
  }
  ContentOut(const ContentOut&) = delete;
  ContentOut& operator=(const ContentOut&) = delete;

  Status open() {
    if (path_.empty()) {
      file_ = stdout;
      return Status::Ok();
    }
    temp_ = path_ + ".part-" + std::to_string(getpid());
    file_ = std::fopen(temp_.c_str(), "wb");
    if (!file_) return Error("cannot write " + temp_);
    return Status::Ok();
  }
  Status write(std::string_view piece) {
    if (std::fwrite(piece.data(), 1, piece.size(), file_) != piece.size())
      return Error("cannot write " + name());
    written_ += static_cast<std::int64_t>(piece.size());
    return Status::Ok();
  }
  Status commit() {
    if (std::fflush(file_) != 0) return Error("cannot write " + name());
    if (file_ == stdout) return Status::Ok();
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) return Error("cannot write " + temp_);
    if (std::rename(temp_.c_str(), path_.c_str()) != 0)
      return Error("cannot rename " + temp_ + " to " + path_);
    committed_ = true;
    return Status::Ok();
  }
  std::int64_t written() const { return written_; }

 private:
  std::string name() const { return path_.empty() ? std::string("stdout") : temp_; }
  static Status Error(const std::string& what) {
    return InvalidArgument(what + ": " + std::strerror(errno), "--out");
  }

  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
  std::int64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace

int RunFilesUpload(const FilesFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto r = api.post_form(
      "/v1/files",
      {client::FormPart{.name = "purpose", .value = f.purpose},
       client::FormPart{.name = "file", .file_path = f.path, .content_type = "application/jsonl"}},
      client::CallOptions{.timeout = client::kNoTimeout, .idle_timeout = kUploadSilence});
  if (!r.ok()) return ReportError(r.status());
  const json::value* id = r->body.is_object() ? r->body.as_object().if_contains("id") : nullptr;
  if (f.client.output == "json" || !id || !id->is_string()) {
    std::printf("%s\n", JsonText(r->body).c_str());
  } else {
    std::printf("%s\n", id->as_string().c_str());
  }
  return kExitOk;
}

int RunFilesGet(const FilesFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto file = api.get_json("/v1/files/" + client::UrlEscape(f.id));
  if (!file.ok()) return ReportError(file.status());
  PrintObject(*file, f.client);
  return kExitOk;
}

int RunFilesContent(const FilesFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  const std::string path = "/v1/files/" + client::UrlEscape(f.id);
  auto file = api.get_json(path);
  if (!file.ok()) return ReportError(file.status());
  const json::value* bytes = file->is_object() ? file->as_object().if_contains("bytes") : nullptr;
  if (!bytes || !bytes->is_int64())
    return ReportError(Internal("the server answered a file without \"bytes\""));

  ContentOut out(f.out);
  if (Status opened = out.open(); !opened.ok()) return ReportError(opened);
  // The file's own size bounds what is written: a server that sends more is cut off.
  const std::int64_t expected = bytes->as_int64();
  auto streamed = api.stream(
      "GET", path + "/content",
      [&out, expected, &f](std::string_view piece) {
        if (out.written() + static_cast<std::int64_t>(piece.size()) > expected) {
          return Unavailable("the server sent more of " + f.id + " than its " + std::to_string(expected) +
                             " bytes");
        }
        return out.write(piece);
      },
      client::CallOptions{.timeout = client::kNoTimeout, .idle_timeout = kDownloadSilence});
  if (!streamed.ok()) return ReportError(streamed.status());
  if (out.written() != bytes->as_int64()) {
    return ReportError(Unavailable("the server ended the download of " + f.id + " after " +
                                   std::to_string(out.written()) + " of its " +
                                   std::to_string(bytes->as_int64()) + " bytes; try again"));
  }
  if (Status committed = out.commit(); !committed.ok()) return ReportError(committed);
  return kExitOk;
}

}  // namespace sluice
