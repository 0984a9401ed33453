// The broker's Redis keys and Lua scripts. Internal to src/broker.
#pragma once

#include <string>
#include <string_view>

#include "redis/connection.h"

namespace smmhub::broker::internal {

// The prefix of every broker key; a tenant's keys continue with "{TENANT}:".
inline constexpr std::string_view kPrefix = "smmhub:bk:";

std::string ringKey();         // list of tenants with ready jobs, rotated by claims
std::string ringMembersKey();  // set of the tenants in the ring
std::string tokenKey();        // counter of fencing tokens
std::string wakeKey();         // list of wake tokens, one per job pushed, for idle workers
std::string activeKey();       // zset of leases by deadline: "TENANT JOB TOKEN"
std::string delayedKey();      // zset of retries by due time: "TENANT JOB LANE"
// LANE is "ready" or "high".
std::string laneKey(std::string_view tenant, std::string_view lane);
std::string knownKey(std::string_view tenant);
std::string leaseKey(std::string_view tenant, std::string_view job_id);

// Returns the lane of a job of PRIORITY: "high" or "ready".
std::string_view laneOf(std::string_view priority);

const redis::Script& pushScript();
const redis::Script& scheduleScript();
const redis::Script& claimScript();
const redis::Script& heartbeatScript();
const redis::Script& restoreLeaseScript();
const redis::Script& finishScript();
const redis::Script& promoteScript();
const redis::Script& takeExpiredScript();
const redis::Script& removeScript();
const redis::Script& raiseTokenScript();
const redis::Script& queueStatsScript();

}  // namespace smmhub::broker::internal
