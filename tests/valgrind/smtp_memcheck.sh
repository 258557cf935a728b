#!/bin/bash
# smtp_memcheck.sh: the SMTP scenario tests (tests/smtp/*.sh) again, with
# every spamd process under valgrind memcheck. BIN points at a directory
# whose spamd is a script that execs valgrind on the real binary (the
# other programs are links to the real ones); spamd's forked processes
# are followed, each writing its own report. Valgrind cannot load seccomp
# filters, so tests/valgrind/noseccomp.c (built here with the system
# compiler) is preloaded to stand in for libseccomp: under this test the
# SMTP process runs without its sandbox. The test fails if a
# scenario fails, or if any report shows a memory error (invalid read or
# write, use of uninitialised memory, a bad free) or a definite or
# indirect leak. Reports are kept in $O/test-logs/valgrind/. Known,
# reported problems not fixed yet are suppressed by
# tests/valgrind/known.supp (each entry says why); the count of
# suppressed errors is printed.
#
# VALGRIND_TESTS may name a subset (default: every tests/smtp/*.sh).
# timeout: 600
. tests/lib.sh
need_cmd valgrind "${CC:-cc}"
[ "${SANITIZE:-0}" = 1 ] && skip "a SANITIZE=1 build cannot run under valgrind"
t_tmp

real=$(cd "$BIN" && pwd)
reports=$(cd "$O" && pwd)/test-logs/valgrind
rm -rf "$reports"
mkdir -p "$reports" "$T/vbin"
for p in "$real"/*; do
	ln -s "$p" "$T/vbin/$(basename "$p")"
done
rm -f "$T/vbin/spamd"
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -shared -fPIC -o "$T/noseccomp.so" \
    tests/valgrind/noseccomp.c || fail "cannot build tests/valgrind/noseccomp.c"
cat >"$T/vbin/spamd" <<EOF
#!/bin/sh
LD_PRELOAD=$T/noseccomp.so exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
    --track-origins=yes --trace-children=yes --child-silent-after-fork=no \\
    --suppressions=$TOP/tests/valgrind/known.supp \\
    --log-file="$reports/\${VG_TEST:-spamd}.%p.log" "$real/spamd" "\$@"
EOF
chmod 755 "$T/vbin/spamd"

tests=${VALGRIND_TESTS:-$(ls tests/smtp/*.sh)}
failed=
for t in $tests; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	if VG_TEST=$name BIN=$T/vbin timeout 240 bash "$t" >"$reports/$name.out" 2>&1; then
		st=ok
	else
		st="FAILED (exit $?)"
		failed="$failed $name"
	fi
	echo "$name: $st in $(($(date +%s) - start)) s"
done

# Every report: no error, no definite or indirect leak.
n=0
bad=
for r in "$reports"/*.log; do
	[ -e "$r" ] || continue
	n=$((n + 1))
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$r" | tail -n 1)
	if [ -z "$errs" ]; then
		# a process killed by SIGKILL writes no summary; say so
		echo "$(basename "$r"): no summary (killed?)"
		grep -q 'Process terminating' "$r" && bad="$bad $(basename "$r")"
		continue
	fi
	if [ "$errs" != 0 ] || grep -Eq 'definitely lost: [1-9]|indirectly lost: [1-9]' "$r"; then
		bad="$bad $(basename "$r")"
		sed -n '/ERROR SUMMARY/p; /lost:/p' "$r"
		grep -m 20 -A 12 -E 'Invalid|uninitialised|definitely lost in|indirectly lost in|Mismatched|Syscall param' "$r"
	fi
done
supp=$(cat "$reports"/*.log 2>/dev/null |
    sed -n 's/.*ERROR SUMMARY: .*(suppressed: \([0-9]*\) from.*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }')
echo "$n valgrind reports, $supp errors suppressed by tests/valgrind/known.supp"
[ "$n" -ge 3 ] || fail "only $n valgrind reports: did spamd run under valgrind?"
[ -z "$failed" ] || { for f in $failed; do tail -n 15 "$reports/$f.out"; done; fail "scenarios failed under valgrind:$failed"; }
[ -z "$bad" ] || fail "memcheck found problems in:$bad"
pass "$(echo $tests | wc -w) SMTP scenarios under memcheck: $n reports, no error, no leak"
