#include "store/audit_chain.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

AuditEntry CallEntry(std::string tenant = "acme") {
  Result<AuditEntry> e = MakeAuditEntry(1'764'979'200'123,  // 2025-12-06T00:00:00.123Z
                                        std::move(tenant), "system", "model_call", "job_1",
                                        R"({"provider":"local","usage":{"prompt_tokens":12,
                                            "completion_tokens":3},"cost_usd":0.0015})");
  EXPECT_TRUE(e.ok()) << e.status().message();
  return *e;
}

std::vector<AuditRecord> Chain(int n, AuditAnchor anchor = {}) {
  std::vector<AuditRecord> records;
  std::string prev = anchor.hash;
  for (int i = 1; i <= n; ++i) {
    Result<AuditRecord> r = SealAuditEntry(CallEntry(), anchor.seq + i, prev);
    EXPECT_TRUE(r.ok()) << r.status().message();
    prev = r->hash;
    records.push_back(*r);
  }
  return records;
}

TEST(CanonicalJsonTest, SortsMembersDropsWhitespaceAndWritesFractionsInFixedPoint) {
  EXPECT_EQ(*CanonicalJson(R"({"b": [1, {"z": null, "a": true}], "a": "x\ny", "c": 1.5E-3})"),
            R"({"a":"x\ny","b":[1,{"a":true,"z":null}],"c":0.0015})");
  EXPECT_EQ(*CanonicalJson("12.5"), "12.5");
  EXPECT_EQ(*CanonicalJson("0.000000001"), "0.000000001");
  EXPECT_EQ(*CanonicalJson("3.0"), "3");
  EXPECT_EQ(*CanonicalJson(R"("Сәлем")"), R"("Сәлем")");
  EXPECT_FALSE(CanonicalJson("{").ok());
  EXPECT_FALSE(CanonicalJson("1e300").ok());
  EXPECT_EQ(*CanonicalJson("-0.0"), "0");
  EXPECT_EQ(*CanonicalJson("-2.25"), "-2.25");
  EXPECT_EQ(*CanonicalJson("999999.999999999"), "999999.999999999");
  EXPECT_EQ(*CanonicalJson("1000000.5"), "1000000.5");
  // A fuzz finding: at most 15 significant digits, so canonical text reads back to itself.
  EXPECT_EQ(*CanonicalJson("98884444.444444424444242"), "98884444.4444444");
  for (const char* x : {"0.1", "123456.000000001", "0.000000001", "0.3333333333333333",
                        "98884444.444444424444242", "5000000.25", "123456789012345.6"}) {
    const std::string once = *CanonicalJson(x);
    EXPECT_EQ(*CanonicalJson(once), once) << x;
  }
}

TEST(SealAuditEntryTest, MakesTheCanonicalRecordAndHashesItAfterPrevHash) {
  Result<AuditRecord> r = SealAuditEntry(CallEntry(), 7, kAuditGenesis);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(
      r->record_json,
      std::string(R"({"action":"model_call","actor":"system","at":"2025-12-06T00:00:00.123Z",)") +
          R"("cost_usd":0.0015,"job_id":"job_1","prev_hash":")" + kAuditGenesis +
          R"(","provider":"local","seq":7,"tenant":"acme",)" +
          R"("usage":{"completion_tokens":3,"prompt_tokens":12}})");
  EXPECT_EQ(r->hash, AuditHash(kAuditGenesis, r->record_json));
  EXPECT_EQ(r->hash.size(), 64u);
  EXPECT_EQ(r->seq, 7);
  EXPECT_EQ(r->tenant, "acme");
}

TEST(MakeAuditEntryTest, RefusesADetailThatIsNoObjectOrNamesARecordMember) {
  EXPECT_FALSE(MakeAuditEntry(1, "acme", "system", "model_call", "", "[1]").ok());
  EXPECT_FALSE(MakeAuditEntry(1, "acme", "system", "model_call", "", R"({"seq": 5})").ok());
  EXPECT_FALSE(MakeAuditEntry(1, "acme", "system", "model_call", "", R"({"hash": "x"})").ok());
  EXPECT_FALSE(MakeAuditEntry(1, "acme", "system", "model_call", "", "{").ok());
}

TEST(MakeAuditEntryTest, SealingSplicesIntoTheSortedPlaceWhateverTheDetailHolds) {
  // Members sorting before, between and after the two the sealer adds.
  for (const char* detail : {"{}", R"({"zz":1})", R"({"pz":1,"r":2})", R"({"a":[1,{"seq":2}]})"}) {
    Result<AuditEntry> e = MakeAuditEntry(5, "t", "admin", "tenant.create", "", detail);
    ASSERT_TRUE(e.ok()) << detail;
    Result<AuditRecord> r = SealAuditEntry(*e, 12, kAuditGenesis);
    ASSERT_TRUE(r.ok()) << detail;
    EXPECT_EQ(*CanonicalJson(r->record_json), r->record_json) << detail;
    AuditChainCheck check(AuditAnchor{.seq = 11});
    EXPECT_TRUE(check.next(r->record_json, r->hash).ok()) << detail << " " << r->record_json;
  }
}

TEST(SealAuditEntryTest, RefusesOffsetsThatDoNotFitTheRecord) {
  AuditEntry e = CallEntry();
  e.seq_at = static_cast<std::int64_t>(e.record_json.size()) + 3;
  EXPECT_FALSE(SealAuditEntry(e, 1, kAuditGenesis).ok());
  e = CallEntry();
  e.prev_hash_at = e.seq_at + 1;
  EXPECT_FALSE(SealAuditEntry(e, 1, kAuditGenesis).ok());
}

TEST(AuditLineTest, AppendsTheHashAsTheLastMemberAndSplitsBackByteForByte) {
  const AuditRecord r = Chain(1)[0];
  const std::string line = AuditLine(r);
  EXPECT_TRUE(line.ends_with(",\"hash\":\"" + r.hash + "\"}"));
  Result<std::pair<std::string, std::string>> split = SplitAuditLine(line + "\n");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->first, r.record_json);
  EXPECT_EQ(split->second, r.hash);
  EXPECT_FALSE(SplitAuditLine(r.record_json).ok());
  EXPECT_FALSE(SplitAuditLine("").ok());
}

TEST(AuditChainCheckTest, AcceptsAWholeChainFromItsAnchor) {
  const AuditAnchor anchor{.seq = 40, .hash = std::string(64, 'a')};
  AuditChainCheck check(anchor);
  for (const AuditRecord& r : Chain(5, anchor)) ASSERT_TRUE(check.next_stored(r).ok());
  EXPECT_EQ(check.checked(), 5);
  EXPECT_EQ(check.first_seq(), 41);
  EXPECT_EQ(check.last_seq(), 45);
}

TEST(AuditChainCheckTest, WithoutAnAnchorStartsAtTheFirstRecordsLink) {
  std::vector<AuditRecord> records = Chain(5);
  AuditChainCheck check;
  for (std::size_t i = 2; i < records.size(); ++i) {
    ASSERT_TRUE(check.next(records[i].record_json, records[i].hash).ok());
  }
  EXPECT_EQ(check.first_seq(), 3);
}

TEST(AuditChainCheckTest, NamesTheFirstRecordWhoseContentWasChanged) {
  std::vector<AuditRecord> records = Chain(5);
  const std::size_t pos = records[2].record_json.find("0.0015");
  records[2].record_json.replace(pos, 6, "0.0001");
  AuditChainCheck check;
  EXPECT_TRUE(check.next(records[0].record_json, records[0].hash).ok());
  EXPECT_TRUE(check.next(records[1].record_json, records[1].hash).ok());
  Status bad = check.next(records[2].record_json, records[2].hash);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("audit record 3: its hash"), std::string::npos) << bad.message();
  // The failure stays: later records are not checked past it.
  EXPECT_FALSE(check.next(records[3].record_json, records[3].hash).ok());
}

TEST(AuditChainCheckTest, ARecordRehashedAfterAChangeBreaksTheNextLink) {
  std::vector<AuditRecord> records = Chain(3);
  Result<AuditRecord> forged = SealAuditEntry(CallEntry("other"), 2, records[0].hash);
  records[1] = *forged;
  AuditChainCheck check;
  EXPECT_TRUE(check.next_stored(records[0]).ok());
  EXPECT_TRUE(check.next_stored(records[1]).ok());
  Status bad = check.next_stored(records[2]);
  EXPECT_NE(bad.message().find("audit record 3: prev_hash"), std::string::npos) << bad.message();
}

TEST(AuditChainCheckTest, FindsGapsRepeatsNonCanonicalTextAndColumnsThatDiffer) {
  std::vector<AuditRecord> records = Chain(4);
  {
    AuditChainCheck check;
    EXPECT_TRUE(check.next_stored(records[0]).ok());
    EXPECT_NE(check.next_stored(records[2]).message().find("a gap"), std::string::npos);
  }
  {
    AuditChainCheck check;
    EXPECT_TRUE(check.next_stored(records[0]).ok());
    EXPECT_FALSE(check.next_stored(records[0]).ok());
  }
  {
    AuditRecord spaced = records[0];
    spaced.record_json.insert(1, " ");
    spaced.hash = AuditHash(kAuditGenesis, spaced.record_json);
    AuditChainCheck check;
    EXPECT_NE(check.next_stored(spaced).message().find("canonical"), std::string::npos);
  }
  {
    AuditRecord moved = records[0];
    moved.tenant = "other";  // the column a tenant's reads filter by
    AuditChainCheck check;
    EXPECT_NE(check.next_stored(moved).message().find("columns"), std::string::npos);
  }
  {
    AuditChainCheck check(AuditAnchor{});
    AuditRecord first = records[1];
    EXPECT_FALSE(check.next_stored(first).ok());  // the chain starts at 1 after the genesis
  }
}

}  // namespace
}  // namespace sluice
