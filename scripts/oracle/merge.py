"""Helm-style merge of user values files over chart defaults.

Only what the oracle's test inputs need: maps merge recursively, lists and
scalars replace, and a null in a user file deletes the key (as `helm install -f`
does). Nulls already present in the chart defaults are kept, since Helm keeps
them in .Values when no user value touches them.

Usable as a script: merge.py DEFAULTS.yaml [USER.yaml ...] prints JSON.
"""

import copy
import json
import sys

import yaml


def merge(base, override):
    """Return base with override coalesced onto it (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        elif isinstance(value, dict):
            # A new map still has its nulls dropped, like Helm does.
            out[key] = merge({}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def merge_files(defaults_path, user_paths):
    values = load_yaml(defaults_path)
    for path in user_paths:
        values = merge(values, load_yaml(path))
    return values


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: merge.py DEFAULTS.yaml [USER.yaml ...]")
    json.dump(merge_files(sys.argv[1], sys.argv[2:]), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
