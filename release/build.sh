#!/usr/bin/env bash
# Builds formpress for people without Rust: per target a stripped binary in an archive with
# the Chinese 安装与使用 README and the bundled fonts' licences, a .deb for the Linux targets
# (the UOS /opt/apps layout with a desktop entry), and SHA256SUMS over all of it.
#
#   release/build.sh [--install-tools] [TARGET...]     (default: all three targets)
#
# Targets: x86_64-unknown-linux-gnu (glibc >= 2.17, for 海光/兆芯 Kylin/UOS), aarch64-unknown-linux-gnu
# (glibc >= 2.17, 鲲鹏/飞腾), x86_64-pc-windows-gnu. Every tool comes from a package registry:
# cargo-zigbuild and cargo-deb (crates.io), zig (the `ziglang` PyPI package), mingw-w64 (Debian).
# A target whose standard library rustup does not have is built with Debian's rustc-web: its
# libstd-rust-web-dev:<arch> where Debian ships one, else -Zbuild-std from rust-web-src. A target
# that cannot be built here is named with the reason; the script goes on and exits 1 at the end.
#
# Output in $OUT (default dist/); each target builds in its own target-<target>/ folder, so the
# normal target/ is left alone. Builds run under `nice` with $JOBS jobs (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/dist}
PROFILE=dist
ALL_TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-pc-windows-gnu)
GLIBC=2.17
# Debian's rustc-web: compiler, its x86_64 std, and the std's source for -Zbuild-std.
DEB_RUSTC=/usr/bin/rustc
DEB_CARGO=/usr/bin/cargo
DEB_SRC=/usr/lib/rustlib/src/rust/library

say() { printf '==> %s\n' "$*" >&2; }

install_tools() {
    say "installing the build tools (Debian, PyPI, crates.io)"
    dpkg --add-architecture arm64
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src \
        libstd-rust-web-dev:arm64 mingw-w64 dpkg-dev python3-pip
    python3 -m pip install -q ziglang
    cargo install --locked cargo-zigbuild cargo-deb
}

targets=()
for arg in "$@"; do
    case $arg in
        --install-tools) install_tools ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $arg" >&2; exit 2 ;;
        *) targets+=("$arg") ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
# Archives and packages carry the date of the last commit, so a rebuild gives the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
mkdir -p "$OUT"

rustup_has() { rustup target list --installed 2>/dev/null | grep -qx "$1"; }
have_zig() { command -v zig >/dev/null || python3 -m ziglang version >/dev/null 2>&1; }

# Sets $why when the tools for target $1 are missing; otherwise sets the build command in
# $how (rustup, debian-std, debian-build-std) for `build`.
plan() {
    local t=$1
    why=""
    how=""
    case $t in
        loongarch64-*)  # 龙芯: named so that asking for it gets the reason, not "unknown".
            why="龙芯上的银河麒麟 V10、统信 UOS 20 是旧世界 ABI，构建它要龙芯的旧世界工具链，软件包仓库里没有；"
            why+="这里能做的只有新世界（glibc >= 2.36）的程序，它在这些系统上不能启动，所以不发布。"
            why+="在龙芯机器上用其系统自带的 Rust：cargo build --profile dist --locked"
            return ;;
        *-linux-gnu)
            have_zig || why="zig 不在（pip install ziglang），无法把 glibc 版本定在 $GLIBC。"
            cargo zigbuild --help >/dev/null 2>&1 || why+="cargo-zigbuild 不在（cargo install --locked cargo-zigbuild）。"
            ;;
        x86_64-pc-windows-gnu)
            command -v x86_64-w64-mingw32-gcc >/dev/null || why="mingw-w64 不在（apt-get install mingw-w64），没有 Windows 链接器。"
            ;;
        *) why="未知目标 $t（支持：${ALL_TARGETS[*]}）"; return ;;
    esac
    if rustup_has "$t"; then
        how=rustup
    elif [ -x "$DEB_RUSTC" ] && [ -d "/usr/lib/rustlib/$t/lib" ]; then
        how=debian-std
    elif [ -x "$DEB_RUSTC" ] && [ -x "$DEB_CARGO" ] && [ -d "$DEB_SRC/std" ]; then
        how=debian-build-std
    else
        why+="没有 $t 的 Rust 标准库：rustup 只有 $(rustup target list --installed 2>/dev/null | tr '\n' ' ')，"
        why+="也没有 Debian 的 rustc-web/rust-web-src（apt-get install rustc-web cargo-web rust-web-src）。"
        why+="有 rustup 网络的机器上：rustup target add $t"
    fi
}

# Builds target $1 as planned into target-$1/; prints the binary's path.
build() {
    local t=$1 dir="$ROOT/target-$1" exe=formpress
    case $t in *windows*) exe=formpress.exe ;; esac
    local env=(CARGO_TARGET_DIR="$dir") cmd
    case $t in
        *-linux-gnu) cmd=(cargo zigbuild --target "$t.$GLIBC") ;;
        *) cmd=(cargo build --target "$t")
           env+=(CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc) ;;
    esac
    case $how in
        debian-std) env+=(RUSTC="$DEB_RUSTC" CARGO="$DEB_CARGO") ;;
        debian-build-std)
            env+=(RUSTC="$DEB_RUSTC" RUSTC_BOOTSTRAP=1 CARGO="$DEB_CARGO")
            cmd=("$DEB_CARGO" "${cmd[@]:1}" -Zbuild-std=std,panic_unwind) ;;
    esac
    say "$t: ${cmd[*]} ($how)"
    local start=$SECONDS
    # Explicit returns: errexit does not hold in a function run as an `if` condition.
    env "${env[@]}" nice -n 19 "${cmd[@]}" --profile "$PROFILE" --locked ${JOBS:+--jobs "$JOBS"} --bin formpress >&2 ||
        return 1
    say "$t: built in $((SECONDS - start)) s"
    echo "$dir/$t/$PROFILE/$exe"
}

# The folder every archive holds: the binary, 安装与使用 and the fonts' licences.
stage() {
    local t=$1 bin=$2 name="formpress-$VERSION-$1"
    local dir="$OUT/$name"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$bin" fonts/OFL.txt fonts/DejaVu-LICENSE.txt "$dir/" || return 1
    case $t in
        *windows*)  # Notepad on older Windows wants a BOM and CRLF.
            { printf '\xef\xbb\xbf'; sed 's/$/\r/' release/安装与使用.txt; } > "$dir/README.txt"
            for f in OFL.txt DejaVu-LICENSE.txt; do sed -i 's/\r*$/\r/' "$dir/$f"; done ;;
        *) cp release/安装与使用.txt "$dir/README.txt" ;;
    esac
    touch -d "@$SOURCE_DATE_EPOCH" "$dir" "$dir"/*
    echo "$dir"
}

archive() {
    local t=$1 dir=$2 name
    name=$(basename "$dir")
    case $t in
        *windows*)  # zip from Python: ASCII names only, fixed order and dates.
            python3 - "$dir" "$OUT/$name.zip" <<'EOF'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
base = os.path.basename(src)
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for f in sorted(os.listdir(src)):
        path = os.path.join(src, f)
        info = zipfile.ZipInfo(f"{base}/{f}", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (0o755 if f.endswith(".exe") else 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as fh:
            z.writestr(info, fh.read())
EOF
            echo "$OUT/$name.zip" ;;
        *)
            tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
                -C "$OUT" -cf - "$name" | gzip -9n > "$OUT/$name.tar.gz"
            echo "$OUT/$name.tar.gz" ;;
    esac
}

# The .deb (cargo-deb, metadata in Cargo.toml): UOS's /opt/apps/formpress layout, with
# /usr/bin/formpress and the desktop entry also where Kylin and other desktops look.
deb() {
    local t=$1 arch
    case $t in x86_64-*) arch=amd64 ;; aarch64-*) arch=arm64 ;; esac
    local dir="$ROOT/target-$t/$t/$PROFILE"
    # UOS's info file names the architecture, so it is written per target next to the binary.
    sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$arch/" release/deb/info > "$dir/uos-info"
    CARGO_TARGET_DIR="$ROOT/target-$t" cargo deb --no-build --no-strip --target "$t" --profile "$PROFILE" \
        --output "$OUT/formpress_${VERSION}_$arch.deb" >&2
    echo "$OUT/formpress_${VERSION}_$arch.deb"
}

built=() failed=()
for t in "${targets[@]}"; do
    plan "$t"
    if [ -n "$why" ]; then
        say "$t: 此处无法构建：$why"
        failed+=("$t: $why")
        continue
    fi
    if ! bin=$(build "$t"); then
        failed+=("$t: 编译失败（见上面的输出）")
        continue
    fi
    say "$t: $(stat -c %s "$bin") bytes"
    if ! dir=$(stage "$t" "$bin"); then
        failed+=("$t: 打包失败（见上面的输出）")
        continue
    fi
    built+=("$(archive "$t" "$dir")")
    case $t in *linux*) built+=("$(deb "$t")") ;; esac
done

# The sums cover every download in $OUT, also those of earlier runs for other targets.
(cd "$OUT" && shopt -s nullglob && files=(*.tar.gz *.zip *.deb) && [ ${#files[@]} -gt 0 ] &&
    sha256sum -- "${files[@]}" > SHA256SUMS && say "written to $OUT:" && ls -l -- "${files[@]}" SHA256SUMS >&2) || true
if [ ${#failed[@]} -gt 0 ]; then
    say "not built here:"
    printf '    %s\n' "${failed[@]}" >&2
    exit 1
fi
