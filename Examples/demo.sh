#!/usr/bin/env bash
# Three companies co-sell one opportunity with Entente, exchanging bundle files.
#
#   Globex      an ISV, owns the opportunity
#   Initech     a systems integrator
#   Umbra Cloud a hyperscaler
#
# Usage: Examples/demo.sh [path/to/entente]   (make demo builds it and passes the path)
set -euo pipefail

ENTENTE="${1:-entente}"
EXAMPLES="$(cd "$(dirname "$0")" && pwd)"
case "$ENTENTE" in */*) ENTENTE="$(cd "$(dirname "$ENTENTE")" && pwd)/$(basename "$ENTENTE")" ;; esac
WORK="$(mktemp -d "${TMPDIR:-/tmp}/entente-demo.XXXXXX")"
cd "$WORK"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ entente'; printf ' %q' "$@"; printf '\n'; "$ENTENTE" "$@"; }

declare -A DIR=([Globex]=globex [Initech]=initech ["Umbra Cloud"]=umbra)
COMPANIES=(Globex Initech "Umbra Cloud")

step "1. Each company creates its own node (keys + SQLite database) in $WORK"
for c in "${COMPANIES[@]}"; do run init --company "$c" --dir "${DIR[$c]}"; done

step "2. They exchange partner cards out of band and pin each other"
for c in "${COMPANIES[@]}"; do "$ENTENTE" card --dir "${DIR[$c]}" > "${DIR[$c]}.card"; done
for c in "${COMPANIES[@]}"; do
    for p in "${COMPANIES[@]}"; do
        [ "$c" = "$p" ] || run partner add "${DIR[$p]}.card" --dir "${DIR[$c]}"
    done
done

step "3. Globex creates the opportunity: joint fields, a shared region, a private deal size"
ID=$("$ENTENTE" new opportunity --dir globex \
    --joint title="Acme Corp data platform" --joint account="Acme Corp" \
    --joint stage=qualified --joint close_date=2027-03-31 \
    --set region=EMEA \
    --private deal_size="USD 1,240,000" --private win_probability="60% (Globex forecast)")
echo "opportunity $ID"
run invite "$ID" Initech --dir globex
run invite "$ID" "Umbra Cloud" --dir globex

step "4. Globex sends each partner a bundle file"
run bundle export --to Initech --out globex-to-initech.1.bundle --dir globex
run bundle export --to "Umbra Cloud" --out globex-to-umbra.1.bundle --dir globex
run bundle import globex-to-initech.1.bundle --dir initech
run bundle import globex-to-umbra.1.bundle --dir umbra

step "5. Initech adds its fields: one shared with all, one private, one for Globex only"
run set "$ID" --dir initech --set delivery_lead="Initech Professional Services" --private margin="31% blended margin"
run set "$ID" --dir initech --set rate_card="Architect USD 1,850/day" --to Globex
run set "$ID" --dir initech --joint next_steps="Discovery workshop 2 Dec"

step "6. Umbra Cloud adds its fields: shared, private, for Initech only, and moves the stage"
run set "$ID" --dir umbra --set marketplace="Listed on Umbra Marketplace" --private commit_discount="18% EDP discount"
run set "$ID" --dir umbra --set poc_credits="USD 50,000 POC credits" --to Initech
run set "$ID" --dir umbra --joint stage=technical-validation

step "7. Two rounds of bundles in every direction, each sending only what the partner lacks (summary files)"
for round in 2 3; do
    for from in "${COMPANIES[@]}"; do
        for to in "${COMPANIES[@]}"; do
            [ "$from" = "$to" ] && continue
            "$ENTENTE" summary --dir "${DIR[$to]}" --out "${DIR[$to]}.summary"
            file="${DIR[$from]}-to-${DIR[$to]}.$round.bundle"
            run bundle export --to "$to" --summary "${DIR[$to]}.summary" --out "$file" --dir "${DIR[$from]}"
            run bundle import "$file" --dir "${DIR[$to]}"
        done
    done
done

step "8. Initech and Umbra Cloud edit the same joint field at the same time, offline"
run set "$ID" --dir initech --joint next_steps="Workshop moved to 3 Dec"
run set "$ID" --dir umbra --joint next_steps="Workshop at Umbra HQ"
for from in "${COMPANIES[@]}"; do
    for to in "${COMPANIES[@]}"; do
        [ "$from" = "$to" ] && continue
        "$ENTENTE" summary --dir "${DIR[$to]}" --out "${DIR[$to]}.summary"
        file="${DIR[$from]}-to-${DIR[$to]}.4.bundle"
        "$ENTENTE" bundle export --to "$to" --summary "${DIR[$to]}.summary" --out "$file" --dir "${DIR[$from]}" >/dev/null
        "$ENTENTE" bundle import "$file" --dir "${DIR[$to]}" >/dev/null
    done
done
echo "Last writer wins on every node, and the concurrent value is kept as a conflict until someone writes again:"
run conflicts --dir globex
echo "Who changed what, from the signed envelopes (last 4 lines of Globex's history):"
"$ENTENTE" history "$ID" --dir globex | tail -4

step "9. What each company sees"
for c in "${COMPANIES[@]}"; do
    printf '\n--- %s ---\n' "$c"
    "$ENTENTE" show "$ID" --dir "${DIR[$c]}"
done

exchange() { # one round of bundles in every direction, each sending only what the partner lacks
    for from in "${COMPANIES[@]}"; do
        for to in "${COMPANIES[@]}"; do
            [ "$from" = "$to" ] && continue
            "$ENTENTE" summary --dir "${DIR[$to]}" --out "${DIR[$to]}.summary"
            file="${DIR[$from]}-to-${DIR[$to]}.$1.bundle"
            "$ENTENTE" bundle export --to "$to" --summary "${DIR[$to]}.summary" --out "$file" --dir "${DIR[$from]}" >/dev/null
            "$ENTENTE" bundle import "$file" --dir "${DIR[$to]}" >/dev/null
        done
    done
}

step "10. Globex declares sharing policies once, then imports its Salesforce pipeline"
run policy add --type opportunity --where region=EMEA --invite Initech --dir globex
run policy add --type opportunity --where "region=APAC|NA" --invite "Umbra Cloud" --dir globex
run policy add --type opportunity --field next_steps --to Initech --dir globex
echo "Dry run first: what the import would do (nothing is written, nothing leaves):"
run import csv "$EXAMPLES/data/salesforce-opportunities.csv" --map salesforce-opportunity --dry-run --dir globex
run import csv "$EXAMPLES/data/salesforce-opportunities.csv" --map salesforce-opportunity --dir globex
echo "Importing the same file again changes nothing:"
run import csv "$EXAMPLES/data/salesforce-opportunities.csv" --map salesforce-opportunity --dir globex
echo "Who gets what under the policies (first objects):"
"$ENTENTE" policy test --dir globex | head -9 || true

step "11. Workflows: moves are checked; Initech converts a qualified lead into an opportunity"
run move "$ID" business-validation --dir initech
printf '$ entente move %s closed-lost --dir umbra   (refused: a lost deal needs a reason)\n' "$ID"
"$ENTENTE" move "$ID" closed-lost --dir umbra || true
run move "$ID" committed --dir globex
LEAD=$("$ENTENTE" new lead customer="Initrode GmbH" source=referral region=EMEA --with Globex --dir initech)
echo "lead $LEAD"
run move "$LEAD" working --dir initech
run move "$LEAD" qualified --dir initech
OPP=$("$ENTENTE" convert "$LEAD" close_date=2027-05-31 amount="90000 EUR" --dir initech)
echo "opportunity $OPP (converted from the lead, linked both ways)"
exchange 5
exchange 6

step "12. KPI reports, each from its own company's view"
run report --by partner --as-of 2026-12-01 --html globex-qbr.html --dir globex
echo "Initech's view for a screen share with its partners (its private values hidden):"
"$ENTENTE" report --hide-private --as-of 2026-12-01 --dir initech | head -14 || true
echo "(the QBR page with charts: $WORK/globex-qbr.html)"

step "13. Checks"
fail=0
joint() { "$ENTENTE" show "$ID" --json --dir "$1" | awk '/"joint": \{/{on=1} on{print} on&&/^  \}/{exit}'; }
if [ "$(joint globex)" = "$(joint initech)" ] && [ "$(joint initech)" = "$(joint umbra)" ]; then
    echo "joint fields identical on all three nodes: yes"
else
    echo "joint fields identical on all three nodes: NO"; fail=1
fi

# secret value | companies entitled to it
SECRETS=(
    "USD 1,240,000|Globex"
    "60% (Globex forecast)|Globex"
    "31% blended margin|Initech"
    "Architect USD 1,850/day|Initech,Globex"
    "18% EDP discount|Umbra Cloud"
    "USD 50,000 POC credits|Umbra Cloud,Initech"
    "0068d00000KxA1AAAQ|Globex"
    "Dana Whitfield|Globex"
    "Legal redlines, round 2|Globex,Initech"
    "Kick-off scheduled|Globex"
)
echo
printf '%-28s %-22s %s\n' "value" "entitled" "found where it must not be"
for entry in "${SECRETS[@]}"; do
    value="${entry%%|*}"; entitled="${entry#*|}"
    found=()
    for file in *.bundle; do
        grep -a -F -q -- "$value" "$file" && found+=("$file (plaintext)")
        to="${file#*-to-}"; to="${to%%.*}"
        for c in "${COMPANIES[@]}"; do
            if [ "${DIR[$c]}" = "$to" ] && [[ ",$entitled," != *",$c,"* ]]; then
                "$ENTENTE" bundle inspect "$file" --dir "$to" | grep -F -q -- "$value" && found+=("$file (decrypted by $c)")
            fi
        done
    done
    for c in "${COMPANIES[@]}"; do
        [[ ",$entitled," == *",$c,"* ]] && continue
        for db in "${DIR[$c]}"/entente.sqlite*; do
            grep -a -F -q -- "$value" "$db" && found+=("$db")
        done
    done
    if [ ${#found[@]} -eq 0 ]; then
        printf '%-28s %-22s %s\n' "$value" "$entitled" "none"
    else
        printf '%-28s %-22s %s\n' "$value" "$entitled" "${found[*]}"; fail=1
    fi
done
echo
echo "scanned $(ls *.bundle | wc -l) bundle files (raw, and decrypted by their recipient) and every other company's database files"
if grep -a -F -q -- "USD 1,240,000" globex/entente.sqlite*; then
    echo "sanity check: the same scan does find Globex's deal size in Globex's own database: yes"
else
    echo "sanity check: the scan cannot find Globex's deal size even in Globex's own database"; fail=1
fi
if [ $fail -ne 0 ]; then echo "DEMO FAILED"; exit 1; fi
echo "No private value was found outside the companies entitled to it."
echo "(node directories kept in $WORK)"
