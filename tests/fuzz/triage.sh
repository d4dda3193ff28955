#!/usr/bin/env bash
# Replays each crash artifact of a fuzzer and says whose bug it is:
#   hdf5    the first frame outside the sanitizer runtime and libc is inside libhdf5 (the system
#           HDF5 1.10 mis-handles some malformed files: overflows, leaks on error paths, huge
#           allocations from corrupt lengths; not fixable from here)
#   ours    anything else that reproduces (our frames, uncaught exceptions, UBSan reports)
#   norepro the input alone does not reproduce it (fork mode can blame the last input of a
#           child for a leak or crash that built up over several)
#   tests/fuzz/triage.sh FUZZER_BINARY ARTIFACT...
# Prints one line per artifact; exit status 1 when any artifact is "ours".
bin=$1; shift
ours=0
skip='(__interceptor_|__asan|__sanitizer|__ubsan|__lsan|fuzzer::|libc\.so|sysdeps/| in (malloc|calloc|realloc|free|memcpy|memmove|memset|strlen|operator new|operator delete)\b)'
for a in "$@"; do
  report=$("$bin" -rss_limit_mb=2048 -timeout=20 "$a" 2>&1 || true)
  # Not a bare "timeout": it matches the "Running: <artifact>" line of a timeout-* artifact and the
  # ALARM line before libFuzzer's "ERROR: libFuzzer: timeout after N seconds".
  what=$(printf '%s\n' "$report" | grep -E 'ERROR: |runtime error:|deadly signal|uncaught' | head -n 1 | sed 's/^ *//')
  frame=$(printf '%s\n' "$report" | grep -E '^ +#[0-9]+ ' | grep -vE "$skip" | head -n 1)
  if [ -z "$what" ]; then
    who=norepro
  elif printf '%s' "$frame" | grep -q 'libhdf5'; then
    who=hdf5
  else
    who=ours
    ours=1
  fi
  fn=$(printf '%s' "$frame" | sed -E 's/.* in ([^ (]+).*/\1/; s/^ *#[0-9]+ 0x[0-9a-f]+ +\((.*)\).*/\1/')
  echo "$who  $(basename "$a")  ${what:0:90}  at ${fn:-?}"
done
exit $ours
