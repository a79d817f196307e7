// valijson reports a bad schema by calling throwRuntimeError, which aborts the process unless
// exceptions are enabled. A schema file is input, so we want an error value: turn exceptions on
// for this translation unit (the only one that includes valijson) and catch them in Compile.
#define VALIJSON_USE_EXCEPTIONS 1

#include "tasks/schema_validator.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <locale>
#include <mutex>
#include <optional>
#include <string>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

struct SchemaValidator::Compiled {
  json::value document;
  valijson::Schema schema;
};

namespace {

// How many violations a Status message lists; the rest are counted.
constexpr size_t kMaxListedViolations = 3;
// Values quoted in messages are cut to this many characters.
constexpr size_t kMaxQuotedChars = 40;

// The first kMaxQuotedChars bytes of `text`, cut back to a whole UTF-8 character so that the
// message stays valid UTF-8 (it may end up in a JSON error), with "..." when something was cut.
std::string Shorten(std::string_view text) {
  if (text.size() <= kMaxQuotedChars) return std::string(text);
  size_t end = kMaxQuotedChars;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

std::string Quote(const json::value& v) {
  return v.is_string() ? "'" + Shorten(v.get_string()) + "'" : Shorten(JsonText(v));
}

const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

// Enum members and type names as a person reads them: strings bare, anything else as JSON.
std::string JoinValues(const json::array& values, std::string_view separator) {
  std::string out;
  for (const json::value& v : values) {
    if (!out.empty()) out += separator;
    out += v.is_string() ? std::string(v.get_string()) : JsonText(v);
  }
  return out;
}

// Where one violation sits: the document value, the schema that judged it, and its path in the
// "key_points[2].text" form. valijson gives the path as segments like "<root>", "[category]",
// "[2]" (keys and indexes look alike), so we resolve them by walking the document itself.
struct Location {
  const json::value* value = nullptr;   // null when the path leaves the document
  const json::value* schema = nullptr;  // null when the walk leaves "properties"/"items"
  std::string path;
};

const json::value* SubSchema(const json::value* schema, std::string_view member,
                             std::string_view key) {
  if (schema == nullptr || !schema->is_object()) return nullptr;
  const json::value* container = schema->get_object().if_contains(member);
  if (container == nullptr) return nullptr;
  if (key.empty()) return container->is_object() ? container : nullptr;
  if (!container->is_object()) return nullptr;
  return container->get_object().if_contains(key);
}

void AppendKey(std::string& path, std::string_view key) {
  if (!path.empty()) path += '.';
  path += key;
}

Location Locate(const json::value& doc, const json::value& schema,
                const std::vector<std::string>& context) {
  Location loc{&doc, &schema, ""};
  for (const std::string& raw : context) {
    if (raw.size() < 2 || raw.front() != '[' || raw.back() != ']') continue;  // "<root>"
    std::string seg = raw.substr(1, raw.size() - 2);
    if (loc.value != nullptr && loc.value->is_array()) {
      size_t index = std::strtoul(seg.c_str(), nullptr, 10);
      const json::array& arr = loc.value->get_array();
      loc.value = index < arr.size() ? &arr[index] : nullptr;
      loc.schema = SubSchema(loc.schema, "items", "");
      loc.path += "[" + seg + "]";
    } else {
      loc.value = loc.value != nullptr && loc.value->is_object()
                      ? loc.value->get_object().if_contains(seg)
                      : nullptr;
      loc.schema = SubSchema(loc.schema, "properties", seg);
      AppendKey(loc.path, seg);
    }
  }
  return loc;
}

// The name valijson quotes at the end of a message: "... property 'summary'." -> summary.
std::string QuotedName(const std::string& description) {
  size_t end = description.rfind('\'');
  if (end == std::string::npos || end == 0) return {};
  size_t begin = description.rfind('\'', end - 1);
  if (begin == std::string::npos) return {};
  return description.substr(begin + 1, end - begin - 1);
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// valijson also reports each failure again on every enclosing object and array ("Failed to
// validate against schema associated with property name 'x'"); those repeat what the leaf said.
bool IsEcho(const std::string& description) {
  return StartsWith(description, "Failed to validate against schema associated with property") ||
         StartsWith(description, "Failed to validate item #") ||
         StartsWith(description, "Failed to validate against additional properties schema");
}

const json::value* SchemaMember(const json::value* schema, std::string_view key) {
  if (schema == nullptr || !schema->is_object()) return nullptr;
  return schema->get_object().if_contains(key);
}

// One violation, in words a person (or a model asked to fix its answer) can act on.
struct Violation {
  std::string path;  // "" for the document itself
  std::string problem;
  bool wrong_type = false;

  std::string ToString() const { return (path.empty() ? "(document)" : path) + ": " + problem; }
};

Violation Describe(const valijson::ValidationResults::Error& error, const json::value& doc,
                   const json::value& schema) {
  Location loc = Locate(doc, schema, error.context);
  const std::string& what = error.description;
  std::string path = loc.path;
  std::string problem;
  bool wrong_type = false;
  if (StartsWith(what, "Missing required property")) {
    AppendKey(path, QuotedName(what));
    problem = "required property is missing";
  } else if (StartsWith(what, "Object contains a property that could not be validated")) {
    AppendKey(path, QuotedName(what));
    problem = "property is not allowed by the schema";
  } else if (StartsWith(what, "Failed to match against any enum values") && loc.value) {
    problem = "value " + Quote(*loc.value) + " not in enum";
    if (const json::value* e = SchemaMember(loc.schema, "enum"); e && e->is_array()) {
      problem += " [" + JoinValues(e->get_array(), ", ") + "]";
    }
  } else if (StartsWith(what, "Value type not permitted") && loc.value) {
    const json::value* t = SchemaMember(loc.schema, "type");
    std::string expected = t == nullptr     ? "another type"
                           : t->is_array()  ? JoinValues(t->get_array(), " or ")
                           : t->is_string() ? std::string(t->get_string())
                                            : JsonText(*t);
    problem = "expected " + expected + ", got " + KindName(*loc.value);
    wrong_type = true;
  } else if (StartsWith(what, "Expected number less than") && loc.value) {
    const json::value* max = SchemaMember(loc.schema, "maximum");
    problem =
        "value " + Quote(*loc.value) + " is above the maximum" + (max ? " " + JsonText(*max) : "");
  } else if (StartsWith(what, "Expected number greater than") && loc.value) {
    const json::value* min = SchemaMember(loc.schema, "minimum");
    problem =
        "value " + Quote(*loc.value) + " is below the minimum" + (min ? " " + JsonText(*min) : "");
  } else {
    problem = what;
  }
  return {std::move(path), std::move(problem), wrong_type};
}

// The violations worth reading: leaves rather than their echoes, each once, and at a value of
// the wrong type only that (a number is also "not in enum", which says nothing new).
std::vector<Violation> Violations(const valijson::ValidationResults& results,
                                  const json::value& doc, const json::value& schema) {
  std::vector<const valijson::ValidationResults::Error*> leaves;
  for (const auto& error : results) {
    if (!IsEcho(error.description)) leaves.push_back(&error);
  }
  if (leaves.empty()) {
    for (const auto& error : results) leaves.push_back(&error);
  }
  std::vector<Violation> all;
  for (const auto* error : leaves) all.push_back(Describe(*error, doc, schema));
  std::vector<Violation> kept;
  for (const Violation& v : all) {
    bool shadowed = !v.wrong_type && std::any_of(all.begin(), all.end(), [&](const Violation& o) {
      return o.wrong_type && o.path == v.path;
    });
    bool repeated = std::any_of(kept.begin(), kept.end(), [&](const Violation& k) {
      return k.path == v.path && k.problem == v.problem;
    });
    if (!shadowed && !repeated) kept.push_back(v);
  }
  return kept;
}

// libstdc++ fills std::ctype<char>'s narrow() cache lazily, one byte at a time, from whichever
// thread asks first (GCC bug 77704). The bytes written are always the same, but it is a data
// race, and std::regex compiling valijson "pattern" constraints in concurrent Validate calls
// hits it. Filling the whole cache once, before any validation, leaves nothing to write.
void PrimeCtypeNarrowCache() {
  static std::once_flag once;
  std::call_once(once, [] {
    const auto& ctype = std::use_facet<std::ctype<char>>(std::locale());
    char in[256];
    char out[256];
    for (int i = 0; i < 256; ++i) in[i] = static_cast<char>(i);
    ctype.narrow(in, in + sizeof in, '\0', out);
  });
}

}  // namespace

SchemaValidator::SchemaValidator(std::shared_ptr<const Compiled> compiled)
    : compiled_(std::move(compiled)) {}

Result<SchemaValidator> SchemaValidator::Compile(const json::value& schema) {
  if (!schema.is_object()) {
    return InvalidArgument(std::string("a JSON Schema must be an object, not ") + KindName(schema));
  }
  PrimeCtypeNarrowCache();
  auto compiled = std::make_shared<Compiled>();
  compiled->document = schema;
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::BoostJsonAdapter adapter(compiled->document);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("invalid JSON Schema: ") + e.what());
  }
  return SchemaValidator(std::move(compiled));
}

const json::value& SchemaValidator::schema() const {
  return compiled_->document;
}

Status SchemaValidator::Validate(const json::value& doc) const {
  // A Validator per call: valijson's Validator caches compiled regexes in a plain map, so
  // sharing one between threads would race. The Schema itself is only read.
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter target(doc);
  bool valid;
  try {
    valid = validator.validate(compiled_->schema, target, &results);
  } catch (const std::exception& e) {
    // A "pattern" that std::regex rejects surfaces only here, at first use.
    return InvalidArgument(std::string("schema could not be applied: ") + e.what());
  }
  if (valid) return Status::Ok();

  std::vector<Violation> violations = Violations(results, doc, compiled_->document);
  std::string message;
  for (size_t i = 0; i < violations.size() && i < kMaxListedViolations; ++i) {
    if (i > 0) message += "; ";
    message += violations[i].ToString();
  }
  if (violations.size() > kMaxListedViolations) {
    message += " (and " + std::to_string(violations.size() - kMaxListedViolations) + " more)";
  }
  if (message.empty()) message = "does not match the schema";
  return InvalidArgument(message, violations.empty() ? "" : violations.front().path);
}

namespace {

std::string_view TrimSpace(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// What lies between the first ``` (and its language tag) and the next ```, or nullopt.
std::optional<std::string_view> FencedBlock(std::string_view text) {
  size_t open = text.find("```");
  if (open == std::string_view::npos) return std::nullopt;
  size_t start = open + 3;
  while (start < text.size() && std::isalnum(static_cast<unsigned char>(text[start]))) ++start;
  std::string_view rest = text.substr(start);
  return rest.substr(0, rest.find("```"));
}

}  // namespace

Result<json::value> ParseModelJson(std::string_view text) {
  std::string_view body = TrimSpace(text);
  if (body.empty()) return InvalidArgument("model answer holds no JSON (it is empty)");
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (!ec) return value;
  // Only when the text as a whole is not JSON: a valid answer may well contain ``` in a string.
  if (std::optional<std::string_view> block = FencedBlock(body)) {
    std::string_view inner = TrimSpace(*block);
    boost::system::error_code fenced_ec;
    value = json::parse(inner, fenced_ec);
    if (!fenced_ec) return value;
    if (inner.empty()) return InvalidArgument("model answer holds an empty ``` block");
    ec = fenced_ec;
    body = inner;
  }
  return InvalidArgument("model answer is not valid JSON (" + ec.message() + "): '" +
                         Shorten(body) + "'");
}

}  // namespace sluice
