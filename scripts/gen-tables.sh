#!/usr/bin/env bash
# Usage: scripts/gen-tables.sh [--since EPOCH] [--run DIR] KVER...
#
# Turn the comparison rows the VM test cases wrote into markdown: for every
# NAME.tsv in build/<KVER>/vm-suite/tables/ of the kernels given (--run DIR:
# build/<KVER>/DIR instead, e.g. the --out of your own scripts/vm-run.sh),
# write docs/NAME.md with one row per case and one column per kernel x
# helper (cells pass / FAIL / skip, "-" where that kernel or helper has no
# row). tests/run.sh calls it after the last kernel.
#
# A row is CASE-ID <tab> DESCRIPTION <tab> HELPER <tab> pass|fail|skip
# [<tab> NOTE]; a NOTE (what was measured, why it failed) is listed under
# the table. Rows are sorted by case id, helpers ftpx first, then the rest
# by name, kernels in the order given: the output depends only on the input
# (the date in the header is that of the newest run read).
#
# Stale rows: scripts/vm-run.sh empties its --out directory (vm-suite) at
# the start of every run, so a kernel's tables/ holds only the rows of its
# last run. A kernel whose run did not finish (no vm-suite/status) or, with
# --since EPOCH (or FTPX_TABLES_SINCE), whose run is older than EPOCH is
# refused like a missing one.
#
# Exit status: 0 when every docs/NAME.md was written; 1 when an input is
# missing (a kernel without tables, or without a NAME.tsv another kernel
# has), unfinished, stale or malformed: nothing is written then; 2 on
# usage. A run limited by FTPX_TESTS to cases that write no table leaves
# docs/ alone and exits 0.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
since=${FTPX_TABLES_SINCE:-}
run=vm-suite
while [ $# -gt 0 ]; do
	case $1 in
	--since) since=$2; shift 2 ;;
	--run) run=$2; shift 2 ;;
	-h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "gen-tables: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: gen-tables.sh [--since EPOCH] [--run DIR] KVER..." >&2; exit 2; }

bad=0 notables=0 have=0
for k in "$@"; do
	d=$top/build/$k/$run
	if [ ! -f "$d/status" ]; then
		echo "gen-tables: $k: no finished suite run ($d/status missing)" >&2
		bad=1
		continue
	fi
	if [ -n "$since" ] && [ "$(stat -c %Y "$d/status")" -lt "$since" ]; then
		echo "gen-tables: $k: $d is from an earlier run ($(date -r "$d/status" '+%F %T'))" >&2
		bad=1
		continue
	fi
	if ! compgen -G "$d/tables/*.tsv" >/dev/null; then
		echo "gen-tables: $k: no tables in $d/tables (did the table cases run?)" >&2
		notables=1
		continue
	fi
	have=$((have + 1))
done
if [ $have = 0 ] && [ $bad = 0 ] && [ -n "${FTPX_TESTS:-}" ]; then
	echo "gen-tables: no table in this run (FTPX_TESTS=$FTPX_TESTS): docs/ left as it is"
	exit 0
fi
if [ $bad = 1 ] || [ $notables = 1 ]; then
	echo "gen-tables: nothing written" >&2
	exit 1
fi

mkdir -p "$top/docs"
exec python3 - "$top" "$run" "$@" <<'EOF'
import collections, datetime, glob, os, sys

top, run, kernels = sys.argv[1], sys.argv[2], sys.argv[3:]
VERDICTS = {"pass": "pass", "fail": "**FAIL**", "skip": "skip"}
HELPERS = {"ftpx": "nf_ftpx (helper \"ftpx\")",
           "ftp": "in-tree nf_conntrack_ftp + nf_nat_ftp (helper \"ftp\")"}
TITLES = {"matrix": "FTP through NAT: nf_ftpx against the in-tree helper",
          "failover": "FTP and FTPS across a router failover (conntrackd, docs/ha.md)"}
WORST = {"fail": 2, "skip": 1, "pass": 0}

def short(k):
    # 6.1.0-56-amd64 -> 6.1, 6.12.117+deb12-amd64 -> 6.12
    return ".".join(k.split(".")[:2])

def cell(s):
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

errors = []
tables = collections.defaultdict(dict)   # name -> kernel -> rows
stamp = 0
for k in kernels:
    d = os.path.join(top, "build", k, run)
    stamp = max(stamp, os.stat(os.path.join(d, "status")).st_mtime)
    for f in sorted(glob.glob(os.path.join(d, "tables", "*.tsv"))):
        name = os.path.basename(f)[:-4]
        rows = []
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                p = line.split("\t")
                if len(p) < 4 or p[3] not in VERDICTS or not p[0] or not p[2]:
                    errors.append("%s:%d: not CASE<tab>DESC<tab>HELPER<tab>pass|fail|skip[<tab>NOTE]: %r"
                                  % (f, n, line[:80]))
                    continue
                rows.append((p[0], p[1], p[2], p[3], p[4] if len(p) > 4 else ""))
        tables[name][k] = rows
if errors:
    sys.stderr.write("gen-tables: malformed rows, nothing written:\n  " + "\n  ".join(errors) + "\n")
    sys.exit(1)

missing = ["%s: %s has no %s.tsv" % (name, k, name)
           for name in sorted(tables) for k in kernels if k not in tables[name]]
if missing:
    sys.stderr.write("gen-tables: " + "; ".join(missing) + "; nothing written\n")
    sys.exit(1)
date = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%d")
for name in sorted(tables):
    per_k = tables[name]
    desc, res, notes, dup = {}, {}, {}, []
    helpers = set()
    for k, rows in per_k.items():
        for cid, d, h, v, note in rows:
            helpers.add(h)
            desc.setdefault(cid, d)
            key = (cid, k, h)
            if key in res:
                dup.append("%s %s %s" % key)
                if WORST[v] <= WORST[res[key]]:
                    continue
            res[key] = v
            if note:
                notes[key] = note
    helpers = sorted(helpers, key=lambda h: (h != "ftpx", h != "ftp", h))
    cols = [(k, h) for k in kernels for h in helpers]
    ids = sorted(desc)
    out = []
    out.append("<!-- generated by scripts/gen-tables.sh from build/*/%s/tables/%s.tsv: do not edit -->" % (run, name))
    out.append("# %s" % TITLES.get(name, name))
    out.append("")
    out.append("Generated by %s on %s from the test runs on %s." % (
        "tests/run.sh" if run == "vm-suite" else "scripts/gen-tables.sh --run " + run,
        date, ", ".join("`%s`" % k for k in kernels)))
    out.append("")
    out.append("| case | description | " + " | ".join("%s %s" % (short(k), h) for k, h in cols) + " |")
    out.append("|---|---|" + "---|" * len(cols))
    totals = {c: collections.Counter() for c in cols}
    for cid in ids:
        cells = []
        for c in cols:
            v = res.get((cid, c[0], c[1]))
            totals[c][v or "-"] += 1
            cells.append(VERDICTS[v] if v else "-")
        out.append("| `%s` | %s | %s |" % (cid, cell(desc[cid]), " | ".join(cells)))
    out.append("| | **total** (pass/fail/skip) | " + " | ".join(
        "%d/%d/%d" % (totals[c]["pass"], totals[c]["fail"], totals[c]["skip"]) for c in cols) + " |")
    out.append("")
    out.append("Legend: **pass** the transfer or line was handled correctly and every check held;")
    out.append("**FAIL** a check failed (see the notes); **skip** the client cannot do this combination;")
    out.append("**-** no row from that run. Columns: kernel, then helper:")
    for h in helpers:
        out.append("- `%s`: %s" % (h, HELPERS.get(h, h)))
    if name == "matrix":
        out.append("")
        out.append("Placements (the seed articles' four cases): **a** client and server public, the router")
        out.append("only routes; **b** client behind masquerade; **c** server behind DNAT; **d** both")
        out.append("(two routers). IPv6 uses NAT66 the same way; PORT and PASV cannot carry an IPv6")
        out.append("address, so IPv6 rows are EPRT and EPSV. Every router's forward policy admits a data")
        out.append("connection only as RELATED to the helper's control connection. Cases `w*` measure the")
        out.append("in-tree helper's known weaknesses on both helpers. In-tree cells are measurements,")
        out.append("not verdicts of the test suite.")
    if notes:
        out.append("")
        out.append("## Notes")
        out.append("")
        for cid in ids:
            for h in helpers:
                by_note = collections.OrderedDict()
                for k in kernels:
                    n = notes.get((cid, k, h))
                    if n:
                        by_note.setdefault(n, []).append(short(k))
                for n, ks in by_note.items():
                    out.append("- `%s`, %s on %s: %s" % (cid, h, ", ".join(ks), cell(n)))
    if dup:
        sys.stderr.write("gen-tables: %s: %d duplicate rows (the worst verdict kept): %s\n"
                         % (name, len(dup), "; ".join(dup[:5])))
    path = os.path.join(top, "docs", name + ".md")
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(out) + "\n")
    os.replace(tmp, path)
    print("gen-tables: wrote docs/%s.md (%d cases x %d columns)" % (name, len(ids), len(cols)))
EOF
