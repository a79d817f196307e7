#include "blobs/file_blob_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/job.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const std::string kHelloId =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

class FileBlobStoreTest : public ::testing::Test {
 protected:
  static fs::path TestDir() {
    return fs::temp_directory_path() /
           ("sluice-blobs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + std::to_string(getpid()));
  }
  void SetUp() override {
    fs::remove_all(dir_);
    ASSERT_TRUE(blobs_.Init().ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The file of a blob, as the layout of file_blob_store.h puts it.
  fs::path FileOf(const std::string& tenant, const std::string& id) const {
    const std::string hex = id.substr(7);
    const fs::path root = tenant == kDefaultTenant ? dir_ : dir_ / "tenants" / tenant;
    return root / hex.substr(0, 2) / hex;
  }
  // Makes the blob's age (its mtime) `age` old.
  void Age(const std::string& tenant, const std::string& id, std::chrono::hours age) {
    fs::last_write_time(FileOf(tenant, id), fs::file_time_type::clock::now() - age);
  }
  static Millis Now() { return SystemClock::Instance().now(); }

  const fs::path dir_ = TestDir();
  FileBlobStore blobs_{TestDir().string()};
};

TEST_F(FileBlobStoreTest, ContentAddressedAndIdempotent) {
  auto first = blobs_.put(kDefaultTenant, "hello");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->id, kHelloId);
  EXPECT_EQ(first->bytes, 5);
  EXPECT_TRUE(first->created);
  auto again = blobs_.put(kDefaultTenant, "hello");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(*blobs_.get(kDefaultTenant, first->id), "hello");
  EXPECT_TRUE(*blobs_.exists(kDefaultTenant, first->id));
}

TEST_F(FileBlobStoreTest, RejectsBadIdsAndUnknownBlobs) {
  EXPECT_EQ(blobs_.get(kDefaultTenant, "sha256:../../etc/passwd").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs_.get(kDefaultTenant, "sha256:" + std::string(64, 'a')).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(BlobStore::IsValidId("sha256:ABC"));
}

// The layout from before tenants: a data dir written then still serves its blobs to "default".
TEST_F(FileBlobStoreTest, TheDefaultTenantKeepsTheLayoutOfExistingDataDirs) {
  fs::create_directories(FileOf(kDefaultTenant, kHelloId).parent_path());
  std::ofstream(FileOf(kDefaultTenant, kHelloId), std::ios::binary) << "hello";
  EXPECT_EQ(*blobs_.get(kDefaultTenant, kHelloId), "hello");
  EXPECT_FALSE(blobs_.put(kDefaultTenant, "hello")->created);
  EXPECT_FALSE(*blobs_.exists("acme", kHelloId));
}

TEST_F(FileBlobStoreTest, TheSameBytesOfTwoTenantsAreTwoBlobs) {
  auto a = blobs_.put("acme", "same bytes");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Tenant b never put it: a's id is unknown to b, exactly as any unknown id.
  EXPECT_EQ(blobs_.get("globex", a->id).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*blobs_.exists("globex", a->id));
  EXPECT_FALSE(*blobs_.renew("globex", a->id));
  EXPECT_FALSE(*blobs_.exists(kDefaultTenant, a->id));

  auto b = blobs_.put("globex", "same bytes");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->id, a->id);
  EXPECT_TRUE(b->created);  // a blob of its own, not a's
  EXPECT_EQ(*blobs_.get("acme", a->id), "same bytes");
  EXPECT_EQ(*blobs_.get("globex", b->id), "same bytes");
  EXPECT_TRUE(fs::exists(FileOf("acme", a->id)));
  EXPECT_TRUE(fs::exists(FileOf("globex", b->id)));

  // Removing one tenant's blob leaves the other's.
  EXPECT_TRUE(*blobs_.remove("acme", a->id, Now() + 60'000));
  EXPECT_EQ(blobs_.get("acme", a->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*blobs_.get("globex", b->id), "same bytes");
}

TEST_F(FileBlobStoreTest, TenantIdsThatAreNoDirectoryNameFindNothing) {
  ASSERT_TRUE(blobs_.put("acme", "secret").ok());
  const std::string id = BlobStore::IdOf("secret");
  for (std::string tenant : std::vector<std::string>{"", "..", "../tenants/acme", "acme/..", "Acme",
                                                     "-acme", "a/b", std::string(65, 'a')}) {
    EXPECT_EQ(blobs_.put(tenant, "x").status().code(), StatusCode::kInvalidArgument) << tenant;
    EXPECT_EQ(blobs_.get(tenant, id).status().code(), StatusCode::kNotFound) << tenant;
    EXPECT_FALSE(*blobs_.exists(tenant, id)) << tenant;
  }
  EXPECT_TRUE(*blobs_.exists("acme", id));
}

TEST_F(FileBlobStoreTest, ListsOldBlobsInKeyOrderByPage) {
  std::vector<BlobKey> old;
  for (std::string tenant : {"zeta", "default", "acme"}) {
    for (std::string content : {"one", "two", "three"}) {
      auto info = blobs_.put(tenant, content + tenant);
      ASSERT_TRUE(info.ok());
      Age(tenant, info->id, std::chrono::hours(48));
      old.push_back({tenant, info->id});
    }
  }
  ASSERT_TRUE(blobs_.put("acme", "fresh").ok());  // not old: never listed
  std::sort(old.begin(), old.end());

  std::vector<BlobKey> listed;
  BlobKey after;
  for (int page = 0; page < 10; ++page) {
    auto keys = blobs_.list_older(Now() - 3'600'000, after, 2);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    EXPECT_LE(keys->size(), 2u);
    if (keys->empty()) break;
    listed.insert(listed.end(), keys->begin(), keys->end());
    after = keys->back();
  }
  EXPECT_EQ(listed, old);
}

TEST_F(FileBlobStoreTest, RemoveTakesOnlyABlobStillOlderThanTheCut) {
  auto info = blobs_.put("acme", "aging");
  ASSERT_TRUE(info.ok());
  Age("acme", info->id, std::chrono::hours(48));
  const Millis cut = Now() - 3'600'000;
  // A submit renewed it after the listing: remove keeps it.
  ASSERT_TRUE(*blobs_.renew("acme", info->id));
  EXPECT_FALSE(*blobs_.remove("acme", info->id, cut));
  EXPECT_EQ(*blobs_.get("acme", info->id), "aging");
  EXPECT_FALSE(fs::exists(FileOf("acme", info->id).string() + ".gc"));
  // A put of the same bytes renews it as well.
  Age("acme", info->id, std::chrono::hours(48));
  EXPECT_FALSE(blobs_.put("acme", "aging")->created);
  EXPECT_FALSE(*blobs_.remove("acme", info->id, cut));

  Age("acme", info->id, std::chrono::hours(48));
  EXPECT_TRUE(*blobs_.remove("acme", info->id, cut));
  EXPECT_FALSE(*blobs_.exists("acme", info->id));
  EXPECT_FALSE(*blobs_.renew("acme", info->id));
  EXPECT_FALSE(*blobs_.remove("acme", info->id, cut));  // gone already
}

// A crash inside remove() leaves the blob set aside: still readable, and the next listing puts
// it back and judges it like any other.
TEST_F(FileBlobStoreTest, ABlobSetAsideByACrashedRemoveComesBack) {
  auto info = blobs_.put("acme", "interrupted");
  ASSERT_TRUE(info.ok());
  Age("acme", info->id, std::chrono::hours(48));
  const fs::path file = FileOf("acme", info->id);
  fs::rename(file, file.string() + ".gc");
  EXPECT_EQ(*blobs_.get("acme", info->id), "interrupted");

  auto keys = blobs_.list_older(Now() - 3'600'000, BlobKey{}, 10);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<BlobKey>{{"acme", info->id}}));
  EXPECT_TRUE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file.string() + ".gc"));
  EXPECT_TRUE(*blobs_.exists("acme", info->id));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A power cut cannot be simulated here; what can be checked is that each new directory entry
// is followed by a sync of the directory that holds it (through the DirSync seam, which
// counts and then does the real fsync).
TEST(FileBlobStoreSyncTest, APutSyncsTheBlobsDirectoryAndEachNewDirectorysParent) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("sluice-blobs-sync-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::vector<std::string> synced;
  FileBlobStore blobs(dir.string(), [&](const std::string& d) {
    synced.push_back(d);
    return FileBlobStore::SyncDirectory(d);
  });
  ASSERT_TRUE(blobs.Init().ok());
  synced.clear();

  auto first = blobs.put("acme", "hello");  // makes tenants/, tenants/acme/, tenants/acme/2c/
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string tenants = (dir / "tenants").string();
  const std::string acme = (dir / "tenants" / "acme").string();
  const std::string prefix = (dir / "tenants" / "acme" / "2c").string();
  EXPECT_EQ(synced, (std::vector<std::string>{dir.string(), tenants, acme, prefix}));

  synced.clear();
  ASSERT_TRUE(blobs.put("acme", "hello").ok());  // stored already: nothing new to sync
  EXPECT_TRUE(synced.empty());

  synced.clear();
  ASSERT_TRUE(blobs.put("acme", "hellp").ok());  // another prefix dir of the same tenant
  ASSERT_FALSE(synced.empty());  // its prefix dir (and acme/, when that prefix is new)
  EXPECT_LE(synced.size(), 2u);

  std::filesystem::remove_all(dir);
}

TEST(FileBlobStoreSyncTest, AFailedDirectorySyncFailsThePutAndLeavesNoBlob) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("sluice-blobs-nosync-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  bool fail = false;
  FileBlobStore blobs(dir.string(), [&](const std::string& d) {
    return fail ? Unavailable("sync refused") : FileBlobStore::SyncDirectory(d);
  });
  ASSERT_TRUE(blobs.Init().ok());
  ASSERT_TRUE(blobs.put(kDefaultTenant, "warm up the prefix dir").ok());
  fail = true;
  auto put = blobs.put(kDefaultTenant, "hello");
  EXPECT_EQ(put.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(*blobs.exists(kDefaultTenant, kHelloId));
  fail = false;
  ASSERT_TRUE(blobs.put(kDefaultTenant, "hello").ok());
  EXPECT_TRUE(*blobs.exists(kDefaultTenant, kHelloId));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
