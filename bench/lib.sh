# bench/lib.sh - sourced by the benchmark scripts (bench/runtime.sh, bench/trace.sh) with
# the build directory as $1: sets build, top (and cds there), bin, models (the model
# cache, $ANPU_CACHE/models or .cache/models), ANPU_WEIGHT_CACHE_DIR (the runtime's
# weight cache: .cache/weights), tmp (removed at exit), and defines
#   skipped NAME WHY     a result line saying the figure was skipped and why
#   max A B              the larger number (B may be empty)
#   model_file PRESET TYPE   the path of anpu-mkmodel's file for that preset and type,
#                        written once under the name tests/llamacpp/check-mkmodel.sh uses
#                        too (checksum of the tool's sources), so they share it
build=${1:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
bin=$build/bin
models=${ANPU_CACHE:-$top/.cache}/models
# the in-process runtime's weight cache files (Q5_0 tensors as Q5_0L) of these models:
# beside them, not in the user's ~/.cache
export ANPU_WEIGHT_CACHE_DIR=${ANPU_WEIGHT_CACHE_DIR:-${ANPU_CACHE:-$top/.cache}/weights}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

skipped() {	# NAME WHY
	local why=${2//\\/\\\\}
	why=${why//\"/\\\"}
	printf '{"name":"%s","value":0,"unit":"none","skipped":true,"why":"%s"}\n' "$1" "$why"
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 > b + 0) ? a : b }'; }

model_sum=$(cat tools/anpu-mkmodel/*.[ch] | sha256sum | cut -c1-12)
mkdir -p "$models"
model_file() {	# PRESET TYPE -> path on stdout (written once)
	local f="$models/$1-$2-s1-$model_sum.gguf"

	if [ ! -s "$f" ]; then
		rm -f "$models/$1-$2-s1-"*.gguf
		"$bin/anpu-mkmodel" -q -p "$1" -t "$2" -o "$f" >&2 || return 1
	fi
	echo "$f"
}
