#!/usr/bin/env python3
"""Prepares the scale bench's request lists against a seeded, running server (bench/scale/run.sh):

    prepare.py BASE_URL OUT_DIR SUMMARY_FILE CURRENT_MONTH(YYYY-MM)

* logs in as the seeded owners named in SUMMARY_FILE (heaviest, 99th-percentile and median consumer
  by calls; pub-00001, the largest publisher) and prints TOKEN_*=... lines for the shell;
* walks the whole catalog in keyset pages (newest first, 100 a page, anonymous) and checks that every
  visible model comes exactly once and in order (created_at, id descending), then does the same for
  sort=popular and for a full-text query's relevance order; writes cursors from every depth of those
  walks (deep pages included) as request paths;
* writes lists of full-text queries, filtered listings and model pages (slugs spread over the walk).

Every list is a file of request paths, one a line, that paths.lua walks in turn. Fails (exit 1) if a
walk returns a model twice, skips one, or leaves the order.
"""
import json
import random
import sys
import urllib.error
import urllib.parse
import urllib.request

base, out, summary_file, month = sys.argv[1:5]
rng = random.Random(7)
summary = dict(kv.split("=", 1) for line in open(summary_file) for kv in line.split() if "=" in kv)


def get(path, token=None):
    req = urllib.request.Request(base + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.exit(f"GET {path}: {e.code} {e.read().decode(errors='replace')}")


def login(slug):
    req = urllib.request.Request(base + "/api/v1/auth/login", method="POST", data=json.dumps(
        {"email": f"owner@{slug}.scale.test", "password": "bench-password-1"}).encode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["accessToken"]


def write(name, paths):
    with open(f"{out}/{name}.txt", "w") as f:
        f.write("\n".join(paths) + "\n")


def walk(query, key, limit=100, max_pages=None):
    """Every page of a listing; returns (items in order, cursors of each page)."""
    items, cursors, cursor = [], [], None
    while True:
        path = f"/api/v1/catalog?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        page = get(path)
        items += page["items"]
        cursor = page["nextCursor"]
        if not cursor or (max_pages and len(cursors) + 1 >= max_pages):
            return items, cursors
        cursors.append((len(items), cursor))


def check_walk(name, items, key, expected=None):
    ids = [m["id"] for m in items]
    if len(set(ids)) != len(ids):
        sys.exit(f"{name}: a model came twice")
    keys = [(key(m), m["id"]) for m in items]
    if any(a < b for a, b in zip(keys, keys[1:])):
        sys.exit(f"{name}: out of order")
    if expected is not None and len(ids) != expected:
        sys.exit(f"{name}: {len(ids)} models, expected {expected}")
    print(f"# walk {name}: {len(ids)} models, each once, in order", file=sys.stderr)


for name, slug in (("HEAVY", summary["HEAVY_TENANT"]), ("P99", summary["P99_TENANT"]),
                   ("MEDIAN", summary["MEDIAN_TENANT"]), ("PUBLISHER", "pub-00001")):
    print(f"TOKEN_{name}={login(slug)}")

expected = int(sys.argv[5]) if len(sys.argv) > 5 else None
newest, newest_cursors = walk("", None)
check_walk("newest", newest, lambda m: m["createdAt"], expected)
popular, popular_cursors = walk("&sort=popular", None)
check_walk("popular", popular, lambda m: m["subscribers"], expected)
# a common term of the vocabulary: its matches walked in relevance order (ts_rank, then id)
relevance, relevance_cursors = walk("&q=image", None)
print(f"# walk relevance q=image: {len(relevance)} matches", file=sys.stderr)
ids = [m["id"] for m in relevance]
if len(set(ids)) != len(ids):
    sys.exit("relevance: a model came twice")


def spread(cursors, n=40):
    """Cursors from every depth of a walk, the deepest included."""
    if len(cursors) <= n:
        return cursors
    step = len(cursors) / n
    picked = [cursors[int(i * step)] for i in range(n)]
    return picked[:-1] + [cursors[-1]]


write("deep-newest", [f"/api/v1/catalog?limit=20&cursor={c}" for _, c in spread(newest_cursors)])
write("deep-popular", [f"/api/v1/catalog?limit=20&sort=popular&cursor={c}" for _, c in spread(popular_cursors)])
write("deep-relevance", [f"/api/v1/catalog?limit=20&q=image&cursor={c}" for _, c in spread(relevance_cursors)])
print(f"# deepest cursors: newest at {newest_cursors[-1][0] if newest_cursors else 0}, "
      f"popular at {popular_cursors[-1][0] if popular_cursors else 0}, "
      f"relevance at {relevance_cursors[-1][0] if relevance_cursors else 0}", file=sys.stderr)

terms = ["image", "speech", "sentiment", "fraud detection", "retina", "multilingual translation", "anomaly sensor",
         "\"credit risk\"", "classifier -image", "speech", "tumour", "invoice receipt", "quantized detector",
         "weather forecast", "toxicity", "music recommendation"]
# rare words of the long tail, taken from the cards themselves
for m in rng.sample(newest, min(10, len(newest))):
    terms.append(m["summary"].split()[-1])
# a term in nearly every card ("model"): the worst case of ranking, measured on its own
write("search-broad", ["/api/v1/catalog?limit=20&q=model", "/api/v1/catalog?limit=20&q=trained%20model"])
write("search-text", ["/api/v1/catalog?limit=20&q=" + urllib.parse.quote(t) for t in terms]
      + ["/api/v1/catalog?limit=20&sort=newest&q=" + urllib.parse.quote(t) for t in terms[:5]])
filters = ["task=image-classification", "tag=fraud", "tag=vision", "publisher=pub-00001", "publisher=pub-00042",
           "priceType=free", "priceType=monthly", "framework=onnx", "kind=algorithm",
           "task=sentiment-analysis&priceType=pay_as_you_go", "tag=medical&sort=popular", "sort=popular",
           "q=image&task=object-detection", "q=fraud&priceType=free", "q=speech&publisher=pub-00001"]
write("search-filters", [f"/api/v1/catalog?limit=20&{f}" for f in filters])
write("model-page", [f"/api/v1/models/{m['slug']}" for m in rng.sample(newest, min(200, len(newest)))
                     if m["kind"] == "model"])
y, mo = map(int, month.split("-"))
last_day = 31 if mo == 12 else (__import__("calendar").monthrange(y, mo)[1])
write("usage-summary", [f"/api/v1/usage/summary?from={month}-01&to={month}-{last_day:02d}"])
write("quotas", ["/api/v1/quotas"])
write("invoices", ["/api/v1/invoices"])
write("earnings-draft", ["/api/v1/earnings"])
py, pm = (y, mo - 1) if mo > 1 else (y - 1, 12)
write("earnings-final", [f"/api/v1/earnings?period={py}-{pm:02d}-01T00:00:00Z"])
