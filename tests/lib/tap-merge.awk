# SPDX-License-Identifier: MIT
# tests/lib/tap-merge.awk — one TAP stream out of the output of one or more test
# programs: cmocka (CMOCKA_MESSAGE_OUTPUT=tap), kselftest, scripts using
# tests/lib/tap.sh, anything printing "ok"/"not ok" lines.
#
#   awk -f tests/lib/tap-merge.awk [-v plan=0] [-v prefix=NAME] [FILE...]
#
# Test lines are written unnumbered ("ok - desc", "not ok - desc", directives kept),
# so streams can be concatenated; each input's own plans are checked and dropped,
# and one plan for the whole output ends it (unless plan=0; none without a test
# line). Everything else
# becomes a "# " comment, so no stray line can count as a test.
#   - A plan "1..N" before its results (cmocka, kselftest) opens a section; a section
#     that ends (next plan, end of input) with fewer than N results adds one
#     "not ok - only K of N tests reported" (a program that crashed). A plan after
#     its results must match their count the same way.
#   - "1..0 # SKIP reason" (a program that skipped itself) becomes one skipped test.
#   - "not ok N # SKIP name" (cmocka's skip) is a skip, not a failure (its reason:
#     the line before, the test's message); cmocka's
#     "not ok 0 - GROUP [ FAILED ] GROUP SETUP" is a failure outside the count.
#   - prefix=NAME puts "NAME: " before every description.
BEGIN {
	if (plan == "")
		plan = 1
	pfx = (prefix != "") ? prefix ": " : ""
	n = 0; sec_plan = -1; sec_got = 0
}

function emit(line) { print line; n++ }

function close_section() {
	if (sec_plan > 0 && sec_got < sec_plan)
		emit("not ok - " pfx "only " sec_got " of " sec_plan " tests reported")
	sec_plan = -1; sec_got = 0
}

/^TAP version [0-9]+/ { print "# " $0; next }

/^1\.\.[0-9]+/ {
	count = $0; sub(/^1\.\./, "", count); sub(/[^0-9].*$/, "", count); count += 0
	if (count == 0) {
		reason = $0
		if (!sub(/^[^#]*#[ \t]*([Ss][Kk][Ii][Pp][A-Za-z]*)?[ \t]*/, "", reason))
			reason = "no tests"
		close_section()
		emit("ok - " pfx "# SKIP " reason)
		next
	}
	if (sec_plan < 0 && sec_got > 0) {	# a plan after its results
		if (sec_got != count)
			emit("not ok - " pfx "planned " count " tests, " sec_got " reported")
		sec_got = 0
		next
	}
	close_section()
	sec_plan = count
	next
}

/^(not )?ok([ \t]|$)/ {
	failed = ($0 ~ /^not ok/)
	rest = $0
	sub(/^(not )?ok[ \t]*/, "", rest)
	num = ""
	if (match(rest, /^[0-9]+/)) {
		num = substr(rest, 1, RLENGTH)
		rest = substr(rest, RLENGTH + 1)
	}
	sub(/^[ \t]*(-[ \t]*)?/, "", rest)
	skip = (rest ~ /#[ \t]*[Ss][Kk][Ii][Pp]/)
	if (skip)
		failed = 0
	if (skip && rest ~ /^#/) {	# cmocka: "# SKIP name", its message on the line before
		name = rest; sub(/^#[ \t]*[Ss][Kk][Ii][Pp][ \t]*/, "", name)
		rest = name " # SKIP " (prev != "" ? prev : "(no reason given)")
	}
	prev = ""
	if (num == "0" && failed) {	# cmocka: a group's setup or teardown failed
		emit("not ok - " pfx rest)
		next
	}
	emit((failed ? "not ok - " : "ok - ") pfx rest)
	sec_got++
	next
}

/^Bail out!/ { print "# " $0; emit("not ok - " pfx $0); next }

/^#/ { print; prev = $0; sub(/^#[ \t]*/, "", prev); next }

{ print "# " $0; prev = $0 }

END {
	close_section()
	if (plan && n > 0)	# (no test line: no plan, and a TAP consumer says so)
		print "1.." n
}
