#include "store/audit_chain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "blobs/blob_store.h"
#include "core/time.h"
#include "store/event_data.h"

namespace sluice {

namespace json = boost::json;

namespace {

constexpr std::string_view kHashMember = ",\"hash\":\"";

// The members a record has of its own, which a detail may not name.
constexpr std::string_view kRecordMembers[] = {"action", "actor",     "at",  "hash",
                                               "job_id", "prev_hash", "seq", "tenant"};

// A fraction in fixed point with no trailing zeros: 9 decimals below 1e6 (the nano-USD a cost is
// counted in, store/cost_records.h), fewer above, so that the text never has more than 15
// significant digits. Such text reads back as a double that prints as the same text, so
// canonicalizing canonical text changes nothing (a fuzz finding: "98884444.444444424" printed
// with 9 decimals read back as another double).
Status AppendFraction(std::string& out, double d) {
  const double magnitude = std::fabs(d);
  if (!std::isfinite(d) || magnitude >= 1e15) {
    return InvalidArgument("a number of an audit record is out of range");
  }
  int decimals = 9;
  if (magnitude >= 1e6) {
    const int whole_digits = static_cast<int>(std::floor(std::log10(magnitude))) + 1;
    decimals = std::max(0, 15 - whole_digits);
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, d);
  std::string_view s(text);
  if (s.find('.') != std::string_view::npos) {
    while (s.back() == '0') s.remove_suffix(1);
    if (s.back() == '.') s.remove_suffix(1);
  }
  if (s == "-0") s = "0";
  out += s;
  return Status::Ok();
}

Status AppendCanonical(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return Status::Ok();
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return Status::Ok();
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      return Status::Ok();
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      return Status::Ok();
    case json::kind::double_:
      return AppendFraction(out, v.get_double());
    case json::kind::string:
      AppendJsonString(out, std::string_view(v.get_string()));
      return Status::Ok();
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        RETURN_IF_ERROR(AppendCanonical(out, item));
      }
      out += ']';
      return Status::Ok();
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(o.size());
      for (const json::key_value_pair& m : o) members.push_back(&m);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const json::key_value_pair* m : members) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, std::string_view(m->key()));
        out += ':';
        RETURN_IF_ERROR(AppendCanonical(out, m->value()));
      }
      out += '}';
      return Status::Ok();
    }
  }
  return Internal("unknown JSON kind");
}

Result<json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument("not JSON: " + ec.message());
  return v;
}

bool IsHexHash(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string_view StringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

Result<std::string> CanonicalJson(std::string_view text) {
  ASSIGN_OR_RETURN(json::value v, Parse(text));
  std::string out;
  RETURN_IF_ERROR(AppendCanonical(out, v));
  return out;
}

std::string AuditHash(std::string_view prev_hash, std::string_view record_json) {
  std::string message;
  message.reserve(prev_hash.size() + record_json.size());
  message.append(prev_hash).append(record_json);
  return Sha256Hex(message);
}

Result<AuditEntry> MakeAuditEntry(Millis at, std::string tenant, std::string actor,
                                  std::string action, std::string job_id,
                                  std::string_view detail_json) {
  ASSIGN_OR_RETURN(json::value detail, Parse(detail_json));
  if (!detail.is_object()) return InvalidArgument("an audit entry's detail must be an object");
  json::object& record = detail.get_object();
  for (std::string_view own : kRecordMembers) {
    if (record.contains(own)) {
      return InvalidArgument("an audit entry's detail names \"" + std::string(own) + "\"");
    }
  }
  record["action"] = action;
  record["actor"] = actor;
  record["at"] = FormatRfc3339(at);
  record["job_id"] = job_id;
  record["tenant"] = tenant;
  AuditEntry entry{.at = at,
                   .tenant = std::move(tenant),
                   .actor = std::move(actor),
                   .action = std::move(action),
                   .job_id = std::move(job_id)};
  // The top level by hand, to note where the sealer's two members go: before the first member
  // that sorts after each. "tenant" sorts after both and is always there.
  std::vector<const json::key_value_pair*> members;
  for (const json::key_value_pair& m : record) members.push_back(&m);
  std::sort(members.begin(), members.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  std::string& out = entry.record_json;
  out += '{';
  bool prev_placed = false, seq_placed = false;
  for (const json::key_value_pair* m : members) {
    if (out.size() > 1) out += ',';
    if (!prev_placed && m->key() > "prev_hash") {
      entry.prev_hash_at = static_cast<std::int64_t>(out.size());
      prev_placed = true;
    }
    if (!seq_placed && m->key() > "seq") {
      entry.seq_at = static_cast<std::int64_t>(out.size());
      seq_placed = true;
    }
    AppendJsonString(out, std::string_view(m->key()));
    out += ':';
    RETURN_IF_ERROR(AppendCanonical(out, m->value()));
  }
  out += '}';
  return entry;
}

Result<AuditRecord> SealAuditEntry(const AuditEntry& entry, std::int64_t seq,
                                   std::string_view prev_hash) {
  const std::string& text = entry.record_json;
  if (entry.prev_hash_at < 1 || entry.seq_at < entry.prev_hash_at ||
      entry.seq_at >= static_cast<std::int64_t>(text.size())) {
    return InvalidArgument("an audit entry's offsets do not fit its record");
  }
  const auto prev_at = static_cast<std::size_t>(entry.prev_hash_at);
  const auto seq_at = static_cast<std::size_t>(entry.seq_at);
  AuditRecord sealed{.seq = seq,
                     .at = entry.at,
                     .tenant = entry.tenant,
                     .action = entry.action,
                     .job_id = entry.job_id};
  std::string& out = sealed.record_json;
  out.reserve(text.size() + prev_hash.size() + 40);
  out.append(text, 0, prev_at);
  out += "\"prev_hash\":";
  AppendJsonString(out, prev_hash);
  out += ',';
  out.append(text, prev_at, seq_at - prev_at);
  out += "\"seq\":" + std::to_string(seq) + ',';
  out.append(text, seq_at, std::string::npos);
  sealed.hash = AuditHash(prev_hash, out);
  return sealed;
}

std::string AuditLine(const AuditRecord& record) {
  std::string line = record.record_json;
  if (!line.empty()) line.pop_back();  // the record's closing brace
  line += kHashMember;
  line += record.hash;
  line += "\"}";
  return line;
}

Result<std::pair<std::string, std::string>> SplitAuditLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  const std::size_t tail = kHashMember.size() + 64 + 2;  // ,"hash":"<64 hex>"}
  if (line.size() < tail + 2 || !line.ends_with("\"}") ||
      line.substr(line.size() - tail, kHashMember.size()) != kHashMember) {
    return InvalidArgument("not an audit record line: it must end with its \"hash\" member");
  }
  std::string hash(line.substr(line.size() - 66, 64));
  std::string record(line.substr(0, line.size() - tail));
  record += '}';
  return std::make_pair(std::move(record), std::move(hash));
}

Status AuditChainCheck::fail(std::int64_t seq, const std::string& why) {
  failed_ = FailedPrecondition("audit record " + std::to_string(seq) + ": " + why);
  return failed_;
}

Status AuditChainCheck::next(std::string_view record_json, std::string_view hash) {
  if (!failed_.ok()) return failed_;
  const std::int64_t expected = started_ ? seq_ + 1 : 0;
  Result<json::value> parsed = Parse(record_json);
  if (!parsed.ok() || !parsed->is_object()) {
    return fail(expected, "not a JSON object");
  }
  const json::object& o = parsed->get_object();
  const json::value* seq_value = o.if_contains("seq");
  if (!seq_value || !seq_value->is_int64()) return fail(expected, "no seq");
  const std::int64_t seq = seq_value->get_int64();
  const std::string_view prev = StringMember(o, "prev_hash");
  if (!started_) {
    started_ = true;
    seq_ = seq - 1;
    hash_ = std::string(prev);
  }
  if (seq != seq_ + 1) {
    return fail(seq, "follows record " + std::to_string(seq_) + " (a gap or a repeat)");
  }
  if (prev != hash_) return fail(seq, "prev_hash is not the hash of the record before it");
  Result<std::string> canonical = CanonicalJson(record_json);
  if (!canonical.ok() || *canonical != record_json) return fail(seq, "not in canonical form");
  if (!IsHexHash(hash) || AuditHash(prev, record_json) != hash) {
    return fail(seq, "its hash does not match its content");
  }
  if (checked_ == 0) first_seq_ = seq;
  ++checked_;
  seq_ = seq;
  hash_ = std::string(hash);
  return Status::Ok();
}

Status AuditChainCheck::next_stored(const AuditRecord& stored) {
  RETURN_IF_ERROR(next(stored.record_json, stored.hash));
  Result<json::value> parsed = Parse(stored.record_json);
  const json::object& o = parsed->get_object();
  if (stored.seq != seq_ || StringMember(o, "tenant") != stored.tenant ||
      StringMember(o, "action") != stored.action || StringMember(o, "job_id") != stored.job_id ||
      StringMember(o, "at") != FormatRfc3339(stored.at)) {
    return fail(seq_, "its stored columns (seq, tenant, action, job_id, at) differ from it");
  }
  return Status::Ok();
}

}  // namespace sluice
