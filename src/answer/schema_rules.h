// Reading a JSON Schema: the type to produce, numeric bounds, string constraints and local
// "$ref" pointers. Helpers of the schema filler; they never fail, they pick the closest fit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace sluice::answer {

// A number-valued keyword ("minimum"), or nullopt.
std::optional<double> NumberAt(const boost::json::object& schema, std::string_view key);
// A string-valued keyword ("format"), or "".
std::string_view StringAt(const boost::json::object& schema, std::string_view key);
// True when "type" is `type` or a list holding it.
bool TypeListHas(const boost::json::object& schema, std::string_view type);
// The type to produce: the first non-null one listed, else one implied by the keywords
// (properties -> object, items -> array, minimum -> number), else "string".
std::string_view PrimaryType(const boost::json::object& schema);

// `v` moved inside minimum/maximum (inclusive, and exclusive in both the draft-4 boolean and
// the draft-6 number form) and onto multipleOf; whole for integers.
double Constrain(double v, const boost::json::object& schema, bool integer);
boost::json::value NumberValue(double v, bool integer);

// The first candidate that fits "pattern" (else the first), cut to maxLength and padded
// with '-' to minLength.
std::string FitString(const std::vector<std::string>& candidates, const boost::json::object& schema);

// The value a local reference ("#/$defs/x", "#/definitions/x", "#") points at, or nullptr.
const boost::json::value* ResolvePointer(const boost::json::value& root, std::string_view ref);

}  // namespace sluice::answer
