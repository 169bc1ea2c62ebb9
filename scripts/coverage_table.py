"""Prints llvm-cov's line coverage per module of Sources/, from the JSON SwiftPM exports
(`swift test --enable-code-coverage`, then `--show-codecov-path`)."""
import collections
import json
import os
import sys

export = json.load(open(sys.argv[1]))
root = os.path.abspath("Sources") + os.sep
lines = collections.defaultdict(lambda: [0, 0])
for data in export["data"]:
    for file in data["files"]:
        name = file["filename"]
        if not name.startswith(root):
            continue
        module = name[len(root):].split(os.sep)[0]
        summary = file["summary"]["lines"]
        lines[module][0] += summary["covered"]
        lines[module][1] += summary["count"]
width = max(len(m) for m in lines) if lines else 6
print(f"{'Module':<{width}}  {'Lines':>7}  {'Covered':>7}  {'Cover':>6}")
total = [0, 0]
for module, (covered, count) in sorted(lines.items()):
    total[0] += covered
    total[1] += count
    print(f"{module:<{width}}  {count:>7}  {covered:>7}  {100 * covered / max(1, count):>5.1f}%")
print(f"{'TOTAL':<{width}}  {total[1]:>7}  {total[0]:>7}  {100 * total[0] / max(1, total[1]):>5.1f}%")
