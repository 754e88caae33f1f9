# Run from the repository root: python3 testdata/sdk/mkhar.py (needs PyYAML).
# Builds testdata/sdk/documented-requests.har from the first case of each
# new adapter's case file (requests constructed from vendor documentation).
import json, yaml, urllib.parse
picks = [
 ("appsflyer/s2s-inappevent", 0), ("appsflyer/ctv-events", 0), ("appsflyer/web-s2s", 0), ("braze/users-track", 0), ("braze/sdk-data", 0),
 ("applovin/axon-conversion-api", 0), ("tealium/collect-json", 0), ("tealium/collect-query", 0),
 ("integral-ad-science/publisher-optimization", 0), ("nativo/prebid", 0),
]
entries = []
def entry(req, i):
    u = urllib.parse.urlsplit(req["url"])
    qs = [{"name": urllib.parse.unquote_plus(k), "value": urllib.parse.unquote_plus(v)} for k, _, v in (p.partition("=") for p in u.query.split("&") if p)]
    r = {"method": req.get("method", "GET"), "url": req["url"], "httpVersion": "HTTP/1.1", "cookies": [],
         "headers": [{"name": "Host", "value": u.hostname}] + [{"name": h[0], "value": h[1]} for h in req.get("headers", [])],
         "queryString": qs, "headersSize": -1, "bodySize": len(req.get("body", "").encode())}
    if req.get("body"):
        r["headers"].append({"name": "Content-Type", "value": req["mimeType"]})
        r["postData"] = {"mimeType": req["mimeType"], "text": req["body"]}
    return {"startedDateTime": "2024-07-01T12:00:%02d.000Z" % i, "time": 20, "request": r,
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                         "content": {"size": 0, "mimeType": "text/plain"}, "redirectURL": "", "headersSize": -1, "bodySize": 0},
            "cache": {}, "timings": {"send": 1, "wait": 18, "receive": 1}}
for i, (id, n) in enumerate(picks):
    c = yaml.safe_load(open("adapters/testdata/adaptercases/%s.yaml" % id))["cases"][n]
    entries.append(entry(c["request"], i))
# A request to the app's own API: no tracker, no finding.
entries.append(entry({"method": "GET", "url": "https://api.weather.example/v1/forecast?city=Berlin"}, len(picks)))
h = {"log": {"version": "1.2", "creator": {"name": "tracewire testdata (built from adapters/testdata/adaptercases)", "version": "1"},
             "comment": "One request per app-SDK/vendor adapter, constructed from the vendors' documentation (not observed), values invented; the last entry is no tracker's.",
             "entries": entries}}
json.dump(h, open("testdata/sdk/documented-requests.har", "w"), indent=1, ensure_ascii=False)
open("testdata/sdk/documented-requests.har", "a").write("\n")
