#!/usr/bin/env bash
# Times the CRM path with the built CLI: a generated CSV of ROWS deals in the built-in `generic-pipeline` layout
# (16 columns) is imported into a new node, imported again unchanged (every record matched, nothing written),
# exported, and reported on. Prints each command's time and peak RSS (GNU time's maximum resident set size).
#
#   scripts/csv-timing.sh PATH/TO/entente [ROWS]     (a release build: swift build -c release)
rows=${2:-100000}
source "$(dirname "$0")/measure.sh"

python3 - "$rows" >pipeline.csv <<'PY'
import random, sys
rows = int(sys.argv[1])
rng = random.Random(11)
stages = ["qualified", "technical-validation", "business-validation", "committed"]
types = ["net-new", "renewal", "expansion"]
print("id,name,account,type,stage,amount,currency,probability,close_date,next_steps,region,solution,"
      "delivery_models,sourced_by,on_hold,notes")
for i in range(rows):
    print(f"P-{i},Deal {i},\"Account {i % 4999}, Inc.\",{types[i % 3]},{stages[i % 4]},{rng.randrange(10**7)}.00,"
          f"{['USD', 'EUR'][i % 2]},{10 * (1 + i % 9)},2027-{1 + i % 12:02d}-{1 + i % 28:02d},Call {rng.randrange(10**5)},"
          f"{['EMEA', 'NA', 'APAC'][i % 3]},Solution {i % 50},saas;services,,{['false', 'true'][i % 7 == 0]},"
          f"Note {rng.randrange(10**6)}")
PY
echo "pipeline.csv: $rows rows, $(stat -c %s pipeline.csv) bytes"
"$entente" init --company Globex --dir globex >/dev/null

measure "import csv" "$entente" import csv pipeline.csv --map generic-pipeline --dir globex
measure "import csv again (unchanged)" "$entente" import csv pipeline.csv --map generic-pipeline --dir globex
measure "export csv" "$entente" export csv --map generic-pipeline --out exported.csv --dir globex
measure "report" "$entente" report --by stage --dir globex
