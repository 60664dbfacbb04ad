#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make check-install: `make install` into a temporary DESTDIR with a PREFIX and LIBDIR of
# its own, then as a user of the installed files would: the man pages (each renders
# without warnings), the udev rule's syntax (tests/install/udev-rule.sh), the examples
# built with pkg-config alone (PKG_CONFIG_PATH, PKG_CONFIG_SYSROOT_DIR; hello.c with the
# line docs/libaccel.md gives, and the docs show hello.c as it is), the libaccel ones run
# (shared and static), the exported symbols of each installed library exactly its
# header's functions, every tool's --version the project's VERSION; then `make
# uninstall` leaves the DESTDIR empty. Prints TAP.
#
#   tests/install/install.sh BUILD_DIR      (MAKE: the make to run, default make)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/tap.sh"
root=$(cd "$here/../.." && pwd)
build=$1
make_cmd=${MAKE:-make}
version=$(cat "$root/VERSION")
major=${version%%.*}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/anpu-install.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
dest=$scratch/root
prefix=/opt/anpu
libdir=$prefix/lib64
dirs=(PREFIX=$prefix LIBDIR=$libdir)
lib=$dest$libdir

check() { # NAME COMMAND...: ok when COMMAND succeeds; its output as comments when not
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then tap_ok "$name"; else
		printf '%s\n' "$out" | tail -n 20 | tap_comment
		tap_not_ok "$name"
	fi
}

cd "$root" || exit 1
check "make install DESTDIR=... PREFIX=$prefix LIBDIR=$libdir" \
	"$make_cmd" -s --no-print-directory BUILD="$build" DESTDIR="$dest" "${dirs[@]}" install
outside=$(cd "$dest" && find . -mindepth 1 ! -type d | grep -v "^\\.$prefix/")
if [[ -z $outside ]]; then tap_ok "nothing installed outside DESTDIR$prefix"; else
	printf '%s\n' "$outside" | tap_comment
	tap_not_ok "nothing installed outside DESTDIR$prefix"
fi

expect=(bin/anpu-run bin/anpu-mkmodel bin/anpu-trace bin/anpu-info bin/anpu-top bin/anpu-sim include/accel.h include/anpurt.h
	lib64/libaccel.a lib64/libanpusim.a lib64/libanpurt.a lib64/pkgconfig/accel.pc
	lib64/pkgconfig/anpurt.pc lib/udev/rules.d/70-anpu.rules)
missing=()
for f in "${expect[@]}"; do [[ -f $dest$prefix/$f ]] || missing+=("$f"); done
if [[ ${#missing[@]} -eq 0 ]]; then tap_ok "tools, headers, static libraries, .pc files, udev rule"
else
	printf 'missing: %s\n' "${missing[@]}" | tap_comment
	tap_not_ok "tools, headers, static libraries, .pc files, udev rule"
fi

tap_merge < <("$here/udev-rule.sh" "$dest$prefix/lib/udev/rules.d/70-anpu.rules")

# ---- man pages: the generator (tests/install/mkman.sh), then one page per installed
# tool plus the libraries', each rendering cleanly ----
tap_merge mkman < <("$here/mkman.sh")
mandir=$dest$prefix/share/man
pages=()
for t in "$dest$prefix"/bin/*; do pages+=("$mandir/man1/$(basename "$t").1"); done
pages+=("$mandir/man3/libaccel.3" "$mandir/man3/anpurt.3")
for page in "${pages[@]}"; do
	name=${page#"$mandir/"}
	if [[ ! -f $page ]]; then tap_not_ok "man page $name installed"; continue; fi
	# groff -ww: every warning; man's own --warnings where man-db is there
	warn=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
	text=$(MANWIDTH=80 man -l "$page" 2>/dev/null | col -b)
	title=$(basename "$page"); title=${title%.*}
	# (and its footer has the project's version)
	if [[ -z $warn && $text == *NAME*"$title "*SYNOPSIS*"ANPU $version"* ]]; then
		tap_ok "man page $name installed, renders without warnings"
	else
		printf '%s\n' "$warn" "${text:0:400}" "${text: -200}" | tap_comment
		tap_not_ok "man page $name installed, renders without warnings"
	fi
	# lexgrog reads the NAME line the way mandb/whatis will
	if command -v lexgrog >/dev/null; then
		whatis=$(lexgrog "$page" 2>&1)
		if [[ $whatis == *": \"$title - "* ]]; then tap_ok "lexgrog $name: ${whatis#*: }"
		else tap_not_ok "lexgrog $name: '$whatis'"; fi
	fi
done

for so in libaccel.so libanpurt.so; do
	links="$(readlink "$lib/$so") $(readlink "$lib/$so.$major")"
	soname=$(readelf -d "$lib/$so.$version" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	if [[ $links == "$so.$major $so.$version" && $soname == "$so.$major" ]]; then
		tap_ok "$so -> $so.$major -> $so.$version, soname $soname"
	else
		echo "links: $links; soname: $soname" | tap_comment
		tap_not_ok "$so -> $so.$major -> $so.$version, soname $so.$major"
	fi
done

# ---- a user of the installed files: pkg-config only ----
export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
cc_user() { ${CC:-cc} -Wall -Wextra -Werror "$@"; }
for pc in accel anpurt; do
	v=$(pkg-config --modversion "$pc" 2>&1)
	if [[ $v == "$version" ]]; then tap_ok "pkg-config --modversion $pc: $v"; else
		tap_not_ok "pkg-config --modversion $pc: '$v', VERSION says $version"
	fi
done
static_libs=$(pkg-config --static --libs accel)
want_static='-lanpusim -lm -pthread .*-ldrm'
if [[ $static_libs =~ -laccel\ $want_static ]]; then tap_ok "pkg-config --static --libs accel: $static_libs"
else tap_not_ok "pkg-config --static --libs accel: '$static_libs' lacks $want_static"; fi

# (-lm: the example's CPU reference calls expf itself)
ex=$scratch/accel-example
# shellcheck disable=SC2046 # pkg-config's words are flags
check "accel_example.c builds with \$(pkg-config --cflags --libs accel) -lm" \
	cc_user -o "$ex" examples/accel_example.c $(pkg-config --cflags --libs accel) -lm
if [[ -x $ex ]]; then
	resolved=$(LD_LIBRARY_PATH=$lib ldd "$ex" | awk '$1 == "libaccel.so.'"$major"'" { print $3 }')
	if [[ $resolved == "$lib/libaccel.so.$major" ]]; then tap_ok "it loads the installed libaccel.so.$major"
	else tap_not_ok "it loads the installed libaccel.so.$major (ldd: '$resolved')"; fi
	check "it runs on the in-process NPU" env LD_LIBRARY_PATH="$lib" ANPU_DEVICE=sim "$ex"
else
	tap_not_ok "it loads the installed libaccel.so.$major"
	tap_not_ok "it runs on the in-process NPU"
fi

# hello.c, the program docs/libaccel.md starts with (and shows as it is), compiled with
# the line the docs give
hello=$scratch/hello
# shellcheck disable=SC2046
check "hello.c builds with cc hello.c \$(pkg-config --cflags --libs accel)" \
	cc_user -o "$hello" examples/hello.c $(pkg-config --cflags --libs accel)
out=$(LD_LIBRARY_PATH=$lib ANPU_DEVICE=sim "$hello" 2>&1)
if [[ $out == "4 6 8 10" ]]; then tap_ok "hello prints 4 6 8 10"; else
	printf '%s\n' "$out" | tap_comment
	tap_not_ok "hello prints 4 6 8 10"
fi
doc_program=$(awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' docs/libaccel.md)
if [[ $doc_program == "$(cat examples/hello.c)" ]]; then
	tap_ok "docs/libaccel.md's first program is examples/hello.c"
else
	diff <(printf '%s\n' "$doc_program") examples/hello.c | head -n 20 | tap_comment
	tap_not_ok "docs/libaccel.md's first program is examples/hello.c"
fi
# shellcheck disable=SC2016 # the literal line the docs show
if grep -qF 'cc hello.c $(pkg-config --cflags --libs accel)' docs/libaccel.md; then
	tap_ok "docs/libaccel.md gives its compile line"
else tap_not_ok "docs/libaccel.md gives its compile line"; fi

# the static line: the same flags with the archives instead of the shared library
ex_static=$scratch/accel-example-static
# shellcheck disable=SC2046
check "it builds statically with \$(pkg-config --static --libs accel)" \
	cc_user -o "$ex_static" examples/accel_example.c $(pkg-config --cflags accel) \
	$(sed 's/-laccel /-l:libaccel.a /; s/-lanpusim /-l:libanpusim.a /' <<<"$static_libs ")
check "the static one runs without libaccel.so" env ANPU_DEVICE=sim "$ex_static"

# the runtime's example: libanpurt.so stands on libaccel.so.MAJOR (found by -rpath-link
# here; in a system directory the linker finds it itself)
# shellcheck disable=SC2046
check "chat.c builds with \$(pkg-config --cflags --libs anpurt)" \
	cc_user -o "$scratch/anpurt-chat" examples/chat.c $(pkg-config --cflags --libs anpurt) \
	-Wl,-rpath-link,"$lib"
if out=$(LD_LIBRARY_PATH=$lib "$scratch/anpurt-chat" 2>&1); [[ $? -eq 2 && $out == *MODEL.gguf* ]]; then
	tap_ok "the chat example starts (a usage error without a model)"
else
	printf '%s\n' "$out" | tap_comment
	tap_not_ok "the chat example starts (a usage error without a model)"
fi

# ---- the installed libraries export exactly their headers' functions ----
tap_merge installed < <("$root/tests/lib/exports.sh" "$lib/libaccel.so" \
	"$dest$prefix/include/accel.h" accel_ ACCEL_API)
tap_merge installed < <("$root/tests/lib/exports.sh" "$lib/libanpurt.so" \
	"$dest$prefix/include/anpurt.h" anpurt_ ANPURT_API)

# ---- one version everywhere ----
for t in "$dest$prefix"/bin/*; do
	v=$(LD_LIBRARY_PATH=$lib "$t" --version 2>&1 | head -n 1)
	if [[ $v == "$(basename "$t") $version"* ]]; then tap_ok "$(basename "$t") --version: $v"
	else tap_not_ok "$(basename "$t") --version says '$v', VERSION $version"; fi
done

check "make uninstall" \
	"$make_cmd" -s --no-print-directory BUILD="$build" DESTDIR="$dest" "${dirs[@]}" uninstall
left=$(cd "$dest" 2>/dev/null && find . -mindepth 1)
if [[ -z $left ]]; then tap_ok "uninstall leaves DESTDIR empty"; else
	printf '%s\n' "$left" | head -n 20 | tap_comment
	tap_not_ok "uninstall leaves DESTDIR empty"
fi
tap_plan
exit "$(tap_status)"
