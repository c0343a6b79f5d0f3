#!/usr/bin/env python3
"""Merges the summary.json files of several `buddy eval` runs into one, as results/<model>/summary.json expects:
{"model": ..., "methods": {method: {budget: {...}}}}. Later files win where two runs report the same method and budget,
so a run can be redone without editing the others. Optional --rename OLD=NEW renames a method (for ablation runs that
evaluate the same router file under another setting). Written atomically (temp file, then rename)."""
import argparse
import json
import os
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", required=True, help="merged summary.json to write")
    parser.add_argument("inputs", nargs="+", help="summary.json files, optionally FILE:OLD=NEW to rename a method")
    args = parser.parse_args()
    merged = {"model": None, "methods": {}}
    for spec in args.inputs:
        path, _, rename = spec.partition(":")
        try:
            with open(path, encoding="utf-8") as f:
                summary = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"merge-eval-summaries: cannot read {path}: {e}")
        if merged["model"] is None:
            merged["model"] = summary.get("model")
        elif summary.get("model") != merged["model"]:
            sys.exit(f"merge-eval-summaries: {path} is for {summary.get('model')}, not {merged['model']}")
        old, _, new = rename.partition("=")
        for method, budgets in summary.get("methods", {}).items():
            name = new if rename and method == old else method
            merged["methods"].setdefault(name, {}).update(budgets)
    directory = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.output)
    print(f"wrote {args.output}: " + ", ".join(f"{m} ({len(b)} budgets)" for m, b in merged["methods"].items()))


if __name__ == "__main__":
    main()
