#include "cli/audit_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "config/config.h"
#include "core/time.h"
#include "store/audit_chain.h"
#include "store/store.h"

namespace sluice {

namespace {

constexpr int kPage = 1000;

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "sluice audit: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 2;
}

Result<std::unique_ptr<Store>> OpenStore(const AuditFlags& flags) {
  ASSIGN_OR_RETURN(Config config, flags.config_path.empty()
                                      ? Config::Parse("", std::filesystem::current_path())
                                      : Config::Load(flags.config_path));
  if (!flags.data_dir.empty()) config.server.data_dir = flags.data_dir;
  if (!flags.store.empty()) config.server.store = flags.store;
  if (config.server.store.empty() &&
      !std::filesystem::exists(std::filesystem::path(config.server.data_dir) / "sluice.db")) {
    return NotFound("no store in " + config.server.data_dir);
  }
  // Reading only: nothing this process does appends an entry.
  return Store::Open({.data_dir = config.server.data_dir,
                      .url = config.server.store,
                      .durable = config.server.durable,
                      .audit = false});
}

// YYYY-MM-DD (midnight UTC) or RFC 3339.
Result<Millis> ParseWhen(const std::string& text, const char* flag) {
  std::string full = text;
  if (full.size() == 10) full += "T00:00:00Z";
  Result<Millis> at = ParseRfc3339(full);
  if (!at.ok()) return InvalidArgument(std::string(flag) + " must be YYYY-MM-DD or RFC 3339", flag);
  return at;
}

int Broken(const Status& status) {
  std::fprintf(stderr, "sluice audit verify: %s\n", status.message().c_str());
  return 1;
}

int VerifyStore(const AuditFlags& flags) {
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail("store", store.status());
  auto anchor = (*store)->audit_anchor();
  if (!anchor.ok()) return Fail("store", anchor.status());
  AuditChainCheck check(*anchor);
  AuditFilter page{.after = anchor->seq, .limit = kPage};
  for (;;) {
    auto records = (*store)->audit_records(page);
    if (!records.ok()) return Fail("store", records.status());
    for (const AuditRecord& r : *records) {
      if (Status s = check.next_stored(r); !s.ok()) return Broken(s);
    }
    if (static_cast<int>(records->size()) < kPage) break;
    page.after = records->back().seq;
  }
  // Rows before the anchor would be records retention should have deleted or someone inserted.
  auto before = (*store)->audit_records({.after = 0, .limit = 1});
  if (before.ok() && !before->empty() && before->front().seq <= anchor->seq) {
    return Broken(FailedPrecondition("audit record " + std::to_string(before->front().seq) +
                                     ": lies before the anchor (seq " +
                                     std::to_string(anchor->seq) + ")"));
  }
  auto pending = (*store)->audit_pending();
  std::printf("audit chain ok: %lld records", static_cast<long long>(check.checked()));
  if (check.checked() > 0) {
    std::printf(" (seq %lld to %lld)", static_cast<long long>(check.first_seq()),
                static_cast<long long>(check.last_seq()));
  }
  if (anchor->seq > 0)
    std::printf(", after the anchor at seq %lld", static_cast<long long>(anchor->seq));
  std::printf("; head %s", check.last_hash().c_str());
  if (pending.ok() && *pending > 0) {
    std::printf("; %lld entries not sealed yet", static_cast<long long>(*pending));
  }
  std::printf("\n");
  return 0;
}

int VerifyFile(const AuditFlags& flags) {
  std::ifstream in(flags.file, std::ios::binary);
  if (!in) return Fail(flags.file, NotFound("cannot read " + flags.file));
  AuditChainCheck check;
  std::string line;
  std::int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto split = SplitAuditLine(line);
    if (!split.ok()) {
      return Broken(
          FailedPrecondition("line " + std::to_string(n) + ": " + split.status().message()));
    }
    if (Status s = check.next(split->first, split->second); !s.ok()) return Broken(s);
  }
  std::printf("audit chain ok: %lld records", static_cast<long long>(check.checked()));
  if (check.checked() > 0) {
    std::printf(" (seq %lld to %lld)", static_cast<long long>(check.first_seq()),
                static_cast<long long>(check.last_seq()));
  }
  std::printf("; head %s\n", check.last_hash().c_str());
  return 0;
}

int Export(const AuditFlags& flags) {
  Millis since = 0, until = 0;
  if (!flags.since.empty()) {
    auto at = ParseWhen(flags.since, "--since");
    if (!at.ok()) return Fail("flags", at.status());
    since = *at;
  }
  if (!flags.until.empty()) {
    auto at = ParseWhen(flags.until, "--until");
    if (!at.ok()) return Fail("flags", at.status());
    until = *at;
  }
  auto store = OpenStore(flags);
  if (!store.ok()) return Fail("store", store.status());
  std::ofstream file;
  if (!flags.output.empty()) {
    file.open(flags.output, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(flags.output, Unavailable("cannot write " + flags.output));
  }
  std::ostream& out = flags.output.empty() ? std::cout : file;
  // The span is contiguous in the chain, so that the file verifies on its own: from the first
  // record (in chain order) made at or after --since, up to the first one after it made at or
  // after --until. Records are sealed in about the order they were made, but not exactly.
  AuditFilter page{.after = 0, .limit = kPage};
  std::int64_t written = 0;
  bool started = false;
  for (bool done = false; !done;) {
    auto records = (*store)->audit_records(page);
    if (!records.ok()) return Fail("store", records.status());
    for (const AuditRecord& r : *records) {
      if (!started && r.at < since) continue;
      started = true;
      if (until > 0 && r.at >= until) {
        done = true;
        break;
      }
      out << AuditLine(r) << '\n';
      ++written;
    }
    if (static_cast<int>(records->size()) < kPage) break;
    page.after = records->back().seq;
  }
  out.flush();
  if (!out) return Fail("output", Unavailable("writing the export failed"));
  std::fprintf(stderr, "sluice audit export: %lld records\n", static_cast<long long>(written));
  return 0;
}

void AddStoreOptions(CLI::App& cmd, AuditFlags& flags) {
  cmd.add_option("--config", flags.config_path,
                 "TOML config file (its [server] store or data_dir)");
  cmd.add_option("--data-dir", flags.data_dir, "embedded store directory (overrides the config)");
  cmd.add_option("--store", flags.store, "shared store URL, postgres://... (overrides the config)");
}

}  // namespace

void AddAuditCommands(CLI::App& app, AuditFlags& flags) {
  CLI::App* audit = app.add_subcommand("audit", "Verify or export the tamper-evident audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Walk the hash chain of a store or an exported file: exit 0 when whole, 1 naming "
      "the first bad record");
  AddStoreOptions(*verify, flags);
  verify->add_option("--file", flags.file, "an audit.jsonl written by `sluice audit export`");
  verify->callback([&flags] { flags.verify = true; });
  CLI::App* exp = audit->add_subcommand(
      "export", "Write the records of a time span as JSON lines (each with its hash)");
  AddStoreOptions(*exp, flags);
  exp->add_option("--since", flags.since,
                  "from the first record made at or after (YYYY-MM-DD or RFC 3339)");
  exp->add_option("--until", flags.until,
                  "up to the first record made at or after (YYYY-MM-DD or RFC 3339)");
  exp->add_option("-o,--output", flags.output, "the file to write (default: stdout)");
  exp->callback([&flags] { flags.export_ = true; });
}

int RunAuditCommand(const AuditFlags& flags) {
  if (flags.verify) return flags.file.empty() ? VerifyStore(flags) : VerifyFile(flags);
  if (flags.export_) return Export(flags);
  return -1;
}

}  // namespace sluice
