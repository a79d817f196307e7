// `sluice list [--status S] [--type T] [--queue Q] [--object-id O] [--limit N] [--after CURSOR]
// [--all [--max-pages N]]`: GET /v1/jobs, newest first. Text: one line per job, "<id> <status>
// <type> <queue> <created_at>", nothing else on stdout (grep and awk read it). -o json: the
// page as the server answered it.
//
// --all follows `next` until it is null. The pages are printed as they arrive, never gathered:
// with -o json the one list {"object": "list", "data": [every job], "next": null} is written
// job by job, so a million jobs cost one page of memory. At --max-pages (default 1000) it stops
// and says on stderr where to go on; the JSON's "next" is then that cursor, not null.
#include <cstdio>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

std::string Text(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string("-");
}

void PrintJobLine(const json::value& job) {
  if (!job.is_object()) return;
  const json::object& o = job.as_object();
  std::printf("%s %s %s %s %s\n", Text(o, "id").c_str(), Text(o, "status").c_str(),
              Text(o, "type").c_str(), Text(o, "queue").c_str(), Text(o, "created_at").c_str());
}

std::string PagePath(const ListFlags& f, const std::string& after) {
  return "/v1/jobs" + client::QueryString({{"status", f.status},
                                           {"type", f.type},
                                           {"queue", f.queue},
                                           {"object_id", f.object_id},
                                           {"limit", f.limit > 0 ? std::to_string(f.limit) : ""},
                                           {"after", after}});
}

// The page's jobs and its `next` cursor ("" on the last page).
struct Page {
  json::array jobs;
  std::string next;
};

Result<Page> ReadPage(const json::value& body) {
  const json::object* o = body.if_object();
  const json::value* data = o ? o->if_contains("data") : nullptr;
  if (!data || !data->is_array())
    return Internal("the server answered a job list without \"data\"");
  Page page{data->as_array(), ""};
  if (const json::value* next = o->if_contains("next"); next && next->is_string())
    page.next = next->as_string();
  return page;
}

}  // namespace

int RunList(const ListFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  const bool json_out = f.client.output == "json";
  if (!f.all) {
    auto body = api.get_json(PagePath(f, f.after));
    if (!body.ok()) return ReportError(body.status());
    if (json_out) {
      std::printf("%s\n", JsonText(*body).c_str());
      return kExitOk;
    }
    auto page = ReadPage(*body);
    if (!page.ok()) return ReportError(page.status());
    for (const json::value& job : page->jobs) PrintJobLine(job);
    return kExitOk;
  }
  std::string cursor = f.after;
  bool first_job = true;
  if (json_out) std::printf("{\"object\":\"list\",\"data\":[");
  for (int pages = 0;; ++pages) {
    if (pages == f.max_pages) {
      std::fprintf(stderr, "sluice: stopped after %d pages (--max-pages); go on with --after %s\n",
                   pages, cursor.c_str());
      break;
    }
    auto body = api.get_json(PagePath(f, cursor));
    auto page = body.ok() ? ReadPage(*body) : Result<Page>(body.status());
    if (!page.ok()) {
      if (json_out)
        std::printf("\n");  // a cut list (not valid JSON), never mistaken for a whole one
      return ReportError(page.status());
    }
    for (const json::value& job : page->jobs) {
      if (!json_out) {
        PrintJobLine(job);
        continue;
      }
      std::printf("%s%s", first_job ? "" : ",", JsonText(job).c_str());
      first_job = false;
    }
    cursor = page->next;
    if (cursor.empty()) break;
  }
  if (json_out) {
    std::printf("],\"next\":%s}\n",
                cursor.empty() ? "null" : JsonText(json::value(cursor)).c_str());
  }
  return kExitOk;
}

}  // namespace sluice
