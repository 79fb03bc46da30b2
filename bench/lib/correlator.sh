# Sourced by bench scripts: a private `mtool correlator` on a testbed uplink, and its teardown.
# Uses the caller's MTOOL, PIN_DIR, SOCKET and WORK; sets CORRELATOR to its pid.
CORRELATOR=""

start_bench_correlator() {  # uplink [more correlator options]
  rm -rf "$PIN_DIR"
  "$MTOOL" correlator --uplink "$1" "${@:2}" --pin-dir "$PIN_DIR" --socket "$SOCKET" 2>"$WORK/correlator.log" &
  CORRELATOR=$!
  for _ in $(seq 50); do "$MTOOL" correlator status --socket "$SOCKET" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: the correlator did not start:" >&2
  cat "$WORK/correlator.log" >&2
  exit 1
}

stop_bench_correlator() {
  if [[ -n $CORRELATOR ]]; then
    kill "$CORRELATOR" 2>/dev/null || true
    wait "$CORRELATOR" 2>/dev/null || true
    CORRELATOR=""
  fi
  rm -rf "$PIN_DIR" "$(dirname "$SOCKET")"
}
