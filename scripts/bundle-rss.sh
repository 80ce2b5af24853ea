#!/usr/bin/env bash
# Measures the memory a bundle takes at both ends. Globex imports a generated CSV shared with Initech (ROWS rows
# of 7 columns and their crm_id: ROWS x 8 field writes), writes a bundle of all of it for Initech, and Initech
# imports it (a full sync). Then Globex re-imports the file with every column changed (ROWS x 7 field updates),
# and Initech imports the delta (exported against its summary). Prints each command's time and peak RSS (GNU
# time's maximum resident set size) and the bundles' sizes.
#
#   scripts/bundle-rss.sh PATH/TO/entente [ROWS]     (a release build: swift build -c release)
rows=${2:-125000}
source "$(dirname "$0")/measure.sh"

generate() {  # rows, round
    python3 - "$1" "$2" <<'PY'
import random, sys
rows, round = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(7 + round)
stages = ["qualified", "technical-validation"]
print("id,name,account,stage,amount,currency,close_date,region,next_step")
for i in range(rows):
    print(f"P-{i},Deal {i} r{round},Account {(i + round) % 997},{stages[round % 2]},{1000 + i + round}.00,USD,"
          f"2027-0{3 + round}-28,{['EMEA', 'APAC'][round % 2]},Call {rng.randrange(10**6)}")
PY
}
generate "$rows" 0 >pipeline.csv
generate "$rows" 1 >changed.csv
cat >map.json <<'JSON'
{"name": "rss", "object_type": "opportunity", "key_column": "id", "empty_cells": "skip", "date_format": "YYYY-MM-DD",
 "columns": [{"column": "name", "field": "title"},
  {"column": "account", "field": "account"}, {"column": "stage", "field": "stage"},
  {"column": "amount", "field": "amount", "currency_column": "currency"}, {"column": "close_date", "field": "close_date"},
  {"column": "region", "field": "region"}, {"column": "next_step", "field": "next_step"}]}
JSON

"$entente" init --company Globex --dir globex >/dev/null
"$entente" init --company Initech --dir initech >/dev/null
"$entente" card --dir globex --out globex.card >/dev/null
"$entente" card --dir initech --out initech.card >/dev/null
"$entente" partner add initech.card --dir globex >/dev/null
"$entente" partner add globex.card --dir initech >/dev/null

measure "import csv ($rows rows)" "$entente" import csv pipeline.csv --map map.json --with Initech --dir globex
measure "bundle export" "$entente" bundle export --to Initech --out all.bundle --dir globex
echo "bundle: $(stat -c %s all.bundle) bytes"
measure "bundle import" "$entente" bundle import all.bundle --dir initech
measure "import csv (every column changed)" "$entente" import csv changed.csv --map map.json --with Initech --dir globex
"$entente" summary --dir initech --out initech.summary
measure "delta bundle export" "$entente" bundle export --to Initech --summary initech.summary --out delta.bundle --dir globex
echo "delta bundle: $(stat -c %s delta.bundle) bytes"
measure "delta bundle import" "$entente" bundle import delta.bundle --dir initech
"$entente" status --dir initech --json | python3 -c 'import json, sys; s = json.load(sys.stdin); print({k: v for k, v in s.items() if not isinstance(v, (list, dict))})'
