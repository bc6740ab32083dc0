#!/usr/bin/env python3
"""Verifies every ```mlir block that holds a func.func in the given markdown
files with `attn-opt --verify-roundtrip`, so the docs stay true."""

import re
import subprocess
import sys
import tempfile


def main() -> int:
    attn_opt, docs = sys.argv[1], sys.argv[2:]
    checked, failures = 0, []
    for doc in docs:
        text = open(doc).read()
        for match in re.finditer(r"```mlir\n(.*?)```", text, flags=re.S):
            snippet = match.group(1)
            if "func.func" not in snippet:
                continue
            line = text[: match.start()].count("\n") + 2
            with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
                f.write(snippet)
                f.flush()
                result = subprocess.run(
                    [attn_opt, "--verify-roundtrip", f.name, "-o", "/dev/null"],
                    capture_output=True,
                    text=True,
                )
            checked += 1
            if result.returncode != 0:
                failures.append(f"{doc}:{line}: snippet fails:\n{result.stderr}")
    for failure in failures:
        print(failure)
    print(f"{checked} snippets checked, {len(failures)} failures")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
