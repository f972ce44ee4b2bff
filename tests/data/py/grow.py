"""Allocates 40 x 256 KiB at one line and keeps it: a known heap growth."""
import sys

KEPT = []
for _ in range(40):
    KEPT.append(bytearray(256 * 1024))  # GROWTH-LINE
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
