#!/usr/bin/env python3
"""Synthetic marketplace at scale, written as one psql script of COPY blocks (bench/scale/run.sh).

    seed.py --seed 20261201 --scale 1.0 --month 2026-12 --password-hash '$argon2id$...' | psql ...

Everything comes from one random.Random(seed): the same seed, scale and month give the same rows
(ids included). At scale 1.0:

  * 5,000 publisher tenants owning 100,000 models (publisher sizes Zipf-like, s = 0.7, so the largest
    publisher, pub-00001, has a few thousand); 1-3 versions each (95 % with a published one), a
    'latest' alias, 1-3 plans (free, pay-as-you-go, monthly; EUR or USD); 90 % public, 7 % private,
    3 % shared with a few tenants; names, tags, summaries and descriptions drawn from a vocabulary
    of domain words and a long tail of rarer words (Zipf), so that full-text terms range from common
    to rare;
  * 20,000 consumer tenants, each with an owner, 1-3 API keys and 1-12 subscriptions (mean ~3) to
    public models drawn by popularity (Zipf, s = 1; pub-00001 holds the five most popular models);
    10 % changed plan within the window (two segments), 8 % were cancelled;
  * 20,000,000 metered calls over three calendar months: the month before last, last month and the
    current month, seeded whole (as on its last day), so the current month's quotas, usage and
    draft invoice are at full size and last month is the one a close bills. Calls per subscription
    are lognormal (sigma 2), scaled to sum exactly to the total. They are written in the shape the
    meter writes (PgUsageSink): usage_rollups rows per (tenant, model, version, subscription, key,
    outcome, minute bucket) -- about 4 calls a row on average, never more rows than the
    subscription's minutes -- and one usage_commits row per rollup row listing its calls' request
    ids (one a line), as a commit of that tenant's calls would, and the same calls per UTC day in
    usage_daily, as the sink adds them (migration V18). 97 % of rows are 'success'.

Every user's password is the one whose Argon2id hash is given (run.sh signs one user up through the
API and copies its hash), so any seeded owner can log in.
"""
import argparse
import bisect
import datetime as dt
import itertools
import math
import random
import sys

p = argparse.ArgumentParser()
p.add_argument("--seed", type=int, default=20261201)
p.add_argument("--scale", type=float, default=1.0)
p.add_argument("--month", required=True, help="the current month, YYYY-MM (the window is it and the two before)")
p.add_argument("--password-hash", required=True)
p.add_argument("--summary", help="file to write the seeded totals and notable tenants to")
args = p.parse_args()

rng = random.Random(args.seed)
S = args.scale
N_PUB = max(5, round(5000 * S))
N_MODELS = max(50, round(100000 * S))
N_CONS = max(10, round(20000 * S))
N_CALLS = max(1000, round(20_000_000 * S))
out = sys.stdout
UTC = dt.timezone.utc

year, month = map(int, args.month.split("-"))


def add_months(y, m, k):
    m0 = y * 12 + (m - 1) + k
    return m0 // 12, m0 % 12 + 1


W_START = dt.datetime(*add_months(year, month, -2), 1, tzinfo=UTC)
W_END = dt.datetime(*add_months(year, month, 1), 1, tzinfo=UTC)
W_MINUTES = int((W_END - W_START).total_seconds() // 60)
NOW = W_START  # catalog rows are created before the window


def uid():
    b = rng.getrandbits(128)
    b = (b & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    b = (b & ~(0xC000 << 48)) | (0x8000 << 48)  # variant
    h = "%032x" % b
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S+00")


def minute(i):
    return W_START + dt.timedelta(minutes=i)


def copy(table, cols, rows):
    out.write(f"COPY {table} ({', '.join(cols)}) FROM STDIN;\n")
    n = 0
    for r in rows:
        out.write("\t".join(r))
        out.write("\n")
        n += 1
    out.write("\\.\n")
    return n


def arr(xs):
    return "{" + ",".join(xs) + "}"


# --- vocabulary -------------------------------------------------------------------------------------
TASKS = ["image-classification", "object-detection", "text-classification", "sentiment-analysis",
         "translation", "summarization", "speech-recognition", "tabular-regression", "tabular-classification",
         "anomaly-detection", "recommendation", "time-series-forecasting"]
DOMAIN = ("image vision text language speech audio tabular time series forecast fraud credit risk churn "
          "sentiment review medical radiology xray retina skin tumour cell protein molecule chemistry "
          "satellite crop weather energy traffic vehicle pedestrian face pose gesture handwriting digits "
          "invoice receipt document legal contract finance stock retail demand inventory price insurance "
          "claim email spam toxicity intent chatbot question answer summary translation german french "
          "spanish chinese japanese code sql log anomaly sensor vibration machine maintenance network "
          "intrusion malware phishing recommendation music movie news product search ranking embedding").split()
NOUNS = "classifier detector regressor model encoder transformer network predictor tagger segmenter scorer ranker".split()
ADJS = ("fast tiny small large robust accurate lightweight quantized distilled multilingual calibrated "
        "explainable efficient compact deep shallow streaming realtime").split()
SYL = "ka lo mi nu pe ra si to vu ze bra cle dri fro glu pla sku tri vor xen".split()
TAIL = sorted({rng.choice(SYL) + rng.choice(SYL) + rng.choice(SYL) for _ in range(6000)})
rng.shuffle(TAIL)
# A card is about a topic: one to three domain words (Zipf, s = 0.8, over the domain words in a seeded
# order, so the broadest is in about a fifth of the cards, like "image" on a real model hub, the median
# one in one or two per cent), which its name, tags, summary and description use; the rest of its text
# is generic: a dozen words every card uses ("model", "trained", ...), kinds of model and adjectives,
# and a long tail of rare words (Zipf, s = 1.05).
FILLER = "model trained data dataset input output accuracy inference tuned pretrained benchmark features".split()
RANKED_DOMAIN = DOMAIN[:]
rng.shuffle(RANKED_DOMAIN)
DOM_CUM = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(RANKED_DOMAIN))))
GENERIC = FILLER + NOUNS + ADJS + TAIL
W_CUM = list(itertools.accumulate(1.0 / (i + 1) ** 1.05 for i in range(len(GENERIC))))
FRAMEWORKS = ["pytorch"] * 8 + ["onnx", "tensorflow"]


def topic():
    return sorted({RANKED_DOMAIN[bisect.bisect_left(DOM_CUM, rng.random() * DOM_CUM[-1])]
                   for _ in range(rng.choice((1, 2, 2, 3)))})


def words(n, about):
    """n generic words with each topic word put in once to three times."""
    out = rng.choices(GENERIC, cum_weights=W_CUM, k=n)
    for w in about:
        for _ in range(rng.randint(1, 3)):
            out.insert(rng.randrange(len(out) + 1), w)
    return " ".join(out)


def zipf_cum(n, s):
    return list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(n)))


MANIFEST = ('{"inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 64]}], '
            '"outputs": [{"name": "scores", "datatype": "FP32", "shape": [-1, 10]}]}')

# --- tenants and users ------------------------------------------------------------------------------
pubs = [(uid(), f"pub-{i + 1:05d}") for i in range(N_PUB)]
cons = [(uid(), f"c-{i + 1:05d}") for i in range(N_CONS)]
out.write("BEGIN;\n")
copy("tenants", ["id", "name", "slug", "created_at"],
     ((t, f"Publisher {s[4:]}" if s.startswith("pub") else f"Consumer {s[2:]}", s,
       ts(NOW - dt.timedelta(days=400 + rng.randrange(300)))) for t, s in pubs + cons))
copy("users", ["id", "tenant_id", "email", "display_name", "password_hash", "role", "created_at"],
     ((uid(), t, f"owner@{s}.scale.test", "Owner", args.password_hash, "owner", ts(NOW - dt.timedelta(days=400)))
      for t, s in pubs + cons))

# --- models, versions, aliases, plans ---------------------------------------------------------------
pub_cum = zipf_cum(N_PUB, 0.7)
models = []  # (id, publisher index, visible public?, latest version id, [plan ids])
m_rows, v_rows, a_rows, p_rows, share_rows = [], [], [], [], []
for i in range(N_MODELS):
    mid = uid()
    pi = bisect.bisect_left(pub_cum, rng.random() * pub_cum[-1])
    pt = pubs[pi][0]
    kind = "algorithm" if rng.random() < 0.03 else "model"
    r = rng.random()
    vis = "public" if r < 0.90 else ("private" if r < 0.97 else "shared")
    task = rng.choice(TASKS)
    noun = rng.choice(NOUNS)
    about = topic()
    name = f"{rng.choice(ADJS).title()} {about[0].title()} {noun.title()} {i + 1}"
    tags = sorted(set(about + [task.split("-")[0]]))
    summary = words(rng.randint(6, 16), about[:1])
    description = words(rng.randint(40, 140), about)
    created = NOW - dt.timedelta(seconds=rng.randrange(2 * 365 * 86400))
    spec = '{"recipe": "mlp-classifier"}' if kind == "algorithm" else "\\N"
    m_rows.append((mid, pt, kind, f"m-{i + 1:06d}", name, summary, description, task, arr(tags), "apache-2.0",
                   rng.choice(FRAMEWORKS), vis, "{}", spec, ts(created), ts(created)))
    latest = None
    if kind == "model":
        nv = rng.choice([1, 1, 2, 3])
        published = rng.random() < 0.95
        for k in range(nv):
            vid = uid()
            state = "published" if published else "draft"
            vt = created + dt.timedelta(days=30 * k)
            v_rows.append((vid, mid, pt, f"1.{k}.0", "1", str(k), "0", state, "%064x" % rng.getrandbits(256),
                           str(rng.randint(10_000, 50_000_000)), MANIFEST, str(rng.randint(50, 3000)),
                           str(rng.randint(200, 50_000)), ts(vt), ts(vt) if published else "\\N"))
            latest = vid
        if published:
            a_rows.append((mid, "latest", latest, ts(created)))
    else:
        latest = None
    plans = []
    for ptype in rng.sample(["free", "pay_as_you_go", "monthly"], rng.randint(1, 3)):
        plid = uid()
        cur = "EUR" if rng.random() < 0.7 else "USD"
        if ptype == "free":
            fee, inc, per = 0, rng.choice([1000, 5000, 10000]), 0
        elif ptype == "pay_as_you_go":
            fee, inc, per = 0, 0, rng.choice([5, 10, 20, 50, 100])
        else:
            fee, inc, per = rng.choice([900, 2900, 9900]), rng.choice([10000, 50000, 100000]), rng.choice([5, 10, 20])
        p_rows.append((plid, mid, pt, ptype.replace("_", "-").title(), ptype, cur, str(fee), str(inc), str(per),
                       str(rng.choice([60, 600, 6000])), ts(created)))
        plans.append((plid, ptype))
    if vis == "shared":
        for ct in rng.sample(cons, min(3, len(cons))):
            share_rows.append((mid, ct[0]))
    visible_public = vis == "public" and (kind == "algorithm" or a_rows and a_rows[-1][0] == mid)
    models.append((mid, pi, visible_public, latest, plans))

copy("models", ["id", "tenant_id", "kind", "slug", "name", "summary", "description", "task", "tags", "license",
                "framework", "visibility", "claimed_metrics", "algorithm_spec", "created_at", "updated_at"], m_rows)
copy("model_versions", ["id", "model_id", "tenant_id", "version", "major", "minor", "patch", "state", "artifact_sha256",
                        "artifact_size", "manifest", "load_millis", "single_latency_micros", "created_at", "published_at"],
     v_rows)
copy("model_aliases", ["model_id", "alias", "version_id", "updated_at"], a_rows)
copy("plans", ["id", "model_id", "tenant_id", "name", "type", "currency", "monthly_fee_minor", "included_calls",
               "price_per_1000_minor", "rate_limit_per_minute", "created_at"], p_rows)
copy("model_shares", ["model_id", "tenant_id"], share_rows)
del m_rows, v_rows, a_rows, p_rows, share_rows

# --- popularity: the biggest publisher holds the five most popular subscribable models --------------------
subscribable = [m for m in models if m[2] and m[3] is not None]
rng.shuffle(subscribable)
top = [m for m in subscribable if m[1] == 0][:5]
subscribable = top + [m for m in subscribable if m not in top[:5]] if top else subscribable
pop_cum = zipf_cum(len(subscribable), 1.0)

# --- consumers: keys, subscriptions, segments ------------------------------------------------------
k_rows, s_rows, g_rows = [], [], []
subs = []  # (tenant, model id, version id, subscription id, [keys], [(plan, from_minute, to_minute)])
for ct, cs in cons:
    keys = []
    for k in range(rng.randint(1, 3)):
        kid = uid()
        secret = "%064x" % rng.getrandbits(256)
        k_rows.append((kid, ct, f"key {k + 1}", "mm_" + secret[:8], secret[-4:], "\\\\x" + secret, "{infer}",
                       ts(W_START - dt.timedelta(days=30))))
        keys.append(kid)
    n = min(1 + int(rng.expovariate(1 / 2.2)), 12)
    chosen = {}
    while len(chosen) < n:
        m = subscribable[bisect.bisect_left(pop_cum, rng.random() * pop_cum[-1])]
        chosen[m[0]] = m
    for m in chosen.values():
        sid = uid()
        start = 0 if rng.random() < 0.6 else rng.randrange(W_MINUTES - 1440)
        started = minute(start) - (dt.timedelta(days=rng.randint(1, 200)) if start == 0 else dt.timedelta(0))
        end = W_MINUTES
        status, ended = "active", "\\N"
        if rng.random() < 0.08:
            end = rng.randrange(start + 60, W_MINUTES)
            status, ended = "cancelled", ts(minute(end))
        plans = m[4]
        segs = []
        if len(plans) > 1 and rng.random() < 0.10 and end - start > 120:
            change = rng.randrange(start + 60, end - 59)
            a, b = rng.sample(plans, 2)
            segs = [(a[0], start, change), (b[0], change, end)]
        else:
            segs = [(rng.choice(plans)[0], start, end)]
        s_rows.append((sid, ct, m[0], segs[-1][0], status, ts(started), ended))
        for j, (plid, lo, hi) in enumerate(segs):
            frm = started if j == 0 else minute(lo)
            to = "\\N" if (hi == W_MINUTES and status == "active") else ts(minute(hi))
            g_rows.append((uid(), sid, ct, plid, ts(frm.replace(second=0, microsecond=0)), to))
        subs.append((ct, m[0], m[3], sid, keys, start, end))
copy("api_keys", ["id", "tenant_id", "name", "prefix", "last_four", "secret_hash", "scopes", "created_at"], k_rows)
copy("subscriptions", ["id", "tenant_id", "model_id", "plan_id", "status", "started_at", "ended_at"], s_rows)
copy("subscription_segments", ["id", "subscription_id", "tenant_id", "plan_id", "active_from", "active_to"], g_rows)
del k_rows, s_rows, g_rows
out.write("COMMIT;\n")

# --- usage: calls per subscription, rollup rows, commit rows ---------------------------------------------
weights = [rng.lognormvariate(0, 2.0) for _ in subs]
total_w = sum(weights)
calls = [max(1, int(w / total_w * N_CALLS)) for w in weights]
diff = N_CALLS - sum(calls)
order = sorted(range(len(subs)), key=lambda i: -weights[i])
i = 0
while diff != 0:  # make the total exact, adjusting the largest subscriptions
    j = order[i % len(order)]
    step = 1 if diff > 0 else -1
    if calls[j] + step >= 1:
        calls[j] += step
        diff -= step
    i += 1

per_tenant = {}
rollup_rows = 0
OUTCOMES = ["success"] * 97 + ["client_error"] * 2 + ["server_error"]


def usage():
    global rollup_rows
    for (ct, mid, vid, sid, keys, lo, hi), n in zip(subs, calls):
        per_tenant[ct] = per_tenant.get(ct, 0) + n
        span = hi - lo
        rows = max(1, min(round(n / 4 * rng.uniform(0.5, 1.5)), n, int(span * 0.8)))
        buckets = sorted(rng.sample(range(lo, hi), rows))
        cuts = sorted(rng.sample(range(1, n), rows - 1)) if rows > 1 else []
        prev = 0
        for b, c in zip(buckets, cuts + [n]):
            k = c - prev
            prev = c
            rollup_rows += 1
            yield (ct, mid, vid, sid, rng.choice(keys), rng.choice(OUTCOMES), b, k)


# The commit rows are written in a second COPY; the rollup rows are kept compactly meanwhile.
out.write("BEGIN;\n")
commits = []
out.write("COPY usage_rollups (tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, bucket, calls, "
          "items, compute_nanos, updated_at) FROM STDIN;\n")
w = out.write
for ct, mid, vid, sid, key, outcome, b, k in usage():
    t = ts(minute(b))
    items = k * rng.choice((1, 1, 1, 2, 4))
    w(f"{ct}\t{mid}\t{vid}\t{sid}\t{key}\t{outcome}\t{t}\t{k}\t{items}\t{k * rng.randint(500_000, 5_000_000)}\t{t}\n")
    commits.append((ct, b, k))
w("\\.\n")
w("COPY usage_commits (commit_id, tenant_id, records, request_ids, recorded_at) FROM STDIN;\n")
for ct, b, k in commits:
    ids = "\\n".join("%032x" % rng.getrandbits(128) for _ in range(k))
    w(f"{uid()}\t{ct}\t{k}\t{ids}\t{ts(minute(b) + dt.timedelta(seconds=61))}\n")
w("\\.\n")
# what the sink adds into usage_daily in the same statement (PgUsageSink, migration V18): the same
# calls per UTC day
w("INSERT INTO usage_daily (tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, day, calls, items, "
  "compute_nanos) SELECT tenant_id, model_id, version_id, subscription_id, api_key_id, outcome, "
  "(bucket AT TIME ZONE 'UTC')::date, sum(calls), sum(items), sum(compute_nanos) FROM usage_rollups "
  "GROUP BY 1, 2, 3, 4, 5, 6, 7;\n")
# as autovacuum would have by then: statistics, and the visibility map (index-only scans rely on it)
w("COMMIT;\nVACUUM (ANALYZE);\n")
out.flush()

if args.summary:
    ranked = sorted(per_tenant.items(), key=lambda kv: -kv[1])
    slug = {t: s for t, s in cons}
    with open(args.summary, "w") as f:
        f.write(f"seed={args.seed} scale={S} window={W_START.date()}..{W_END.date()} publishers={N_PUB} "
                f"models={N_MODELS} consumers={N_CONS} subscriptions={len(subs)} calls={sum(calls)} "
                f"rollup_rows={rollup_rows} commit_rows={len(commits)}\n")
        f.write(f"HEAVY_TENANT={slug[ranked[0][0]]} HEAVY_CALLS={ranked[0][1]}\n")
        f.write(f"P99_TENANT={slug[ranked[len(ranked) // 100][0]]} P99_CALLS={ranked[len(ranked) // 100][1]}\n")
        f.write(f"MEDIAN_TENANT={slug[ranked[len(ranked) // 2][0]]} MEDIAN_CALLS={ranked[len(ranked) // 2][1]}\n")
