#!/usr/bin/env bash
# Differential check of Helm values parsing against the real helm binary.
#
# Usage:
#   scripts/helm-values-differential.sh            # regenerate into a temp dir, diff with committed files
#   scripts/helm-values-differential.sh --update   # regenerate and overwrite the committed files
#
# Environment: HELM=/path/to/helm skips the installation step.
#
# Fixture: tests/fixtures/helm-values/ (see README.md there). Each YAML file is
# passed to `helm template chart/ -f FILE`; the chart echoes .Values as JSON.
# Outputs (JSON numbers are kept exactly as helm's toJson printed them):
#   expected.json        corpus.yaml as helm sees it
#   expected-types.json  Go type of every value of corpus.yaml
#   cases.json           {file: values} for cases/*.yaml
#   rejects.json         {file: error message} for rejects/*.yaml
#   ambiguous.json       {file: [every distinct result]} for ambiguous/*.yaml,
#                        files whose result varies from run to run. --update
#                        runs each AMBIGUOUS_RUNS_UPDATE times (default 300);
#                        a check runs each AMBIGUOUS_RUNS (default 20) times
#                        and passes if every result seen is a committed one.
#
# Exit status: 0 and "helm-values: ok" when equal; 1 with a diff otherwise;
# 0 and "helm-values: skipped: <reason>" when helm cannot be installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIX="$ROOT/tests/fixtures/helm-values"
UPDATE=0
case "${1:-}" in
    --update) UPDATE=1 ;;
    "") ;;
    *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

command -v python3 >/dev/null 2>&1 || { echo "helm-values: skipped: python3 not found"; exit 0; }

if [[ -z "${HELM:-}" ]]; then
    if ! HELM="$("$ROOT/scripts/install-helm.sh" 2>"${TMPDIR:-/tmp}/install-helm.$$.err")"; then
        reason="$(tail -n1 "${TMPDIR:-/tmp}/install-helm.$$.err" 2>/dev/null || true)"
        rm -f "${TMPDIR:-/tmp}/install-helm.$$.err"
        echo "helm-values: skipped: ${reason:-helm could not be installed}"
        exit 0
    fi
    rm -f "${TMPDIR:-/tmp}/install-helm.$$.err"
fi
[[ -x "$HELM" ]] || { echo "helm-values: skipped: $HELM is not executable"; exit 0; }

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
RAW="$OUT/raw"
mkdir -p "$RAW"

# render FILE NAME: writes RAW/NAME.values, RAW/NAME.types (base64-decoded
# toJson output) on success, RAW/NAME.error on failure.
render() {
    local file="$1" name="$2" out rc=0
    out="$(cd "$FIX" && "$HELM" template values-echo chart -f "$file" 2>&1)" || rc=$?
    if [[ $rc -ne 0 ]]; then
        # Drop the path-dependent "Error: failed to parse FILE: " prefix.
        printf '%s\n' "$out" | sed -e "s|^Error: failed to parse $file: ||" -e 's|^Error: ||' >"$RAW/$name.error"
        return 0
    fi
    printf '%s\n' "$out" | sed -n 's/^  values\.json\.b64: "\(.*\)"$/\1/p' | base64 -d >"$RAW/$name.values"
    printf '%s\n' "$out" | sed -n 's/^  types\.json\.b64: "\(.*\)"$/\1/p' | base64 -d >"$RAW/$name.types"
}

render corpus.yaml corpus
if [[ $UPDATE -eq 1 ]]; then runs="${AMBIGUOUS_RUNS_UPDATE:-300}"; else runs="${AMBIGUOUS_RUNS:-20}"; fi
for f in "$FIX"/ambiguous/*.yaml; do
    for ((i = 0; i < runs; i++)); do render "ambiguous/$(basename "$f")" "ambiguous__$(basename "$f")__$i"; done
done
for f in "$FIX"/cases/*.yaml; do render "cases/$(basename "$f")" "cases__$(basename "$f")"; done
for f in "$FIX"/rejects/*.yaml; do render "rejects/$(basename "$f")" "rejects__$(basename "$f")"; done

GEN="$OUT/gen"
mkdir -p "$GEN"
python3 - "$RAW" "$GEN" "$FIX/ambiguous.json" "$UPDATE" <<'PY'
import json, os, sys

raw, gen, committed_ambiguous, update = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

class Num(str):
    """A JSON number token, kept verbatim."""

def load(text):
    return json.loads(text, parse_int=Num, parse_float=Num)

def dump(v, ind=0):
    pad = "  " * (ind + 1)
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [pad + json.dumps(k, ensure_ascii=False) + ": " + dump(v[k], ind + 1)
                 for k in sorted(v)]
        return "{\n" + ",\n".join(items) + "\n" + "  " * ind + "}"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + ",\n".join(pad + dump(x, ind + 1) for x in v) + "\n" + "  " * ind + "]"
    return json.dumps(v, ensure_ascii=False)

def read(name, ext):
    p = os.path.join(raw, name + "." + ext)
    if not os.path.exists(p):
        return None
    with open(p, encoding="utf-8") as fh:
        return fh.read()

def write(fname, value):
    with open(os.path.join(gen, fname), "w", encoding="utf-8") as fh:
        fh.write(dump(value) + "\n")

names = sorted({f.rsplit(".", 1)[0] for f in os.listdir(raw)})

err = read("corpus", "error")
write("expected.json", load(read("corpus", "values")) if err is None else "ERROR: " + err.strip())
write("expected-types.json", load(read("corpus", "types")) if err is None else "ERROR: " + err.strip())

cases, rejects, ambiguous = {}, {}, {}
for n in names:
    group, _, fname = n.partition("__")
    e = read(n, "error")
    if group == "ambiguous":
        fname = fname.rsplit("__", 1)[0]
        result = load(read(n, "values")) if e is None else "ERROR: " + e.strip()
        ambiguous.setdefault(fname, {})[dump(result)] = result
        continue
    if group == "cases":
        cases[fname] = load(read(n, "values")) if e is None else "ERROR: " + e.strip()
    elif group == "rejects":
        rejects[fname] = e.strip() if e is not None else "UNEXPECTEDLY ACCEPTED: " + read(n, "values")
write("cases.json", cases)
# Sorted by their pretty JSON text so that the list is deterministic.
amb = {f: [r[k] for k in sorted(r)] for f, r in ambiguous.items()}
if not update and os.path.exists(committed_ambiguous):
    # A check passes when every result seen is among the committed ones.
    with open(committed_ambiguous, encoding="utf-8") as fh:
        committed = load(fh.read())
    for f, results in amb.items():
        known = {dump(x): x for x in committed.get(f, [])}
        seen = {dump(x): x for x in results}
        if set(seen) <= set(known):
            amb[f] = committed[f]
        else:
            known.update(seen)
            amb[f] = [known[k] for k in sorted(known)]
write("ambiguous.json", amb)
write("rejects.json", rejects)
PY

if [[ $UPDATE -eq 1 ]]; then
    cp "$GEN"/*.json "$FIX"/
    echo "helm-values: updated $(cd "$GEN" && ls *.json | tr '\n' ' ')"
    exit 0
fi

status=0
for f in expected.json expected-types.json cases.json rejects.json ambiguous.json; do
    if ! diff -u "$FIX/$f" "$GEN/$f" --label "committed/$f" --label "helm/$f"; then
        status=1
    fi
done
if [[ $status -eq 0 ]]; then
    echo "helm-values: ok"
else
    echo "helm-values: MISMATCH between committed fixtures and $("$HELM" version --template '{{.Version}}')" >&2
fi
exit $status
