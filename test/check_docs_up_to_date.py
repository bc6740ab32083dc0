#!/usr/bin/env python3
"""Fails when docs/reference differs from the reference that the build
generates from ODS. Run `ninja -C build attn-doc` to refresh it."""

import filecmp
import os
import sys


def main() -> int:
    generated, committed = sys.argv[1], sys.argv[2]
    stale = []
    for name in sorted(os.listdir(generated)):
        theirs = os.path.join(committed, name)
        if not os.path.exists(theirs) or not filecmp.cmp(
            os.path.join(generated, name), theirs, shallow=False
        ):
            stale.append(name)
    if stale:
        print("stale in docs/reference (run `ninja -C build attn-doc`):", *stale)
        return 1
    print("docs/reference matches the generated reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
