#include "auth/authenticator.h"

#include "auth/key_secret.h"

namespace sluice::auth {

namespace {

Status BadKey(std::string why) {
  return Unauthenticated(std::move(why) + ": send Authorization: Bearer <API key>");
}

}  // namespace

Authenticator::Authenticator(Store& store, const Clock& clock, Options options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      admin_hash_(options_.admin_key.empty() ? std::string() : KeyHash(options_.admin_key)) {}

bool Authenticator::required() const {
  if (!admin_hash_.empty()) return true;
  MutexLock lock(mu_);
  return keys_exist_;
}

Status Authenticator::refresh_required() {
  {
    MutexLock lock(mu_);
    if (keys_exist_) return Status::Ok();
  }
  ASSIGN_OR_RETURN(bool any, store_.any_api_key());
  if (any) {
    MutexLock lock(mu_);
    keys_exist_ = true;
    cache_.clear();  // the unauthenticated entry must not outlive the mode
  }
  return Status::Ok();
}

std::optional<std::string> Authenticator::CacheKey(std::string_view authorization) const {
  if (!required()) return std::string();
  std::string_view token = BearerToken(authorization);
  if (token.empty()) return std::nullopt;
  return KeyHash(token);
}

std::optional<Result<Caller>> Authenticator::cached(std::string_view authorization) const {
  std::optional<std::string> key = CacheKey(authorization);
  if (!key) return Result<Caller>(BadKey("no API key"));
  if (!admin_hash_.empty() && SameSecret(*key, admin_hash_)) {
    Caller admin;
    admin.admin = true;
    return Result<Caller>(std::move(admin));
  }
  const Millis now = clock_.now();
  MutexLock lock(mu_);
  auto it = cache_.find(*key);
  if (it == cache_.end() || now - it->second.fetched_at >= options_.cache_ttl) return std::nullopt;
  return it->second.caller;
}

Result<Caller> Authenticator::lookup(std::string_view authorization) {
  if (auto known = cached(authorization)) return *known;
  std::optional<std::string> key = CacheKey(authorization);
  if (!key) return BadKey("no API key");
  Result<Caller> caller = Resolve(*key);
  // A store outage is not an answer about the key: ask again next time.
  if (!caller.ok() && caller.status().code() == StatusCode::kUnavailable) return caller;
  MutexLock lock(mu_);
  if (cache_.size() >= options_.max_cached) cache_.clear();
  cache_.insert_or_assign(*key, Entry{caller, clock_.now()});
  return caller;
}

Result<Caller> Authenticator::Resolve(const std::string& cache_key) {
  if (cache_key.empty()) return WithTenant(Caller{});  // unauthenticated: the default tenant
  auto key = store_.find_api_key(cache_key);
  if (!key.ok()) {
    if (key.status().code() == StatusCode::kNotFound) return BadKey("unknown API key");
    return key.status();
  }
  if (key->revoked_at) return BadKey("this API key was revoked");
  Caller caller;
  caller.tenant = key->tenant;
  caller.key_id = key->id;
  return WithTenant(std::move(caller));
}

Result<Caller> Authenticator::WithTenant(Caller caller) {
  const Millis now = clock_.now();
  caller.looked_up_at = now;
  auto tenant = store_.get_tenant(caller.tenant);
  if (tenant.ok()) {
    caller.limits = std::move(tenant).value();
  } else if (tenant.status().code() == StatusCode::kNotFound) {
    caller.limits = Tenant{.id = caller.tenant};
  } else {
    return tenant.status();
  }
  if (caller.limits.max_queued > 0 || caller.limits.monthly_budget_usd > 0) {
    ASSIGN_OR_RETURN(TenantUsage usage, store_.tenant_usage(caller.tenant, MonthOf(now), now));
    caller.usage = std::move(usage);
  }
  return caller;
}

void Authenticator::forget() {
  MutexLock lock(mu_);
  cache_.clear();
}

}  // namespace sluice::auth
