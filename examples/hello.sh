#!/usr/bin/env bash
# A tiny service for trying wrapp: `wrapp run examples/hello.toml`.
# It shows every output convention wrapp understands, then exits 0.
set -euo pipefail

echo "hello from $(basename "$0") (pid $$)"
for i in 1 2 3; do
  sleep 0.2
  # {{name}} increments counter "name"; {{name:value}} sets "name" to value.
  echo "processed item $i {{processed}} {{queue_depth:$((3 - i))}}"
done

# Lines between >>| and |<< become one multi-line entry.
echo ">>|"
echo "status report"
echo "  items: 3"
echo "  errors: 0"
echo "|<<"

echo "this line goes to stderr" >&2
sleep 0.2
echo "goodbye"
