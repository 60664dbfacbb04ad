#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-rt-vm: the runtime through anpu.ko gives the in-process bits. On the
# host, anpu-run --json (greedy, --logits) runs anpu-mkmodel's tiny models of every
# architecture in two weight types each on the in-process NPU, and saves a session;
# then ONE guest boot (anpu-vp run, BAR2 sized with anpu-run --mem-needed and
# --dev-mem-for) runs tests/runtime/vm/guest.sh, which repeats every run through
# /dev/accel/accel0 and compares token ids and logits bytes, restores the host's
# session file and saves its own, and checks the "does not fit" errors. Prints TAP.
#   tests/runtime/vm/run.sh [BUILD_DIR]
# ANPU_VM_TIMEOUT (900) bounds the guest run; ANPU_VP_TIMEOUT_SCALE scales it.
# RT_VM_MODELS="qwen2.5-0.5b:q8_0 qwen3-0.6b:q4_k_m ..." compares those models instead of
# the tiny ones (BAR2 sized for the largest; files generated once into the cache).
set -u
top=$PWD
build=$(readlink -f "${1:-build}")
. tests/lib/tap.sh
. tests/llamacpp/lib.sh		# model PRESET TYPE: anpu-mkmodel's cached files
VP=$build/bin/anpu-vp
RUN=$build/bin/anpu-run
TIMEOUT=${ANPU_VM_TIMEOUT:-900}
# (the guest reads the expected results: not under /tmp, the guest's own)
mkdir -p "$build/vp"
exp=$(mktemp -d "$build/vp/rtvm.XXXXXX")
trap 'rm -rf "$tmp" "$exp"' EXIT

for f in "$VP" "$RUN" "$build/bin/anpu-sim" "${ANPU_KO:-$build/kmod/anpu.ko}"; do
	[[ -e $f ]] || { tap_not_ok "check-rt-vm: $f exists"; tap_plan; exit 1; }
done
fetch_tokenizers
if [[ -n $fetch_reason ]]; then
	tap_skip_all "anpu-mkmodel's tokenizer packages: $fetch_reason"
	exit 0
fi

# the runs both sides make (guest.sh reads these variables from $exp/env)
CTX=256
N=12
PROMPT='<|im_start|>user
Name three rivers and a mountain.<|im_end|>
<|im_start|>assistant
'
# RT_VM_MODELS="PRESET:TYPE ..." runs others (e.g. the full-size presets of the benchmarks)
MODELS=${RT_VM_MODELS:-tiny-qwen2:q4_k_m tiny-qwen2:f16 tiny-qwen3:q8_0 tiny-qwen3:q4_k_m tiny-llama:q4_0 tiny-llama:q5_1}
# the generated ids as one word: [1,2,3]
ids() { sed -n 's/.*"generated_ids": \(\[[^]]*\]\).*/\1/p' | tr -d ' '; }

need=0 i=0
: >"$exp/models"
for m in $MODELS; do
	f=$(model "${m%%:*}" "${m#*:}") || { tap_not_ok "anpu-mkmodel $m"; tap_plan; exit 1; }
	if ! "$RUN" -m "$f" --device sim --threads 2 --ctx $CTX --json -n $N -p "$PROMPT" \
		--logits "$exp/$i.logits" >"$exp/$i.json" 2>"$exp/$i.err"; then
		tap_not_ok "in-process run of $m"; tap_comment <"$exp/$i.err"; tap_plan; exit 1
	fi
	printf '%s %s %s %s\n' "$i" "$f" "$(ids <"$exp/$i.json")" \
		"$(sha256sum <"$exp/$i.logits" | cut -c1-64)" >>"$exp/models"
	rm -f "$exp/$i.logits"
	b=$("$RUN" -m "$f" --ctx $CTX --mem-needed) || { tap_not_ok "anpu-run --mem-needed $m"; tap_plan; exit 1; }
	((b > need)) && need=$b
	i=$((i + 1))
done
tap_ok "in-process runs of $i models (device memory needed at most: $need bytes)"

# a session saved in-process after a first turn, and the second turn that loads it
sess_model=$(model tiny-qwen2 q4_k_m)
"$RUN" -m "$sess_model" --device sim --ctx $CTX --json -n 4 -p "$PROMPT" \
	--session-save "$exp/host.session" >/dev/null 2>"$exp/s.err" &&
	"$RUN" -m "$sess_model" --device sim --ctx $CTX --json -n $N -p "${PROMPT}Rivers:" \
		--session-load "$exp/host.session" >"$exp/s2.json" 2>>"$exp/s.err" ||
	{ tap_not_ok "in-process session save and load"; tap_comment <"$exp/s.err"; tap_plan; exit 1; }
{
	printf 'CTX=%s\nN=%s\nSESS_MODEL=%q\nSESS_IDS=%q\n' $CTX $N "$sess_model" "$(ids <"$exp/s2.json")"
	printf 'SESS_SUM=%s\n' "$(sha256sum <"$exp/host.session" | cut -c1-64)"
	printf 'PROMPT=%q\n' "$PROMPT"
	printf 'BIG_MODEL=%q\nSMALL_MODEL=%q\n' "$(model tiny-qwen2 f16)" "$(model tiny-llama q4_0)"
} >"$exp/env"

out=$("$VP" run --dev-mem-for "$need" --timeout "$TIMEOUT" -- bash tests/runtime/vm/guest.sh "$build" "$exp" 2>&1)
rc=$?
tap_merge <<<"$out"
if [[ $rc -eq 0 ]]; then
	tap_ok "guest run clean (anpu-vp: no kernel warning)"
else
	tap_not_ok "guest run (anpu-vp status $rc)"
fi
tap_plan
exit "$(tap_status)"
