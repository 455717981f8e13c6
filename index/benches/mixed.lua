-- wrk script of index/benches/server.sh: the mixed load of issue 18, the
-- searches of index/benches/mixed-queries.txt (at least 50 distinct), in
-- turn from a different starting point per thread, so every connection
-- cycles through all of them. QUERIES=path overrides the list.
local file = os.getenv("QUERIES") or "index/benches/mixed-queries.txt"

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- `q=a b&source=X` -> `q=a%20b&source=X`: encode each value, keep the `&` and `=`.
local function path(line)
  local parts = {}
  for pair in line:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]+)=(.*)$")
    parts[#parts + 1] = k .. "=" .. encode(v)
  end
  return "/api/search?" .. table.concat(parts, "&")
end

local paths = {}
for line in io.lines(file) do
  if line ~= "" and line:sub(1, 1) ~= "#" then
    paths[#paths + 1] = path(line)
  end
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 17)
end

local i = nil
request = function()
  if i == nil then i = start or 0 end
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("mixed load: %d distinct searches, %d non-2xx answers, %d timeouts\n",
    #paths, summary.errors.status, summary.errors.timeout))
end
