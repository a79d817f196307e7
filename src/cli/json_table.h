// JSON answers as tables for people: `sluice stats`, `sluice tenants list`, `sluice keys list`.
// Generic on purpose: the columns are the members of the rows, and a nested object in a row (a
// queue's "jobs" by status) spreads into columns of its own, so a server that reports more
// shows more with no change to the client.
#pragma once

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace sluice {

// One cell: "-" for null, strings as they are, small numbers with enough digits.
std::string Cell(const boost::json::value& v);
// "title", then the rows as an aligned table ("(none)" when empty), on stdout.
void PrintTable(const std::string& title, const boost::json::array& rows);

}  // namespace sluice
