-- GET /members/{id}[suffix] as a service: a random member each time; suffix "/status" reads the
-- status document instead of the profile.
-- Arguments after --: window_s token first_member_id member_count [suffix]
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local headers, first_member, member_count, suffix

function init(args)
  common.start(tonumber(args[1]))
  headers = { ["Authorization"] = "Bearer " .. args[2] }
  first_member, member_count = tonumber(args[3]), tonumber(args[4])
  suffix = args[5] or ""
end

function request()
  local member_id = first_member + math.random(0, member_count - 1)
  return wrk.format("GET", "/api/v1/members/" .. member_id .. suffix, common.stamp(headers))
end
