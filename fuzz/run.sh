#!/usr/bin/env bash
# Builds the libFuzzer targets (in build-fuzz/ unless WFTPD_FUZZ_BUILD says otherwise) and runs
# one target, or all of them, for a fixed time on a temporary copy of the seed corpus.
#
#   fuzz/run.sh TARGET [SECONDS]     e.g. fuzz/run.sh fuzz_monitor_messages 300 (the fuzz_
#                                    prefix may be left out: fuzz/run.sh postauth_engine 30)
#   fuzz/run.sh all [SECONDS]        every target, then one summary line per target
#   fuzz/run.sh list                 the target names
#
# SECONDS defaults to 60. Exit status: 0 when no target crashed, 1 otherwise. A crashing
# input is kept in the temporary directory (its path is printed); copy it to
# fuzz/crashes/TARGET/ if it is a project bug. New corpus entries found during the run are not
# written back to fuzz/corpus/ (merge them with -merge=1 by hand if they are worth keeping).
#
# Environment:
#   WFTPD_FUZZ_BUILD     build directory (default: <repo>/build-fuzz)
#   WFTPD_FUZZ_CXXFLAGS  extra CMAKE_CXX_FLAGS for the first configure
#   WFTPD_FUZZ_JOBS      parallel build jobs (default: nproc)
#   WFTPD_FUZZ_ARGS      extra libFuzzer arguments, e.g. "-jobs=2 -workers=2"
#   WFTPD_FUZZ_KEEP=1    keep the temporary directory even when nothing crashed
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${WFTPD_FUZZ_BUILD:-$ROOT/build-fuzz}
FUZZ_DIR=$ROOT/fuzz

TARGETS=(fuzz_control_line_reader fuzz_ftp_command fuzz_active_argument fuzz_ftp_path
         fuzz_listing fuzz_config fuzz_users_file fuzz_policy_parser fuzz_monitor_messages
         fuzz_preauth_engine fuzz_postauth_engine fuzz_wildcard fuzz_proxy_header
         fuzz_monitor_dispatch fuzz_sign_request fuzz_control_request fuzz_session_report)

usage() {
  echo "usage: $0 TARGET|all|list [SECONDS]" >&2
  exit 2
}

# Per-target -max_len: big enough for every limit the code checks, small enough to stay fast.
max_len_for() {
  case $1 in
    fuzz_control_line_reader) echo 1024 ;;  # max_line is mostly 0..63: limits are reached
    fuzz_ftp_command) echo 1024 ;;
    fuzz_active_argument) echo 256 ;;       # EPRT arguments are at most 128 bytes
    fuzz_ftp_path) echo 8192 ;;             # past the 4096-byte result and 256 components
    fuzz_listing) echo 1024 ;;
    fuzz_config) echo 8192 ;;               # 4096-byte lines
    fuzz_users_file) echo 8192 ;;
    fuzz_policy_parser) echo 8192 ;;        # 4096-byte lines
    fuzz_monitor_messages) echo 9000 ;;     # a full 8192-byte Handoff plus framing
    fuzz_preauth_engine) echo 8192 ;;
    fuzz_postauth_engine) echo 8192 ;;     # 3 header bytes, <= 255 upload bytes, the stream
    fuzz_wildcard) echo 600 ;;              # past the 255-byte pattern limit
    fuzz_sign_request) echo 256 ;;          # a 64-byte digest plus framing, and more
    *) echo 4096 ;;
  esac
}

uses_dict() {
  case $1 in
    fuzz_control_line_reader | fuzz_ftp_command | fuzz_preauth_engine | fuzz_postauth_engine) return 0 ;;
    *) return 1 ;;
  esac
}

build() {
  if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DWFTPD_FUZZ=ON -DWFTPD_BUILD_TESTS=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo ${WFTPD_FUZZ_CXXFLAGS:+"-DCMAKE_CXX_FLAGS=$WFTPD_FUZZ_CXXFLAGS"}
  fi
  # Only the fuzzers: the daemon and tools are not needed (and see fuzz/README.md about them).
  cmake --build "$BUILD" --target "$@" -j "${WFTPD_FUZZ_JOBS:-$(nproc)}"
}

SUMMARY=()

# run_target NAME SECONDS -> 0 ok, 1 crash (or any other libFuzzer failure)
run_target() {
  local name=$1 seconds=$2
  local binary=$BUILD/fuzz/$name
  [[ -x $binary ]] || { echo "no such fuzzer: $binary" >&2; return 1; }
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/wftpd-$name.XXXXXX")
  mkdir -p "$work/corpus" "$work/artifacts"
  if [[ -d $FUZZ_DIR/corpus/$name ]]; then cp -r "$FUZZ_DIR/corpus/$name/." "$work/corpus/"; fi
  local args=(-max_total_time="$seconds" -max_len="$(max_len_for "$name")" -rss_limit_mb=2048
              -timeout=25 -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  if uses_dict "$name"; then args+=(-dict="$FUZZ_DIR/ftp.dict"); fi
  if [[ $name == fuzz_proxy_header ]]; then args+=(-dict="$FUZZ_DIR/proxy.dict"); fi
  # The dispatcher logs like the monitor (every refusal); keep libFuzzer's and the sanitizers'
  # reports, drop the target's own stderr.
  if [[ $name == fuzz_monitor_dispatch ]]; then args+=(-close_fd_mask=2); fi
  # shellcheck disable=SC2206
  args+=(${WFTPD_FUZZ_ARGS:-})

  echo "=== $name: ${seconds}s, log in $work/fuzz.log"
  local status=0
  # Leaks inside libseccomp itself are suppressed (see fuzz/lsan.supp); ours are not.
  LSAN_OPTIONS="suppressions=$FUZZ_DIR/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
    "$binary" "${args[@]}" "$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?
  tail -n 25 "$work/fuzz.log"

  local execs rate cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -n1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$work/fuzz.log" | tail -n1 | cut -d' ' -f2)
  local verdict=ok
  if [[ $status -ne 0 ]] || compgen -G "$work/artifacts/*" >/dev/null; then
    verdict="CRASH (exit $status; artifacts in $work/artifacts)"
  fi
  SUMMARY+=("$(printf '%-26s execs/s %-8s execs %-10s cov: %-6s ft: %-6s %s' "$name" \
    "${rate:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$verdict")")
  if [[ $verdict == ok ]]; then
    [[ ${WFTPD_FUZZ_KEEP:-0} == 1 ]] || rm -rf "$work"
    return 0
  fi
  echo "$name: $verdict" >&2
  return 1
}

[[ $# -ge 1 ]] || usage
what=$1
seconds=${2:-60}
[[ $seconds =~ ^[0-9]+$ ]] || usage

case $what in
  list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
  all) build wftpd_fuzzers; selected=("${TARGETS[@]}") ;;
  *)
    # "postauth_engine" names fuzz_postauth_engine.
    [[ $what == fuzz_* ]] || what=fuzz_$what
    [[ " ${TARGETS[*]} " == *" $what "* ]] || usage
    build "$what"; selected=("$what") ;;
esac

failed=0
for name in "${selected[@]}"; do
  run_target "$name" "$seconds" || failed=1
done

echo
echo "=== summary (${seconds}s per target)"
printf '%s\n' "${SUMMARY[@]}"
exit $failed
