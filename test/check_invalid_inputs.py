#!/usr/bin/env python3
"""Feeds each `// -----` split of an invalid-input test file to attn-opt
without -verify-diagnostics and checks that it fails cleanly: exit code 1
(not a crash or a signal) and at least one `file:line:col: error:` line.
The whole file is also run once with --split-input-file and must exit 1."""

import re
import subprocess
import sys
import tempfile


def main() -> int:
    attn_opt, path = sys.argv[1], sys.argv[2]
    text = open(path).read()
    splits = re.split(r"^// -----\s*$", text, flags=re.M)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, split in enumerate(splits):
            chunk = f"{tmp}/split{index}.mlir"
            with open(chunk, "w") as f:
                f.write(split)
            result = subprocess.run([attn_opt, chunk], capture_output=True, text=True)
            located = re.search(r"split%d\.mlir:\d+:\d+: error: " % index, result.stderr)
            if result.returncode != 1 or not located:
                failures.append(
                    f"split {index}: exit {result.returncode}, stderr:\n{result.stderr}"
                )
    whole = subprocess.run(
        [attn_opt, "--split-input-file", path], capture_output=True, text=True
    )
    if whole.returncode != 1:
        failures.append(f"--split-input-file: exit {whole.returncode}\n{whole.stderr}")
    for failure in failures:
        print(failure)
    print(f"{len(splits)} splits checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
