-- wrk script: GET /api/may-send for a random one of the 500 seeded customers (bench1..bench500@example.com).
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("HUB_ADMIN_TOKEN") or "bench-token")
math.randomseed(os.time())
request = function()
  local n = math.random(1, 500)
  return wrk.format("GET", "/api/may-send?email=bench" .. n .. "%40example.com&channel=email&purpose=marketing")
end
