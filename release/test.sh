#!/usr/bin/env bash
# Tests of the downloads release/build.sh made (not in tests/run.sh: they need the cross
# builds, qemu-user, wine and a Debian root, and take minutes):
#
#   release/test.sh [--install-tools]
#
# - the Linux binaries ask for no glibc symbol newer than 2.17 (objdump) and no library
#   beyond glibc's and libgcc_s;
# - each archive holds the binary, README.txt and the fonts' licences;
# - the aarch64 binary under qemu-user and the Windows one under wine render the seed form
#   (a draft) and an archive PDF, from a folder and a file with a Chinese name and spaces,
#   byte-identical to the x86_64 binary; `serve` answers on 127.0.0.1 under both, and its
#   PDF download is the same file again; formpress.exe with no arguments in a console of its
#   own (as Explorer starts it) makes 绩效表 in Documents with the examples and serves it;
# - the .deb installs into a clean Debian root (debootstrap), its desktop entry passes
#   desktop-file-validate and names a command that exists there and runs.
# A target whose download is missing is reported as not tested, and the run fails.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/dist}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
export SOURCE_DATE_EPOCH=1700000000 LC_ALL=C.UTF-8 WINEDEBUG=-all WINEPREFIX=$ROOT/target-wine
SEED=forms/zhengzhou-2020-dept-overall.yaml
CLEAN=forms/project-2021.yaml # renders without findings, so it may be archived
DIR_NAME="绩效 表"
SEED_NAME="郑州 申报表.yaml"
CLEAN_NAME="项目 申报表.yaml"

if [ "${1:-}" = --install-tools ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user wine64 binutils-aarch64-linux-gnu \
        libc6-arm64-cross debootstrap desktop-file-utils curl mingw-w64
fi

passed=0 failed=0
ok() { printf 'ok    %s\n' "$*"; passed=$((passed + 1)); }
bad() { printf 'FAIL  %s\n' "$*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; return 1; fi; }

WORK=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Unpacks a target's archive into $WORK/<target>; prints the binary's path.
unpack() {
    local t=$1 name="formpress-$VERSION-$1" dest="$WORK/$1"
    mkdir -p "$dest"
    if [ -f "$OUT/$name.tar.gz" ]; then
        tar -xzf "$OUT/$name.tar.gz" -C "$dest" && echo "$dest/$name/formpress"
    elif [ -f "$OUT/$name.zip" ]; then
        python3 -m zipfile -e "$OUT/$name.zip" "$dest" && echo "$dest/$name/formpress.exe"
    else
        return 1
    fi
}

# Runs binary $2 of target $1 (qemu for aarch64, wine for Windows) with the rest as arguments,
# for at most $RUN_LIMIT seconds: a program that hangs under emulation (see aarch64_prefix)
# fails its check instead of stalling the run. A render takes seconds under qemu here.
RUN_LIMIT=${RUN_LIMIT:-900}
run() {
    local bin=$2
    prefix "$1"
    shift 2
    timeout "$RUN_LIMIT" "${exec_prefix[@]}" "$bin" "$@"
}
prefix() {
    case $1 in
        aarch64-*) exec_prefix=("${aarch64_prefix[@]}") ;;
        *windows*) exec_prefix=(wine) ;;
        *) exec_prefix=() ;;
    esac
}
# ld.so comes from the -L root (libc6-arm64-cross); without LD_LIBRARY_PATH the loader takes
# libc.so.6 from the host's cache, which lists Debian's libc6:arm64 where it is installed (the
# aarch64 build's libstd-rust-web-dev:arm64 pulls it in): a loader and libc of two glibc builds,
# and the first pthread_create loops for ever over a stack cache read at the wrong offset.
AARCH64_ROOT=/usr/aarch64-linux-gnu
aarch64_prefix=(qemu-aarch64 -L "$AARCH64_ROOT" -E "LD_LIBRARY_PATH=$AARCH64_ROOT/lib")

# The newest GLIBC_x.y a binary asks for, and its needed libraries, must fit glibc 2.17.
glibc_floor() {
    local t=$1 bin=$2 objdump=objdump newest libs
    [ "${t%%-*}" = aarch64 ] && objdump=aarch64-linux-gnu-objdump
    newest=$($objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
    libs=$($objdump -p "$bin" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
    echo "      $t: newest glibc symbol $newest; needs $libs"
    [ -n "$newest" ] && [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -1)" = 2.17 ] || return 1
    for l in $libs; do
        case $l in libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | libgcc_s.so.1 | ld-linux*) ;;
            *) echo "      unexpected library $l"; return 1 ;;
        esac
    done
}

archive_contents() {
    local dir
    dir=$(dirname "$1")
    # A zip keeps no Unix mode that Python's unzip restores: the .exe need only be there.
    case $1 in *.exe) [ -f "$1" ] ;; *) [ -x "$1" ] ;; esac && grep -q '安装与使用' "$dir/README.txt" && grep -q 'SIL OPEN FONT LICENSE' "$dir/OFL.txt" &&
        grep -qi 'Bitstream' "$dir/DejaVu-LICENSE.txt"
}

# Renders the seed (a draft: exit 1) and the clean form as an archive with binary $2 in
# folder $3, which gets the forms under Chinese names with spaces. Run from inside the
# folder with relative names, so wine needs no path conversion. Only the bundled fonts:
# the machines differ in installed ones (wine has no CJK fonts), the program must not.
render_in() {
    local t=$1 bin=$2 dir=$3/$DIR_NAME
    mkdir -p "$dir"
    cp "$SEED" "$dir/$SEED_NAME"
    cp "$CLEAN" "$dir/$CLEAN_NAME"
    (
        cd "$dir" || exit 1
        run "$t" "$bin" render --no-system-fonts "$SEED_NAME" -o seed.pdf >render.log 2>&1
        [ $? = 1 ] || { echo "      seed: expected exit 1 (draft)"; cat render.log; exit 1; }
        run "$t" "$bin" render --no-system-fonts "$CLEAN_NAME" --archive -o "存档 表.pdf" >>render.log 2>&1 ||
            { cat render.log; exit 1; }
        # Again: replacing its own earlier output is no write over an input.
        run "$t" "$bin" render --no-system-fonts "$CLEAN_NAME" --archive -o "存档 表.pdf" >>render.log 2>&1 ||
            { echo "      rendering again over the earlier PDF failed:"; cat render.log; exit 1; }
    )
}

same_pdfs() {
    cmp "$1/$DIR_NAME/seed.pdf" "$2/$DIR_NAME/seed.pdf" &&
        cmp "$1/$DIR_NAME/存档 表.pdf" "$2/$DIR_NAME/存档 表.pdf"
}

# Starts `serve` on a free port in the rendered folder, waits for its address, asks for the
# form list and the archive PDF's download, compares the download with the native render.
serve_answers() {
    local t=$1 bin=$2 dir=$3/$DIR_NAME ref=$4/$DIR_NAME log="$3/serve.log" url="" i
    prefix "$t"
    (cd "$dir" && exec "${exec_prefix[@]}" "$bin" serve --no-system-fonts . --port 0 >"$log" 2>&1) &
    local pid=$!
    pids+=("$pid")
    for i in $(seq 1 180); do
        url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$log" | head -1)
        [ -n "$url" ] && break
        sleep 1
    done
    [ -n "$url" ] || { echo "      serve printed no address:"; cat "$log"; return 1; }
    local forms
    forms=$(curl -sf "${url}api/forms") || { echo "      ${url}api/forms did not answer"; return 1; }
    echo "      $t: serve at $url lists $(grep -o '"name":"[^"]*"' <<<"$forms" | tr '\n' ' ')"
    grep -q "$CLEAN_NAME" <<<"$forms" || return 1
    local q
    q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$CLEAN_NAME")
    curl -sf -o "$3/download.pdf" "${url}api/pdf?archive=1&name=$q" || { echo "      PDF download failed"; return 1; }
    cmp "$3/download.pdf" "$ref/存档 表.pdf"
    local r=$?
    kill "$pid" 2>/dev/null
    [ "${t#*windows}" = "$t" ] || wineserver -k 2>/dev/null # wine's own processes of this prefix
    return $r
}

# Wine before 9 has no bcryptprimitives.dll, whose ProcessPrng Rust's std (1.78 and later)
# takes its random numbers from; Windows 10 and 11 have it. Without it formpress.exe does not
# load (exit 53). A stand-in over RtlGenRandom, made with mingw-w64, goes into the test prefix
# only, never into a download; a wine that has the DLL leaves its stub there and is used as is.
wine_prng() {
    local dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll src=$WORK/prng.c
    [ -f "$dll" ] && return 0
    cat >"$src" <<'EOF_C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG part = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, part)) return FALSE;
        data += part;
        length -= part;
    }
    return TRUE;
}
EOF_C
    printf 'LIBRARY bcryptprimitives\nEXPORTS\nProcessPrng\n' >"$WORK/prng.def"
    x86_64-w64-mingw32-gcc -O2 -shared -s -o "$dll" "$src" "$WORK/prng.def" -ladvapi32 &&
        echo "      wine $(wine --version) has no bcryptprimitives.dll: a ProcessPrng stand-in put into the test prefix"
}

# formpress.exe with no arguments in a console of its own, as Explorer starts it: under wine a
# program started from a terminal (a pty from `script`) is alone in its console, so this is that
# start. In a copy of the prefix (hard links) whose Documents is an empty folder: it makes 绩效表
# there with the examples and answers on loopback, on the fixed port 8421 a user gets (no browser
# here: --open only says so).
double_click() {
    local bin=$1 pfx=$WORK/wine-docs docs=$WORK/docs log=$WORK/double-click.log url="" i listed
    cp -al "$WINEPREFIX" "$pfx" && mkdir -p "$docs" || return 1
    ln -sfn "$docs" "$pfx/drive_c/users/$(id -un)/Documents" || return 1
    WINEPREFIX=$pfx script -qfc "wine $(printf %q "$bin")" "$log" </dev/null >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    for i in $(seq 1 60); do
        url=$(grep -ao 'http://127\.0\.0\.1:[0-9]*/' "$log" 2>/dev/null | head -1)
        [ -n "$url" ] && break
        sleep 1
    done
    listed=$([ -n "$url" ] && curl -sf "${url}api/forms" | grep -o '"name":"[^"]*\.yaml"' | wc -l)
    echo "      $(grep -ao 'formpress serve：[^；]*' "$log" | head -1); lists ${listed:-0} forms; 绩效表 holds:" \
        $(ls "$docs/绩效表" 2>/dev/null)
    [ -n "$url" ] || sed 's/^/      /' "$log"
    WINEPREFIX=$pfx wineserver -k 2>/dev/null
    kill "$pid" 2>/dev/null
    [ "${listed:-0}" -ge 5 ]
}

# --- the native x86_64 download: the reference -------------------------------------------
NATIVE=x86_64-unknown-linux-gnu
if ! native=$(unpack $NATIVE); then
    bad "$NATIVE: no download in $OUT (run release/build.sh first)"
    echo "$passed passed, $failed failed"
    exit 1
fi
check "$NATIVE: archive holds the binary, README.txt (安装与使用) and the font licences" archive_contents "$native"
check "$NATIVE: glibc symbols <= 2.17" glibc_floor $NATIVE "$native"
check "$NATIVE: renders the seed (draft) and an archive PDF from Chinese names with spaces" \
    render_in $NATIVE "$native" "$WORK/ref"

# --- aarch64 under qemu-user, Windows under wine ----------------------------------------
for t in aarch64-unknown-linux-gnu x86_64-pc-windows-gnu; do
    if ! bin=$(unpack $t); then
        bad "$t: no download in $OUT: not tested"
        continue
    fi
    check "$t: archive holds the binary, README.txt (安装与使用) and the font licences" archive_contents "$bin"
    case $t in
        *linux*) check "$t: glibc symbols <= 2.17" glibc_floor "$t" "$bin" ;;
        *windows*) wine wineboot -i >/dev/null 2>&1; wine_prng ;;
    esac
    check "$t: --version runs" run "$t" "$bin" --version
    if check "$t: renders the seed and an archive PDF" render_in "$t" "$bin" "$WORK/$t"; then
        check "$t: both PDFs byte-identical to $NATIVE's" same_pdfs "$WORK/ref" "$WORK/$t"
        check "$t: serve answers on 127.0.0.1; its PDF download is the same file" \
            serve_answers "$t" "$bin" "$WORK/$t" "$WORK/ref"
    fi
    case $t in
        *windows*) check "$t: started with no arguments (double-click): 绩效表 in Documents, served on loopback" \
            double_click "$bin" ;;
    esac
done

# --- the .deb in a clean Debian root ------------------------------------------------------
# A minimal bookworm root from Debian's packages, made once and kept in target-debroot.tar.
debroot() {
    local tar=$ROOT/target-debroot.tar r=$WORK/root
    if [ ! -f "$tar" ]; then
        echo "      making a clean Debian root (debootstrap --variant=minbase bookworm, once)"
        debootstrap --variant=minbase bookworm "$WORK/boot" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 ||
            { tail -5 "$WORK/debootstrap.log"; return 1; }
        tar -C "$WORK/boot" -cf "$tar" . && rm -rf "$WORK/boot"
    fi
    mkdir -p "$r" && tar -C "$r" -xf "$tar"
}

deb_installs() {
    local deb=$1 r=$WORK/root
    cp "$deb" "$r/tmp/formpress.deb"
    chroot "$r" dpkg -i /tmp/formpress.deb || return 1
    chroot "$r" dpkg -L formpress | sed 's/^/      /' | grep -E 'bin|desktop|info$'
}

desktop_entry_runs() {
    local r=$WORK/root entry=$WORK/formpress.desktop exec cmd
    # Read inside the root: the entry in /usr/share/applications is a link into /opt/apps.
    chroot "$r" cat /usr/share/applications/formpress.desktop >"$entry" ||
        { echo "      no desktop entry at /usr/share/applications/formpress.desktop"; return 1; }
    desktop-file-validate "$entry" || return 1
    exec=$(sed -n 's/^Exec=//p' "$entry")
    cmd=${exec%% *}
    echo "      Exec=$exec"
    chroot "$r" test -x "$cmd" || { echo "      $cmd does not exist in the root"; return 1; }
    chroot "$r" "$cmd" --version && chroot "$r" formpress --version >/dev/null || return 1
    # The entry's command itself, as a user without the folder yet: it makes 文档/绩效表 with
    # the examples and answers on loopback (no browser in the root: --open only says so).
    mkdir -p "$r/home/user/.config"
    echo 'XDG_DOCUMENTS_DIR="$HOME/文档"' >"$r/home/user/.config/user-dirs.dirs"
    chroot "$r" env HOME=/home/user $exec --port 0 >"$WORK/entry.log" 2>&1 &
    local pid=$! url="" i
    for i in $(seq 1 30); do
        url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$WORK/entry.log" | head -1)
        [ -n "$url" ] && break
        sleep 1
    done
    local listed
    listed=$(curl -sf "${url}api/forms" | grep -o '"name":"[^"]*\.yaml"' | wc -l)
    kill "$pid" 2>/dev/null
    echo "      $(head -1 "$WORK/entry.log"); lists $listed forms"
    ls "$r/home/user/文档/绩效表" | sed 's/^/        /'
    [ "$listed" -ge 5 ]
}

deb=$OUT/formpress_${VERSION}_amd64.deb
if [ ! -f "$deb" ]; then
    bad "no $deb: not tested"
elif debroot; then
    check ".deb (amd64) installs into a clean Debian root with dpkg" deb_installs "$deb"
    check ".deb desktop entry is valid and names an existing command that runs" desktop_entry_runs
else
    bad "could not make a Debian root to install the .deb into"
fi
arm=$OUT/formpress_${VERSION}_arm64.deb
if [ -f "$arm" ]; then
    check ".deb (arm64): architecture arm64, the same files as amd64" \
        bash -c 'diff <(dpkg-deb -c "$1" | awk "{print \$6}") <(dpkg-deb -c "$2" | awk "{print \$6}") &&
            dpkg-deb -f "$1" Architecture | grep -qx arm64' _ "$arm" "$deb"
else
    bad "no $arm: not tested"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
