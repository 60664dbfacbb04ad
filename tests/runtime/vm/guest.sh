#!/bin/bash
# SPDX-License-Identifier: MIT
# In the guest (anpu-vp run, from tests/runtime/vm/run.sh): the runs the host made
# on the in-process NPU, again through anpu.ko (/dev/accel/accel0), compared with
# the host's token ids and logits bytes; the host's session file restored here and
# this side's own save compared byte for byte; the "does not fit" errors of the
# kernel path. Prints TAP lines.   guest.sh BUILD_DIR EXPECTED_DIR
B=$1 E=$2
RUN=$B/bin/anpu-run
DEV=/dev/accel/accel0
T=$((300 * ${ANPU_VP_TIMEOUT_SCALE:-1}))
. "$E/env"
ok() { echo "ok - $*"; }
ko() { echo "not ok - $*"; }
# the generated ids as one word: [1,2,3]
ids() { sed -n 's/.*"generated_ids": \(\[[^]]*\]\).*/\1/p' | tr -d ' '; }
run() { timeout "$T" "$RUN" --device "$DEV" --ctx "$CTX" --json "$@"; }

if [ ! -c "$DEV" ]; then
	ko "$DEV exists (anpu.ko bound the device)"
	exit 0
fi
echo "# $(cat /sys/kernel/debug/accel/*/bos 2>/dev/null | head -n 1)"

# 1. every model: the same greedy tokens and the same logits, bit for bit
while read -r i f want sum; do
	name=$(basename "$f" .gguf)
	start=$(date +%s.%N)
	out=$(run -m "$f" -n "$N" -p "$PROMPT" --logits /tmp/l 2>/tmp/err)
	rc=$?
	got=$(ids <<<"$out")
	gsum=$(sha256sum </tmp/l 2>/dev/null | cut -c1-64)
	rm -f /tmp/l
	echo "# $name: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f s", e - s }'), ids $got"
	if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then ok "$name: greedy ids equal the in-process run's"
	else ko "$name: greedy ids (status $rc): $got, in-process $want"; sed 's/^/#   /' /tmp/err; fi
	if [ $rc -eq 0 ] && [ "$gsum" = "$sum" ]; then ok "$name: logits bytes equal the in-process run's"
	else ko "$name: logits differ from the in-process run's ($gsum vs $sum)"; fi
done <"$E/models"

# 2. sessions: the host's file restored through the kernel; this side's save
out=$(run -m "$SESS_MODEL" -n "$N" -p "${PROMPT}Rivers:" --session-load "$E/host.session" 2>/tmp/err)
got=$(ids <<<"$out")
if [ "$got" = "$SESS_IDS" ]; then ok "in-process session file restored through $DEV continues the same"
else ko "restored session: $got, in-process $SESS_IDS"; sed 's/^/#   /' /tmp/err; fi
run -m "$SESS_MODEL" -n 4 -p "$PROMPT" --session-save /tmp/s >/dev/null 2>/tmp/err
gsum=$(sha256sum </tmp/s 2>/dev/null | cut -c1-64)
if [ "$gsum" = "$SESS_SUM" ]; then ok "session saved through $DEV is the in-process file, byte for byte"
else ko "saved session differs from the in-process one ($gsum vs $SESS_SUM)"; sed 's/^/#   /' /tmp/err; fi
out=$(run -m "$SESS_MODEL" -n "$N" -p "${PROMPT}Rivers:" --session-load /tmp/s 2>/tmp/err)
got=$(ids <<<"$out")
rm -f /tmp/s
if [ "$got" = "$SESS_IDS" ]; then ok "session saved and restored through $DEV continues the same"
else ko "saved and restored session: $got, in-process $SESS_IDS"; sed 's/^/#   /' /tmp/err; fi

# 3. what does not fit is one error naming the bytes needed and available: a
#    session too large for the device (its 256 MiB KV cache over the device's
#    memory, or with a large BAR2 over a 64 MiB per-file limit); weights over the
#    driver's per-file limit
p=/sys/module/anpu/parameters/file_max_devmem_mb
total=$(sed -n 's/.* used of \([0-9]*\) bytes.*/\1/p' /sys/kernel/debug/accel/*/bos 2>/dev/null | head -n 1)
limit=
[ "${total:-0}" -gt $((256 << 20)) ] && [ -w $p ] && limit=64
[ -z "$limit" ] || echo "$limit" >$p
out=$(timeout "$T" "$RUN" -m "$SMALL_MODEL" --device "$DEV" --ctx 131072 -n 1 -p x 2>&1)
rc=$?
[ -z "$limit" ] || echo 0 >$p
echo "#   ${limit:+(file_max_devmem_mb=$limit) }$out"
case "$rc:$out" in
1:*"session of 131072 tokens needs "*" bytes of device memory"*"$DEV has "*" bytes available"*)
	ok "a session that cannot fit: one error naming the bytes needed and available" ;;
*) ko "session that cannot fit (status $rc)" ;;
esac
if [ -w $p ]; then
	echo 16 >$p
	out=$(timeout "$T" "$RUN" -m "$BIG_MODEL" --device "$DEV" -n 1 -p x 2>&1)
	rc=$?
	echo 0 >$p
	echo "#   $out"
	case "$rc:$out" in
	1:*"the model does not fit: its weights need "*" bytes of device memory, $DEV has "*" bytes available"*)
		ok "weights that cannot fit: one error naming the bytes needed and available" ;;
	*) ko "weights that cannot fit (status $rc)" ;;
	esac
else
	ok "weights that cannot fit # SKIP no writable $p"
fi

# nothing leaked in the driver once every run exited
c=$(cat /sys/kernel/debug/accel/*/counters 2>/dev/null)
if [ -z "$c" ]; then
	ok "driver objects released # SKIP no debugfs counters"
elif printf '%s\n' "$c" | grep -Eq '^(bos|jobs|contexts) [1-9]'; then
	printf '%s\n' "$c" | sed 's/^/#   /'
	ko "driver objects released"
else
	ok "driver objects released"
fi
