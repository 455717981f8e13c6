-- wrk script of index/benches/server.sh: the query list of
-- index/benches/search.rs (33 queries, some with source/date filters),
-- in turn, so every connection cycles through all of them.
local paths = {
  "/api/search?q=%E4%B8%93%E5%88%A9",
  "/api/search?q=%E5%95%86%E6%A0%87",
  "/api/search?q=%E4%BB%BF%E5%88%B6%E8%8D%AF",
  "/api/search?q=%E7%96%AB%E8%8B%97",
  "/api/search?q=%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83",
  "/api/search?q=%E5%8C%BB%E7%96%97%E5%99%A8%E6%A2%B0",
  "/api/search?q=%E6%B3%A8%E5%B0%84%E5%89%82",
  "/api/search?q=%E8%AF%84%E4%BB%B7",
  "/api/search?q=%E4%BA%A7%E6%9D%83",
  "/api/search?q=%E5%99%A8%E6%A2%B0",
  "/api/search?q=%E5%AE%A1%E8%AF%84",
  "/api/search?q=%E4%B8%93%E5%88%A9%20%E5%AE%A1%E6%9F%A5",
  "/api/search?q=%E8%8D%AF%E5%93%81%20%E6%B3%A8%E5%86%8C",
  "/api/search?q=%E7%96%AB%E8%8B%97%20%E4%B8%B4%E5%BA%8A%E8%AF%95%E9%AA%8C",
  "/api/search?q=%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83%20%E4%BF%9D%E6%8A%A4",
  "/api/search?q=%22%E4%B8%80%E8%87%B4%E6%80%A7%E8%AF%84%E4%BB%B7%22",
  "/api/search?q=%22%E4%B8%8A%E5%B8%82%E8%AE%B8%E5%8F%AF%E6%8C%81%E6%9C%89%E4%BA%BA%22",
  "/api/search?q=%22%E5%9B%BD%E5%AE%B6%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83%E5%B1%80%22",
  "/api/search?q=validation",
  "/api/search?q=guidance",
  "/api/search?q=sterile",
  "/api/search?q=COVID-19",
  "/api/search?q=pre-IND",
  "/api/search?q=%22data%20integrity%22",
  "/api/search?q=2015%E5%B9%B4%E7%AC%AC7%E5%8F%B7",
  "/api/search?q=%E5%9B%BD%E7%9F%A5%E5%8F%91%E4%BF%9D%E5%AD%97%E3%80%942019%E3%80%9515%E5%8F%B7",
  "/api/search?q=%E8%8D%AF%E5%AE%A1%E4%B8%AD%E5%BF%83%E3%80%942021%E3%80%953%E5%8F%B7",
  "/api/search?q=%E4%B8%93%E5%88%A9&source=CNIPA",
  "/api/search?q=%E7%96%AB%E8%8B%97&since=2020-01-01",
  "/api/search?q=validation&source=FDA",
  "/api/search?q=%E4%B8%80%E8%87%B4%E6%80%A7%E8%AF%84%E4%BB%B7&source=NMPA&since=2015-01-01&until=2016-12-31",
  "/api/search?q=%E6%B3%A8%E5%B0%84%E5%89%82&source=NMPA&since=2018-01-01",
  "/api/search?q=guidance&source=FDA&since=2012-01-01&until=2013-12-31",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
