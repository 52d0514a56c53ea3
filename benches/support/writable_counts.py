#!/usr/bin/env python3
"""What immutabot, Checkov and Semgrep flag on the same files, from their JSON reports.

    writable_counts.py IMMUTABOT.json CHECKOV.json SEMGREP.json

Prints one markdown table row per tool (a report that is missing or empty gives "-"), for
scripts/bench. The tools count differently: immutabot and Semgrep report a unit per
container or service, Checkov's CKV_K8S_22 one result per workload, so the table shows
workloads too where a tool's report allows it.
"""

import json
import sys


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def immutabot(report):
    containers = workloads = services = unknown = skipped = 0
    for file in report.get("files", []):
        if file.get("format") == "skipped":
            skipped += 1
        seen = set()
        for unit in file.get("units", []):
            state = unit.get("read_only")
            if state == "unknown":
                unknown += 1
            if state != "false":
                continue
            if unit.get("role") == "service":
                services += 1
            else:
                containers += 1
                seen.add((unit.get("namespace"), unit.get("workload")))
        workloads += len(seen)
    return [str(containers), str(workloads), str(services), f"{unknown} unknown, {skipped} files skipped"]


def checkov(report):
    # One framework gives a dict; several (or none) a list.
    reports = report if isinstance(report, list) else [report]
    failed = passed = errors = 0
    for r in reports:
        if not isinstance(r, dict):
            continue
        summary = r.get("summary", {})
        failed += summary.get("failed", 0)
        passed += summary.get("passed", 0)
        errors += summary.get("parsing_errors", 0)
    return ["-", str(failed), "-", f"{passed} workloads passed, {errors} parsing errors"]


def semgrep(report):
    containers = services = 0
    for result in report.get("results", []):
        rule = result.get("check_id", "")
        if rule.endswith("kubernetes-container-writable-root-fs"):
            containers += 1
        elif rule.endswith("compose-service-writable-root-fs"):
            services += 1
    errors = len(report.get("errors", []))
    scanned = len(report.get("paths", {}).get("scanned", []))
    return [str(containers), "-", str(services), f"{scanned} files scanned, {errors} errors"]


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    tools = [
        ("immutabot", argv[1], immutabot),
        ("Checkov CKV_K8S_22", argv[2], checkov),
        ("Semgrep (our rules)", argv[3], semgrep),
    ]
    print("| Tool | K8s writable containers | K8s workloads with one | Compose writable services | Notes |")
    print("|---|---:|---:|---:|---|")
    for name, path, count in tools:
        report = load(path)
        cells = count(report) if report is not None else ["-", "-", "-", "not run"]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv)
