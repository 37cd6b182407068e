-- POST /engagements as a reviews platform does: a review (review_posted) by a random member, each with
-- a new ref, so that it moves the member's review count, badges, the discovery challenge and streak.
-- Arguments after --: window_s token first_member_id member_count ref_prefix
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local headers, first_member, member_count, prefix
local counter = 0

function init(args)
  common.start(tonumber(args[1]))
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  first_member, member_count = tonumber(args[3]), tonumber(args[4])
  prefix = args[5]
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"member_id": %d, "action": "review_posted", "ref": "%s-%d-%d", "occurred_at": "%s"}',
    first_member + math.random(0, member_count - 1), prefix, thread_no, counter, os.date("!%Y-%m-%dT%H:%M:%SZ")
  )
  return wrk.format("POST", "/api/v1/engagements", common.stamp(headers), body)
end
