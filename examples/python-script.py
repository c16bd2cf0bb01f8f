"""A small Python service for wrapp: see python-script.toml.

Run it under `python3 -u` (unbuffered) so each line reaches wrapp when it is printed.
"""

import sys
import time

print("python worker starting")
for i in range(1, 6):
    time.sleep(0.2)
    # {{processed}} increments counter "processed"; {{temperature:42.5}} sets a value.
    print(f"processed batch {i} {{{{processed}}}}")
    print(f"sensor reading {{{{temperature:{40 + i / 2:.1f}}}}}")

# Everything between >>| and |<< is shipped as one entry.
print(">>|")
print("summary")
print("  batches: 5")
print("  last temperature: 42.5")
print("|<<")

print("warning: this goes to stderr", file=sys.stderr)
print("python worker done")
