#!/usr/bin/env python3
"""Regenerate the chart data embedded in z2jh-policy from a z2jh git checkout.

Usage:
    scripts/update-chart-data.py Z2JH_GIT_DIR [--out chart-data] [--check]

Z2JH_GIT_DIR is a clone of https://github.com/jupyterhub/zero-to-jupyterhub-k8s
(a bare clone is enough); its release tags must be fetched. For every release
tag of the 3.x and 4.x lines (pre-releases skipped) the script reads, at that
tag:

- jupyterhub/values.schema.yaml: converted to JSON with the `description`
  annotation removed from every schema node (only schema positions are walked,
  so a chart key that happens to be called `description` stays); this is the
  published values.schema.json, which drops the same prose;
- jupyterhub/values.yaml: parsed into plain data (comments and layout go);
  image tags keep the `set-by-chartpress` placeholder, which the program
  replaces with the release version when it loads the defaults, so that
  releases with equal defaults share one file;
- jupyterhub/Chart.yaml: appVersion and kubeVersion.

Output (under --out, default chart-data/ beside this script's parent):

- blobs/<hash>.json: minified JSON, named by the first 16 hex digits of the
  SHA-256 of its bytes; equal content is stored once;
- index.json: one line per release, oldest first, naming its schema and
  defaults blobs.

With --check nothing is written; the exit status is 1 when the committed
files differ from what the checkout gives.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

import yaml

RELEASE = re.compile(r"^([34])\.(\d+)\.(\d+)$")
PLACEHOLDER = "set-by-chartpress"


def git_show(repo, tag, path):
    return subprocess.run(
        ["git", "--git-dir", repo, "show", f"{tag}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def git_dir(path):
    out = subprocess.run(
        ["git", "-C", path, "rev-parse", "--git-dir"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return os.path.join(path, out) if not os.path.isabs(out) else out


def releases(repo):
    tags = subprocess.run(
        ["git", "--git-dir", repo, "tag", "--list"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    found = [t for t in tags if RELEASE.match(t)]
    return sorted(found, key=lambda t: tuple(int(p) for p in t.split(".")))


MAP_KEYWORDS = ("properties", "patternProperties", "definitions", "$defs")
NODE_KEYWORDS = ("items", "additionalProperties", "additionalItems", "not", "if",
                 "then", "else", "propertyNames", "contains")
LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")


def strip_descriptions(node):
    """Drops the `description` annotation from a schema node and every
    subschema under it. Only schema positions are walked, so a chart key
    named `description` (a member of `properties`) and values under `enum`,
    `const` or `default` stay as they are."""
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "description":
            continue
        if k in MAP_KEYWORDS and isinstance(v, dict):
            v = {name: strip_descriptions(sub) for name, sub in v.items()}
        elif k in NODE_KEYWORDS:
            v = [strip_descriptions(x) for x in v] if isinstance(v, list) else strip_descriptions(v)
        elif k in LIST_KEYWORDS and isinstance(v, list):
            v = [strip_descriptions(x) for x in v]
        out[k] = v
    return out


def minified(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def blob_name(data):
    return hashlib.sha256(data).hexdigest()[:16]


def build(repo):
    blobs = {}
    index = []
    for tag in releases(repo):
        schema = strip_descriptions(
            yaml.safe_load(git_show(repo, tag, "jupyterhub/values.schema.yaml"))
        )
        defaults = yaml.safe_load(git_show(repo, tag, "jupyterhub/values.yaml"))
        chart = yaml.safe_load(git_show(repo, tag, "jupyterhub/Chart.yaml"))
        entry = {"version": tag}
        for key in ("appVersion", "kubeVersion"):
            if chart.get(key):
                entry[key] = str(chart[key])
        for kind, data in (("schema", schema), ("defaults", defaults)):
            raw = minified(data)
            name = blob_name(raw)
            blobs[name] = raw
            entry[kind] = name
        index.append(entry)
    lines = ",\n".join("    " + json.dumps(e, ensure_ascii=False) for e in index)
    index_text = (
        '{\n  "placeholder": "%s",\n  "releases": [\n%s\n  ]\n}\n'
        % (PLACEHOLDER, lines)
    )
    return index_text.encode(), blobs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkout", help="z2jh git checkout (bare is fine)")
    p.add_argument("--out", default=os.path.join(here, os.pardir, "chart-data"))
    p.add_argument("--check", action="store_true", help="compare, write nothing")
    a = p.parse_args()
    index, blobs = build(git_dir(a.checkout))
    blob_dir = os.path.join(a.out, "blobs")
    wanted = {f"{n}.json": b for n, b in blobs.items()}
    present = set(os.listdir(blob_dir)) if os.path.isdir(blob_dir) else set()
    index_path = os.path.join(a.out, "index.json")
    if a.check:
        stale = []
        try:
            with open(index_path, "rb") as f:
                if f.read() != index:
                    stale.append("index.json")
        except FileNotFoundError:
            stale.append("index.json")
        for name, data in wanted.items():
            path = os.path.join(blob_dir, name)
            if not os.path.exists(path) or open(path, "rb").read() != data:
                stale.append(f"blobs/{name}")
        stale.extend(f"blobs/{n} (unused)" for n in sorted(present - set(wanted)))
        if stale:
            print("chart data out of date:\n  " + "\n  ".join(stale), file=sys.stderr)
            return 1
        print(f"chart data up to date ({len(index.splitlines()) - 5} releases)")
        return 0
    os.makedirs(blob_dir, exist_ok=True)
    for name in present - set(wanted):
        os.remove(os.path.join(blob_dir, name))
    for name, data in wanted.items():
        with open(os.path.join(blob_dir, name), "wb") as f:
            f.write(data)
    with open(index_path, "wb") as f:
        f.write(index)
    size = sum(len(b) for b in blobs.values())
    print(
        f"wrote {len(index.splitlines()) - 5} releases, {len(blobs)} blobs "
        f"({size} bytes) to {os.path.relpath(a.out)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
