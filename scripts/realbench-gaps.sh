#!/bin/bash
# Tiles never-filled gaps into a realbench capture (issue 12): one long keep-alive
# connection per copy of realbench's unit (1000 requests; the capture lost the
# headers of the third response, so everything after it waits behind a hole that
# never fills), starting where each copy starts (2024-01-01T00:00:00Z + k*20 s,
# as ../shared/tools/realbench/make-bench.sh shifts them), merged in.
#   bash scripts/realbench-gaps.sh IN.pcapng COPIES OUT.pcapng
# COPIES: 26 for bench-100m.pcapng, 267 for bench-1g.pcapng (make-bench.sh prints
# N100 and N1G). Needs mergecap (tshark's wireshark-common).
set -euo pipefail
in=${1:?realbench capture} n=${2:?number of copies} out=${3:?output}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go run ./internal/cmd/gencap -keepalive 1000 -body 600 -lose-response 2 -lose-segment 0 \
  -copies "$n" -step 20s -start 2024-01-01T00:00:20Z -o "$tmp/gaps.pcap"
mergecap -F pcapng -w "$out" "$in" "$tmp/gaps.pcap"
ls -l "$out"
