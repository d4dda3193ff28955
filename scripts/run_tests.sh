#!/usr/bin/env bash
# Runs the doctest binary given as $1 (other arguments passed on), keeping its whole output in
# $CELLGRAD_TEST_LOG (default: beside the binary). On failure it ends with a short list of the
# failing test cases and their assertions, because CI shows only the last lines of a run and a
# failure printed minutes earlier would otherwise be lost among later test messages.
set -uo pipefail
bin="$1"
shift
log="${CELLGRAD_TEST_LOG:-$(dirname "$bin")/test.log}"
"$bin" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo
  echo "==== failures (whole output in $log) ===="
  # A failure block in doctest's console output: the test case's file:line, "TEST CASE:  name",
  # any SUBCASE lines, then "file:line: ERROR: ..." (or FATAL ERROR) with its values.
  awk '
    /^TEST CASE:/ { tc = $0; sub(/^TEST CASE: +/, "", tc) }
    /: (FATAL )?ERROR: / { if (tc != last) { print "- " tc; last = tc } ; print "    " $0; n++ }
    /^  values: / && n > 0 && n <= 40 { print "    " $0 }
    /^(AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)|^==[0-9]+==ERROR|runtime error:/ { print "  " $0 }
  ' "$log" | head -60
  echo "exit status $rc"
fi
exit "$rc"
