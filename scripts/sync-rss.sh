#!/usr/bin/env bash
# Measures the memory a node needs to send a large pipeline over the network: Globex imports a generated CSV
# shared with Initech (long joint next steps), serves it, and Initech pulls everything in one `entente sync`. Prints the serving
# (sending) process's peak RSS (VmHWM) before and after the sync, the envelopes and bytes sent, and the time.
#
#   scripts/sync-rss.sh PATH/TO/entente [ROWS] [NOTE_BYTES]     (a release build: swift build -c release)
set -euo pipefail
entente=$(realpath "$1")
rows=${2:-50000}
note=${3:-3000}
port=${PORT:-47431}
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

python3 - "$rows" "$note" >pipeline.csv <<'EOF'
import random, string, sys
rows, note = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(7)
print("id,name,account,stage,amount,currency,close_date,region,next_steps")
for i in range(rows):
    text = "".join(rng.choice(string.ascii_letters + " ") for _ in range(note))
    print(f"P-{i},Deal {i},Account {i % 997},qualified,{1000 + i}.00,USD,2027-03-31,EMEA,{text}")
EOF
cat >map.json <<'EOF'
{"name": "rss", "object_type": "opportunity", "key_column": "id", "empty_cells": "skip", "date_format": "YYYY-MM-DD",
 "columns": [{"column": "name", "field": "title"}, {"column": "account", "field": "account"},
  {"column": "stage", "field": "stage"}, {"column": "amount", "field": "amount", "currency_column": "currency"},
  {"column": "close_date", "field": "close_date"}, {"column": "region", "field": "region"},
  {"column": "next_steps", "field": "next_steps"}]}
EOF

"$entente" init --company Globex --dir globex --address "127.0.0.1:$port" >/dev/null
"$entente" init --company Initech --dir initech >/dev/null
"$entente" card --dir globex --out globex.card >/dev/null
"$entente" card --dir initech --out initech.card >/dev/null
"$entente" partner add initech.card --dir globex >/dev/null
"$entente" partner add globex.card --dir initech >/dev/null
start=$(date +%s.%N)
"$entente" import csv pipeline.csv --map map.json --with Initech --dir globex >/dev/null
echo "import of $rows rows: $(echo "$(date +%s.%N) - $start" | bc) s"

"$entente" serve --dir globex >serve.log 2>&1 &
server=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
hwm() { awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$server/status"; }
echo "sender peak RSS before the sync: $(hwm)"
start=$(date +%s.%N)
"$entente" sync Globex --dir initech --json >sync.json
echo "sync: $(echo "$(date +%s.%N) - $start" | bc) s"
echo "sender peak RSS after the sync: $(hwm)"
python3 -c 'import json; r = json.load(open("sync.json")); print({k: v for k, v in (r[0] if isinstance(r, list) else r).items() if not isinstance(v, (list, dict))})'
