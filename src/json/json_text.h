// JSON as Sluice writes it to people and programs: compact, keys in their order, and numbers as
// people and JSON parsers expect them. Boost.JSON 1.81 writes doubles in exponent form
// (0.93 -> "9.3E-1", 0 -> "0E0", 0.0000777 -> "7.77E-5"), which reads badly in an answer, a cost
// or an error message; JsonText writes every double in its shortest round-trip decimal form
// ("0.93", "0", "0.0000777"), in exponent form only outside [1e-7, 1e21), and NaN or infinity,
// which JSON cannot say, as null.
//
// Used for everything a client reads (API answers, stored results, events, webhooks, batch
// output, the CLI). Not for what is hashed (tasks/fingerprint.cc keeps Boost's form, so a
// version's fingerprint never changes with the writer).
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

namespace sluice {

std::string JsonText(const boost::json::value& value);
std::string JsonText(const boost::json::object& object);
std::string JsonText(const boost::json::array& array);
// Appends to `out` (no allocation of its own when `out` has room).
void AppendJsonText(std::string& out, const boost::json::value& value);
// A double as JsonText writes it, for messages people read: "0.55", "0.0000777", "50".
std::string NumberText(double value);

}  // namespace sluice
