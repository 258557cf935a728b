#!/bin/bash
# replay.sh: every fuzzing harness replays its whole corpus as a
# regression test: the replay build ($TBIN/fuzz-NAME, made by `make
# tests' with the normal compiler, and with ASan/UBSan under SANITIZE=1)
# runs LLVMFuzzerTestOneInput on each file of tests/fuzz/corpus/NAME/.
# A harness aborts on a broken invariant and a sanitizer on a memory
# error; either fails this test, naming the input. Each corpus must hold
# at least MIN_INPUTS files, so an emptied corpus cannot pass silently.
# timeout: 300
. tests/lib.sh

MIN_INPUTS=5
names=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_\(.*\)\.c$/\1/')
[ -n "$names" ] || fail "no harness in tests/fuzz"
t_tmp
total=0
for n in $names; do
	bin=$TBIN/fuzz-$n
	dir=tests/fuzz/corpus/$n
	[ -x "$bin" ] || fail "$bin missing: run make tests"
	[ -d "$dir" ] || fail "harness $n has no corpus $dir"
	count=$(find "$dir" -maxdepth 1 -type f | wc -l)
	[ "$count" -ge "$MIN_INPUTS" ] ||
		fail "corpus $dir holds $count inputs, fewer than $MIN_INPUTS"
	if ! "$bin" "$dir" >"$T/$n.out" 2>&1; then
		# the start of the report, and the input it was about
		grep -m 1 -A 20 -E 'ERROR: AddressSanitizer|runtime error|invariant broken|ERROR: LeakSanitizer' "$T/$n.out" ||
			tail -n 30 "$T/$n.out"
		grep 'the input was' "$T/$n.out"
		fail "harness $n failed on its corpus"
	fi
	ran=$(sed -n 's/^replay: \([0-9]*\) inputs$/\1/p' "$T/$n.out")
	[ "$ran" = "$count" ] || fail "harness $n ran ${ran:-no} inputs of $count"
	echo "$n: $ran inputs"
	total=$((total + ran))
done
pass "$total inputs replayed without a finding"
