-- POST /purchases as tills do: a unique receipt number, a random member, 1 to 3 lines of 1 or 2
-- items at 0.50 to 30.00 (a basket of about 45.00 on average).
-- Arguments after --: window_s token first_member_id member_count store_code receipt_prefix
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local CATEGORIES = { "beauty", "grocery", "home", "fashion" }
local headers, first_member, member_count, store, prefix
local counter = 0

function init(args)
  common.start(tonumber(args[1]))
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  first_member, member_count = tonumber(args[3]), tonumber(args[4])
  store, prefix = args[5], args[6]
end

function request()
  counter = counter + 1
  local lines, total = {}, 0
  for i = 1, math.random(1, 3) do
    local quantity, cents = math.random(1, 2), math.random(50, 3000)
    total = total + quantity * cents
    lines[i] = string.format(
      '{"sku": "SKU-%05d", "category": "%s", "quantity": %d, "unit_price": "%s"}',
      math.random(1, 20000), CATEGORIES[math.random(#CATEGORIES)], quantity, common.money(cents)
    )
  end
  local body = string.format(
    '{"store_code": "%s", "receipt_no": "%s-%d-%d", "member_id": %d, "occurred_at": "%s", '
      .. '"currency": "EUR", "total": "%s", "channel": "store", "lines": [%s]}',
    store, prefix, thread_no, counter, first_member + math.random(0, member_count - 1),
    os.date("!%Y-%m-%dT%H:%M:%SZ"), common.money(total), table.concat(lines, ", ")
  )
  return wrk.format("POST", nil, common.stamp(headers), body)
end
