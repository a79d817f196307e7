// /v1/files: upload a batch input file (multipart), read its metadata, stream its content
// (API.md "Files and batches").
//
// Memory: the HTTP layer holds an upload's body while it arrives (bounded by server.max_file,
// the body limit of POST /v1/files only, and by server.max_uploads bodies at once: the HTTP
// server refuses the next head with 503 while that many are held); the multipart parts point
// into it, and it is parsed and handed to the store one ~1 MiB chunk at a time on the batch
// runner's blocking thread, never on an event-loop thread. A download holds one chunk at a time:
// the next is read (on the blocking pool, api/off_loop.h) once the previous one has gone out to the
// socket (Responder::write's `sent`), so a slow client costs ~1 MiB, not a file.
#include <boost/json.hpp>
#include <memory>

#include "api/batch_json.h"
#include "api/multipart.h"
#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
#include "core/ids.h"
#include "store/file_chunks.h"

namespace sluice {

namespace json = boost::json;

namespace {

// Uploads go to the batch runner's thread, one at a time, so that they do not take over the
// blocking pool that every other request needs; without a runner, to the pool.
void RunBlocking(ApiContext& ctx, const http::Responder& responder, std::function<void()> work) {
  if (!ctx.batches) return RunOffLoop(ctx, responder, std::move(work));
  if (!ctx.batches->run_blocking(std::move(work))) {
    SendError(responder, Unavailable("the server is stopping"));
  }
}

// Parses and stores one upload (on the runner's thread): the file object, or why not.
Result<json::object> StoreUpload(ApiContext& ctx, const std::string& body, std::string_view boundary,
                                 const std::string& tenant) {
  ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(body, boundary));
  const MultipartPart* purpose = nullptr;
  const MultipartPart* file = nullptr;
  for (const MultipartPart& part : parts) {
    if (part.name == "purpose" && !purpose) purpose = &part;
    if (part.name == "file" && !file) file = &part;
  }
  if (!purpose) return InvalidArgument("the form field purpose is required", "purpose");
  if (purpose->data != kFilePurposeBatch) {
    return InvalidArgument("purpose must be \"batch\": Sluice keeps batch input files only (got \"" +
                               std::string(purpose->data.substr(0, 64)) + "\")",
                           "purpose");
  }
  if (!file) return InvalidArgument("the form field file is required", "file");
  if (file->data.empty()) return InvalidArgument("the file is empty", "file");
  if (static_cast<std::int64_t>(file->data.size()) > ctx.config.server.max_file) {
    return Status(StatusCode::kPayloadTooLarge,
                  "the file is larger than " + std::to_string(ctx.config.server.max_file) + " bytes (server.max_file)",
                  "file");
  }
  const Millis now = ctx.clock.now();
  FileWriter writer(ctx.store, StoredFile{.id = NewId("file_", now),
                                          .tenant = tenant,
                                          .purpose = kFilePurposeBatch,
                                          .filename = file->filename.empty() ? "file.jsonl" : file->filename.substr(0, 512),
                                          .created_at = now});
  Status written = writer.append(file->data);
  if (written.ok()) written = writer.finish();
  if (!written.ok()) {
    (void)ctx.store.delete_file(writer.file().id);  // best effort: never visible anyway
    return written;
  }
  return FileToJson(writer.file());
}

void Upload(ApiContext& ctx, http::Request&& req, http::Responder responder, const std::string& tenant) {
  auto boundary = MultipartBoundary(req.header("content-type"));
  if (!boundary.ok()) return SendError(responder, boundary.status());
  // Parsing a 200 MiB body is not event-loop work either.
  RunBlocking(ctx, responder,
              [&ctx, responder, body = std::make_shared<std::string>(std::move(req.body)),
               slot = std::move(req.body_slot), boundary = std::move(*boundary), tenant]() mutable {
                Result<json::object> stored = StoreUpload(ctx, *body, boundary, tenant);
                // The body's memory and its slot (server.max_uploads) are free before the client
                // hears the answer, so its next upload finds the slot.
                body.reset();
                slot.reset();
                if (!stored.ok()) return SendError(responder, stored.status());
                SendJson(responder, 200, *stored);
              });
}

void StreamChunks(ApiContext& ctx, http::Responder responder, std::string file_id, std::int64_t n);

// Reads chunk `n` on the blocking pool. A full pool cannot change the status already sent
// either, so the stream ends early, as on a store failure.
void StreamChunksOffLoop(ApiContext& ctx, http::Responder responder, std::string file_id,
                         std::int64_t n) {
  const bool queued = ctx.blocking->run([&ctx, responder, file_id, n]() mutable {
    StreamChunks(ctx, std::move(responder), std::move(file_id), n);
  });
  if (!queued) responder.end();
}

// Streams chunk `n` (on a blocking-pool thread) and, once it has gone out, the next; ends after
// the last.
void StreamChunks(ApiContext& ctx, http::Responder responder, std::string file_id, std::int64_t n) {
  if (responder.closed()) return;
  auto chunk = ctx.store.get_file_chunk(file_id, n);
  if (!chunk.ok() || !chunk->has_value()) {
    // A store failure mid-download cannot change the status already sent: end the stream
    // early (the client sees fewer bytes than the file's `bytes`).
    return responder.end();
  }
  responder.write(std::move(**chunk), [&ctx, responder, file_id = std::move(file_id), n]() mutable {
    StreamChunksOffLoop(ctx, std::move(responder), std::move(file_id), n + 1);
  });
}

}  // namespace

void AddFileRoutes(ApiContext& ctx, Router& router) {
  router.add("POST", "/v1/files",
             [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
               Upload(ctx, std::move(req), std::move(responder), rc.tenant());
             });
  router.add("GET", "/v1/files/{id}",
             [&ctx](http::Request&&, http::Responder responder, const RouteContext& rc) {
               RunOffLoop(ctx, responder,
                          [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
                            auto file = ctx.store.get_file(tenant, id);
                            if (!file.ok()) return SendError(responder, file.status());
                            SendJson(responder, 200, FileToJson(*file));
                          });
             });
  router.add(
      "GET", "/v1/files/{id}/content",
      [&ctx](http::Request&&, http::Responder responder, const RouteContext& rc) {
        RunOffLoop(
            ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
              auto file = ctx.store.get_file(tenant, id);
              if (!file.ok()) return SendError(responder, file.status());
              responder.start_stream(
                  200, "application/jsonl",
                  {{"Content-Disposition", "attachment; filename=\"" + file->id + ".jsonl\""}});
              StreamChunks(ctx, responder, file->id, 0);
            });
      });
}

}  // namespace sluice
