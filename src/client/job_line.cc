#include "client/job_line.h"

#include <boost/json.hpp>

#include "blobs/blob_store.h"
#include "core/job.h"

namespace sluice::client {

namespace json = boost::json;

namespace {

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// Maps a line of job fields: its text and id fields to input.text and object_id, its extras
// as `fields.extra` says.
Status MapJobFields(json::object& body, const LineFields& fields, std::vector<std::string>* extra_fields) {
  if (!fields.id_field.empty() && fields.id_field != "object_id") {
    if (json::value* id = body.if_contains(fields.id_field)) {
      if (body.contains("object_id")) return InvalidArgument("give \"" + fields.id_field + "\" or \"object_id\", not both");
      json::value moved = id->is_string() ? *id : json::value(json::serialize(*id));  // object ids are text
      body.erase(fields.id_field);
      body["object_id"] = std::move(moved);
    }
  }
  if (json::value* text = body.if_contains(fields.text_field)) {
    if (body.contains("input")) return InvalidArgument("give \"" + fields.text_field + "\" or \"input\", not both", fields.text_field);
    json::value moved = *text;
    body.erase(fields.text_field);
    body["input"] = json::object{{"text", std::move(moved)}};
  }
  if (fields.extra == LineFields::Extra::kRefuse) return Status::Ok();
  json::object extras;
  for (auto it = body.begin(); it != body.end();) {
    if (IsJobBodyField(it->key())) {
      ++it;
      continue;
    }
    if (extra_fields) extra_fields->emplace_back(it->key());
    if (fields.extra == LineFields::Extra::kMetadata) extras[it->key()] = std::move(it->value());
    it = body.erase(it);
  }
  if (extras.empty()) return Status::Ok();
  json::value& metadata = body["metadata"];
  if (metadata.is_null()) metadata = json::object();
  if (!metadata.is_object()) return InvalidArgument("metadata must be an object to take the line's other fields", "metadata");
  for (auto& [key, value] : extras) {
    if (!metadata.as_object().contains(key)) metadata.as_object()[key] = std::move(value);
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<json::object>> JobBodyFromLine(std::string_view line, const std::string& default_type,
                                                    const LineFields& fields, std::vector<std::string>* extra_fields) {
  if (IsBlank(line)) return std::optional<json::object>();
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) return InvalidArgument("not valid JSON: " + ec.message());
  json::object body;
  if (v.is_string()) {
    if (v.as_string().empty()) return InvalidArgument("the text is empty", "input.text");
    body["input"] = json::object{{"text", v.as_string()}};
  } else if (v.is_object()) {
    body = std::move(v.as_object());
    if (!body.contains("type")) {
      RETURN_IF_ERROR(MapJobFields(body, fields, extra_fields));
    } else if (const json::value* text = body.if_contains("text")) {
      if (body.contains("input")) return InvalidArgument("give \"text\" or \"input\", not both", "text");
      json::value moved = *text;
      body.erase("text");
      body["input"] = json::object{{"text", std::move(moved)}};
    }
  } else {
    return InvalidArgument("a line must be a JSON object (a job, or job fields with \"text\") or a JSON string");
  }
  if (!body.contains("type")) {
    if (default_type.empty()) {
      return InvalidArgument("the line has no \"type\" (give --type for lines that are only input)", "type");
    }
    // The type first, so that the body reads like a hand-written job.
    json::object typed{{"type", default_type}};
    for (auto& [k, val] : body) typed[k] = std::move(val);
    body = std::move(typed);
  }
  return std::optional<json::object>(std::move(body));
}

void SetDefault(json::object& body, std::string_view key, json::value value) {
  if (!body.contains(key)) body[key] = std::move(value);
}

std::string AssignBatchDedupKey(json::object& body, std::int64_t line_number, const std::string& prefix) {
  if (auto* key = body.if_contains("dedup_key"); key && !key->is_null()) return "";
  if (auto* object_id = body.if_contains("object_id"); object_id && !object_id->is_null()) return "";
  // Boost's writer, not JsonText: the keys of files already submitted must not change with it.
  std::string material = std::to_string(line_number) + "\n" + json::serialize(body);
  std::string key = prefix + ":" + Sha256Hex(material).substr(0, 32);
  body["dedup_key"] = key;
  return key;
}

}  // namespace sluice::client
