#include "answer/schema_rules.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "answer/text.h"

namespace sluice::answer {

namespace json = boost::json;

std::optional<double> NumberAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

std::string_view StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

bool TypeListHas(const json::object& s, std::string_view type) {
  const json::value* t = s.if_contains("type");
  if (t == nullptr) return false;
  if (t->is_string()) return t->get_string() == type;
  if (t->is_array()) {
    for (const json::value& v : t->get_array()) {
      if (v.is_string() && v.get_string() == type) return true;
    }
  }
  return false;
}

// The type to produce: the first non-null one listed, else one implied by the keywords.
std::string_view PrimaryType(const json::object& s) {
  if (const json::value* t = s.if_contains("type")) {
    if (t->is_string()) return t->get_string();
    if (t->is_array()) {
      for (const json::value& v : t->get_array()) {
        if (v.is_string() && v.get_string() != "null") return v.get_string();
      }
      return "null";
    }
  }
  if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) {
    return "object";
  }
  if (s.contains("items") || s.contains("prefixItems")) return "array";
  if (s.contains("minimum") || s.contains("maximum")) return "number";
  return "string";
}

// A number inside the schema's bounds: minimum/maximum, exclusive bounds (draft 4 booleans
// and draft 6+ numbers), multipleOf; integers are whole.
double Constrain(double v, const json::object& s, bool integer) {
  std::optional<double> lo = NumberAt(s, "minimum");
  std::optional<double> hi = NumberAt(s, "maximum");
  bool lo_exclusive = false;
  bool hi_exclusive = false;
  if (const json::value* e = s.if_contains("exclusiveMinimum")) {
    if (e->is_bool()) {
      lo_exclusive = e->get_bool();
    } else if (auto n = NumberAt(s, "exclusiveMinimum")) {
      lo = n;
      lo_exclusive = true;
    }
  }
  if (const json::value* e = s.if_contains("exclusiveMaximum")) {
    if (e->is_bool()) {
      hi_exclusive = e->get_bool();
    } else if (auto n = NumberAt(s, "exclusiveMaximum")) {
      hi = n;
      hi_exclusive = true;
    }
  }
  const double step = integer ? 1.0 : 0.01;
  if (lo && (v < *lo || (lo_exclusive && v <= *lo))) v = lo_exclusive ? *lo + step : *lo;
  if (hi && (v > *hi || (hi_exclusive && v >= *hi))) v = hi_exclusive ? *hi - step : *hi;
  if (auto m = NumberAt(s, "multipleOf"); m && *m > 0) {
    v = std::round(v / *m) * *m;
    if (lo && v < *lo) v += *m;
    if (hi && v > *hi) v -= *m;
  }
  if (integer) {
    v = std::round(v);
    if (lo && v < *lo) v = std::ceil(*lo + (lo_exclusive ? 0.5 : 0));
    if (hi && v > *hi) v = std::floor(*hi - (hi_exclusive ? 0.5 : 0));
  }
  return v;
}

json::value NumberValue(double v, bool integer) {
  if (integer) return json::value(static_cast<std::int64_t>(std::llround(v)));
  return json::value(v);
}

// The first candidate that fits "pattern", then cut to maxLength and padded to minLength.
std::string FitString(const std::vector<std::string>& candidates, const json::object& s) {
  std::string chosen = candidates.empty() ? std::string() : candidates.front();
  std::string_view pattern = StringAt(s, "pattern");
  if (!pattern.empty()) {
    RE2 re(re2::StringPiece(pattern.data(), pattern.size()), RE2::Quiet);
    if (re.ok()) {
      for (const std::string& c : candidates) {
        if (RE2::PartialMatch(c, re)) {
          chosen = c;
          break;
        }
      }
    }
  }
  if (auto max = NumberAt(s, "maxLength"); max && *max >= 0) {
    chosen = TruncateCodePoints(chosen, static_cast<std::size_t>(*max));
  }
  if (auto min = NumberAt(s, "minLength")) {
    while (static_cast<double>(CodePointCount(chosen)) < *min) chosen += '-';
  }
  return chosen;
}

const json::value* ResolvePointer(const json::value& root, std::string_view ref) {
  if (ref.empty() || ref[0] != '#') return nullptr;
  ref.remove_prefix(1);
  const json::value* current = &root;
  while (!ref.empty()) {
    if (ref[0] != '/') return nullptr;
    ref.remove_prefix(1);
    std::size_t end = std::min(ref.find('/'), ref.size());
    std::string token;
    for (std::size_t i = 0; i < end; ++i) {
      if (ref[i] == '~' && i + 1 < end) {
        token += ref[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += ref[i];
      }
    }
    ref.remove_prefix(end);
    if (current->is_object()) {
      current = current->get_object().if_contains(token);
    } else if (current->is_array()) {
      std::size_t index = 0;
      for (char c : token) index = index * 10 + static_cast<std::size_t>(c - '0');
      const json::array& a = current->get_array();
      current = index < a.size() ? &a[index] : nullptr;
    } else {
      current = nullptr;
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

}  // namespace sluice::answer
