#include "cli/json_table.h"
#include "json/json_text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <vector>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

std::string Cell(const json::value& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_double()) {
    char buf[64];
    double d = v.as_double();
    std::snprintf(buf, sizeof buf, d != 0 && (d < 0.01 && d > -0.01) ? "%.6f" : "%.2f", d);
    return buf;
  }
  return JsonText(v);
}

namespace {

// Columns in order of first appearance; a nested object's members become "<member>" columns
// (prefixed by its name when that would clash).
std::vector<std::pair<std::string, std::string>> Flatten(const json::object& row) {
  std::vector<std::pair<std::string, std::string>> cells;
  for (const auto& [key, value] : row) {
    if (value.is_object()) {
      for (const auto& [inner, v] : value.as_object()) {
        std::string name(inner);
        if (row.contains(inner)) name = std::string(key) + "." + name;
        cells.emplace_back(name, Cell(v));
      }
    } else {
      cells.emplace_back(std::string(key), Cell(value));
    }
  }
  return cells;
}

}  // namespace

void PrintTable(const std::string& title, const json::array& rows) {
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::string>> table;
  for (const auto& r : rows) {
    if (!r.is_object()) continue;
    std::map<std::string, std::string> line;
    for (auto& [name, cell] : Flatten(r.as_object())) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
      line[name] = cell;
    }
    table.push_back(std::move(line));
  }
  std::printf("%s\n", title.c_str());
  if (table.empty()) {
    std::printf("  (none)\n\n");
    return;
  }
  std::vector<std::size_t> width;
  for (const auto& c : columns) {
    std::size_t w = c.size();
    for (const auto& line : table) {
      auto it = line.find(c);
      if (it != line.end()) w = std::max(w, it->second.size());
    }
    width.push_back(w);
  }
  auto print_row = [&](auto cell_of) {
    std::string out = " ";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      std::string cell = cell_of(columns[i]);
      // Text to the left, numbers to the right.
      bool numeric = !cell.empty() && (std::isdigit(static_cast<unsigned char>(cell[0])) || cell[0] == '-');
      std::string pad(width[i] - std::min(width[i], cell.size()), ' ');
      out += " " + (numeric && i > 0 ? pad + cell : cell + pad);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  print_row([](const std::string& c) { return c; });
  for (const auto& line : table) {
    print_row([&](const std::string& c) {
      auto it = line.find(c);
      return it == line.end() ? std::string("-") : it->second;
    });
  }
  std::printf("\n");
}


}  // namespace sluice
