#!/usr/bin/env bash
# Builds static x86-64 Windows libraries of libyaml, pcre2 (8-bit) and sqlite3
# for the mingw-w64 cross build (cmake/mingw-w64.cmake), from Debian 12's own
# source packages, with Debian's mingw-w64 cross compiler. zlib is not built:
# it comes from Debian's binary package libz-mingw-w64-dev.
#
#   scripts/build-win-deps.sh [--refresh] PREFIX      (e.g. build-win/deps)
#
# Then:  PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig pkg-config --static \
#          --cflags --libs yaml-0.1 libpcre2-8 sqlite3 zlib
#
# Sources: a private apt configuration under PREFIX/src/apt (deb-src lines for
# bookworm, bookworm-updates, bookworm-security, signed by Debian's archive
# keyring) is used to `apt-get source` the packages; apt checks each file
# against the hashes in the signed Release files. /etc/apt is not touched.
# The source indexes are refreshed when older than a day, or with --refresh.
# If the mirror does not serve the current version of a package, the newest
# older one in the indexes is built, with a WARNING (also in the stamp).
#
# Idempotent: PREFIX/.win-deps.stamp records the source versions built; when
# they are still the current ones and the files are in place, it says so and
# exits. Each library also has its own stamp (PREFIX/src/stamps), so a run
# that failed half-way goes on from the library that failed.
#
# Environment: JOBS (parallel make jobs, default nproc);
#   WIN_DEPS_PCRE2_JIT=0 builds pcre2 without its JIT compiler;
#   WIN_DEPS_WINE_CHECK=1 runs pcre2test.exe under wine to check the JIT works
#   (falls back to no JIT when it does not).
#
# Compiler: the posix thread variant (x86_64-w64-mingw32-gcc-posix), as in
# cmake/mingw-w64.cmake: the program uses pthreads (winpthreads) and links
# these libraries into one static executable with the same runtime.
set -euo pipefail

RECIPE=1                         # bump when the build recipe changes
PKGS=(libyaml pcre2 sqlite3)
HOST=x86_64-w64-mingw32
CC_HOST=$HOST-gcc-posix
ZLIB_PKG=libz-mingw-w64-dev
MINGW_ROOT=/usr/$HOST
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

me=build-win-deps
say()  { printf '%s: %s\n' "$me" "$*"; }
die()  { printf '%s: error: %s\n' "$me" "$*" >&2; exit 1; }
usage() { echo "usage: scripts/build-win-deps.sh [--refresh] PREFIX" >&2; exit 2; }

refresh=0
prefix_arg=""
for a in "$@"; do
  case "$a" in
    --refresh) refresh=1 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [ -z "$prefix_arg" ] || usage; prefix_arg=$a ;;
  esac
done
[ -n "$prefix_arg" ] || usage

mkdir -p "$prefix_arg" || die "cannot create PREFIX $prefix_arg"
PREFIX=$(cd "$prefix_arg" && pwd -P)
WORK=$PREFIX/src
APTDIR=$WORK/apt
DL=$WORK/dl
BUILD=$WORK/build
LOGS=$WORK/logs
STAMPS=$WORK/stamps
STAMP=$PREFIX/.win-deps.stamp
PCDIR=$PREFIX/lib/pkgconfig
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$DL" "$BUILD" "$LOGS" "$STAMPS" "$PCDIR"

# Runs "$@" with its output in a log; on failure, names the step, shows the
# end of the log and what to do.
current_step=""
step() { current_step=${1%% (*}; say "$1"; }
run() { # run LOGNAME HINT CMD...
  local log=$LOGS/$1.log hint=$2; shift 2
  if ! "$@" >>"$log" 2>&1; then
    echo "---- last lines of $log ----" >&2
    tail -n 25 "$log" >&2 || true
    echo "----" >&2
    die "$current_step failed (command: $*). $hint Full log: $log"
  fi
}

# ---------------------------------------------------------------------------
# Private apt configuration (deb-src only). System proxy settings in
# /etc/apt/apt.conf.d still apply; sources, lists, cache, status and pins do not.
cat >"$APTDIR/debian-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: $KEYRING

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: $KEYRING
EOF
: >"$APTDIR/status"
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APTDIR/debian-src.sources"
  -o Dir::Etc::SourceParts=/nonexistent
  -o Dir::Etc::Preferences=/nonexistent
  -o Dir::Etc::PreferencesParts=/nonexistent
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::State::status=$APTDIR/status"
  -o "Dir::Cache=$APTDIR/cache"
  -o APT::Sandbox::User=root
  -o Acquire::Languages=none
  -o Acquire::Retries=3
  -o APT::Get::Only-Source=true
)

have_lists() { compgen -G "$APTDIR/lists/*_source_Sources*" >/dev/null; }
lists_fresh() { [ -n "$(find "$APTDIR/lists" -maxdepth 1 -name '*_InRelease' -mmin -1440 2>/dev/null | head -n1)" ]; }

apt_update() {
  local log=$LOGS/apt-update.log
  if apt-get -q "${APT_OPTS[@]}" update >"$log" 2>&1 && ! grep -qE '^(W|E): ' "$log"; then
    return 0
  fi
  if have_lists; then
    say "warning: apt-get update failed or warned (see $log); using the source indexes already in $APTDIR/lists"
    return 0
  fi
  tail -n 15 "$log" >&2
  die "step 'apt update' failed: could not fetch Debian's source indexes (network? proxy in /etc/apt/apt.conf.d?). Full log: $log"
}

# Current (candidate) version of a source package, from the .dsc name apt
# would fetch; printed without epoch, as in the file names.
candidate_version() {
  local out
  out=$(apt-get "${APT_OPTS[@]}" source --print-uris "$1" 2>/dev/null) || return 1
  printf '%s\n' "$out" | awk -v p="$1" '$2 ~ "^"p"_.*\\.dsc$" { v=$2; sub("^"p"_", "", v); sub("\\.dsc$", "", v); print v; exit }'
}

# All versions of a source package in the indexes, newest first, without epoch.
all_versions() {
  local v sorted=() i j t
  while read -r v; do sorted+=("$v"); done < <(apt-cache "${APT_OPTS[@]}" showsrc "$1" 2>/dev/null | awk '/^Version: /{print $2}' | sort -u)
  for ((i = 0; i < ${#sorted[@]}; i++)); do
    for ((j = i + 1; j < ${#sorted[@]}; j++)); do
      if dpkg --compare-versions "${sorted[j]}" gt "${sorted[i]}"; then
        t=${sorted[i]}; sorted[i]=${sorted[j]}; sorted[j]=$t
      fi
    done
  done
  for v in "${sorted[@]}"; do printf '%s\n' "${v#*:}"; done
}

expected_files() {
  printf '%s\n' include/yaml.h lib/libyaml.a lib/pkgconfig/yaml-0.1.pc \
    include/pcre2.h lib/libpcre2-8.a lib/pkgconfig/libpcre2-8.pc \
    include/sqlite3.h lib/libsqlite3.a lib/pkgconfig/sqlite3.pc lib/pkgconfig/zlib.pc
}

# ---------------------------------------------------------------------------
step "step 1/9: checking tools"
need_missing=()
need() { command -v "$1" >/dev/null 2>&1 || need_missing+=("$1 (Debian package $2)"); }
need "$CC_HOST" gcc-mingw-w64-x86-64-posix
need "$HOST-ar" binutils-mingw-w64-x86-64
need "$HOST-ranlib" binutils-mingw-w64-x86-64
need gcc gcc
need make make
need cmake cmake
need tclsh tcl
need dpkg-source dpkg-dev
need apt-get apt
need pkg-config pkgconf
[ -r "$KEYRING" ] || need_missing+=("$KEYRING (Debian package debian-archive-keyring)")
if [ ${#need_missing[@]} -gt 0 ]; then
  die "step 'checking tools': missing: ${need_missing[*]}. Install them with apt-get install <package> (as root)."
fi
if ! dpkg-query -W -f='${Status}' "$ZLIB_PKG" 2>/dev/null | grep -q 'install ok installed' \
   || [ ! -r "$MINGW_ROOT/include/zlib.h" ] || [ ! -r "$MINGW_ROOT/lib/libz.a" ]; then
  die "step 'checking tools': zlib for Windows is missing: install Debian's $ZLIB_PKG (apt-get install $ZLIB_PKG, or run scripts/install-deps.sh)."
fi
ZLIB_VERSION=$(dpkg-query -W -f='${Version}' "$ZLIB_PKG")
BUILD_TRIPLET=$(gcc -dumpmachine)

step "step 2/9: Debian source indexes (private apt config in $APTDIR)"
if [ "$refresh" = 1 ] || ! have_lists || ! lists_fresh; then
  apt_update
else
  say "  indexes are less than a day old (use --refresh to fetch them again)"
fi

declare -A CAND
for p in "${PKGS[@]}"; do
  CAND[$p]=$(candidate_version "$p") || true
  [ -n "${CAND[$p]}" ] || die "step 'Debian source indexes': no source package '$p' in $APTDIR/lists; run again with --refresh."
done

# Idempotent path: same source versions, same recipe, files in place.
want_stamp=$(
  echo "recipe $RECIPE"
  for p in "${PKGS[@]}"; do echo "candidate $p ${CAND[$p]}"; done
  echo "zlib $ZLIB_PKG $ZLIB_VERSION"
  echo "option pcre2-jit ${WIN_DEPS_PCRE2_JIT:-1}"
)
if [ -f "$STAMP" ] && [ "$(grep -E '^(recipe|candidate|zlib|option) ' "$STAMP")" = "$want_stamp" ]; then
  ok=1
  while read -r f; do [ -f "$PREFIX/$f" ] || { ok=0; break; }; done < <(expected_files)
  if [ "$ok" = 1 ]; then
    say "up to date in $PREFIX:"
    grep -E '^built ' "$STAMP" | sed "s/^built /$me:   /"
    say "PKG_CONFIG_LIBDIR=$PCDIR"
    exit 0
  fi
fi
rm -f "$STAMP"

# ---------------------------------------------------------------------------
step "step 3/9: fetching Debian sources (apt-get source, hashes checked against signed Release files)"
declare -A VER
for p in "${PKGS[@]}"; do
  got=""
  for v in "${CAND[$p]}" $(all_versions "$p" | grep -vxF -- "${CAND[$p]}"); do
    [ -z "$got" ] || break
    if [ -f "$STAMPS/$p.done" ] && [[ "$(cat "$STAMPS/$p.done")" == "$p $v "*"recipe $RECIPE" ]] \
       && [ -f "$DL/${p}_$v.dsc" ]; then
      got=$v; break        # already built from this version
    fi
    if (cd "$DL" && apt-get -q "${APT_OPTS[@]}" source --download-only "$p=$v") >>"$LOGS/fetch-$p.log" 2>&1 \
       && [ -f "$DL/${p}_$v.dsc" ]; then
      got=$v
    elif [ "$v" = "${CAND[$p]}" ]; then
      say "  WARNING: could not download $p ${CAND[$p]} (the current version; see $LOGS/fetch-$p.log); trying older versions from the indexes"
    fi
  done
  [ -n "$got" ] || die "step 'fetching Debian sources': could not download any version of $p. See $LOGS/fetch-$p.log; check the network, or run with --refresh."
  [ "$got" = "${CAND[$p]}" ] || say "  WARNING: $p: built from $got, NOT the current $p ${CAND[$p]}, which the mirror did not serve"
  VER[$p]=$got
  say "  $p $got"
done

# ---------------------------------------------------------------------------
# Cross environment.
export CC=$CC_HOST AR=$HOST-ar RANLIB=$HOST-ranlib STRIP=$HOST-strip NM=$HOST-nm
export CFLAGS="-O2 -pipe"
export PKG_CONFIG_LIBDIR=$PCDIR PKG_CONFIG_PATH=""
unset CPPFLAGS LDFLAGS CXX || true

unpack() { # unpack PKG VERSION -> sets SRCDIR
  local p=$1 v=$2
  SRCDIR=$BUILD/$p-$v
  rm -rf "$SRCDIR"
  : >"$LOGS/$p.log"
  # dpkg-source checks the files against the .dsc; the signature on the .dsc
  # cannot be checked without debian-keyring, but apt has checked the .dsc.
  run "$p" "The source package in $DL may be damaged: delete $DL/${p}_* and run again." \
    dpkg-source --no-copy -x "$DL/${p}_$v.dsc" "$SRCDIR"
}
done_stamp() { echo "$1 $2 recipe $RECIPE" >"$STAMPS/$1.done"; }
is_done() { [ -f "$STAMPS/$1.done" ] && [ "$(cat "$STAMPS/$1.done")" = "$1 $2 recipe $RECIPE" ]; }
upstream() { local v=${1%-*}; echo "${v%%+*}"; }

# ---------------------------------------------------------------------------
p=libyaml v=${VER[libyaml]}
step "step 4/9: libyaml $v (CMake, static, $CC)"
if is_done "$p" "$v" && [ -f "$PREFIX/lib/libyaml.a" ]; then
  say "  already built"
else
  unpack "$p" "$v"
  hint="Check the CMake output in the log."
  # The Debian source has no generated configure (Debian runs autoreconf); its
  # CMake build needs no autotools. It does not install yaml-0.1.pc: written below.
  run "$p" "$hint" cmake -S "$SRCDIR" -B "$SRCDIR/_build" \
    -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_SYSTEM_PROCESSOR=x86_64 \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_AR="$(command -v "$AR")" -DCMAKE_RANLIB="$(command -v "$RANLIB")" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="$CFLAGS -DNDEBUG" \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DINSTALL_CMAKE_DIR=lib/cmake/yaml
  run "$p" "$hint" cmake --build "$SRCDIR/_build" -j "$JOBS"
  run "$p" "$hint" cmake --install "$SRCDIR/_build"
  cat >"$PCDIR/yaml-0.1.pc" <<EOF
prefix=$PREFIX
exec_prefix=\${prefix}
includedir=\${prefix}/include
libdir=\${exec_prefix}/lib

Name: LibYAML
Description: Library to parse and emit YAML (static, Windows x86-64; Debian source $v)
Version: $(upstream "$v")
Cflags: -I\${includedir} -DYAML_DECLARE_STATIC
Libs: -L\${libdir} -lyaml
EOF
  done_stamp "$p" "$v"
fi

# ---------------------------------------------------------------------------
p=pcre2 v=${VER[pcre2]}
jit=${WIN_DEPS_PCRE2_JIT:-1}
build_pcre2() { # build_pcre2 JIT(0|1)
  unpack pcre2 "$v"
  local hint="Try WIN_DEPS_PCRE2_JIT=0 if the failure is in the JIT (sljit)." jitflag=--disable-jit
  [ "$1" = 1 ] && jitflag=--enable-jit
  (cd "$SRCDIR" && run pcre2 "$hint" ./configure --host="$HOST" --build="$BUILD_TRIPLET" \
    --prefix="$PREFIX" --disable-shared --enable-static \
    --enable-pcre2-8 --disable-pcre2-16 --disable-pcre2-32 --enable-unicode "$jitflag" \
    --disable-pcre2grep-libz --disable-pcre2grep-libbz2 \
    --disable-pcre2test-libreadline --disable-pcre2test-libedit)
  # pcre2test.exe is built too: it checks the JIT under wine (WIN_DEPS_WINE_CHECK=1).
  (cd "$SRCDIR" && run pcre2 "$hint" make -j "$JOBS" libpcre2-8.la libpcre2-posix.la pcre2test.exe)
}
step "step 5/9: pcre2 $v (autotools --host=$HOST, 8-bit only, static, JIT $([ "$jit" = 1 ] && echo on || echo off))"
if is_done "$p" "$v jit-request=$jit" && [ -f "$PREFIX/lib/libpcre2-8.a" ]; then
  say "  already built"
  jit=$(sed -n 's/^jit //p' "$STAMPS/pcre2.jit" 2>/dev/null || echo "$jit")
else
  build_pcre2 "$jit"
  if [ "$jit" = 1 ] && [ "${WIN_DEPS_WINE_CHECK:-0}" = 1 ]; then
    command -v wine >/dev/null || die "step 'pcre2': WIN_DEPS_WINE_CHECK=1 but wine is not installed (apt-get install wine)."
    say "  checking the JIT under wine (pcre2test.exe)"
    # jitverify: pcre2test marks matches the JIT made with "(JIT)".
    printf '/(a|b)+c\\d{2}/jit,jitverify\n    xxababc42yy\n' >"$SRCDIR/jit-check.in"
    if (cd "$SRCDIR" && WINEDEBUG=-all timeout 300 wine ./pcre2test.exe -q jit-check.in) >"$LOGS/pcre2-jitcheck.log" 2>&1 \
       && grep -q ' 0: ababc42 (JIT)' "$LOGS/pcre2-jitcheck.log"; then
      say "  JIT works under wine"
    else
      say "  WARNING: the JIT did not work under wine (see $LOGS/pcre2-jitcheck.log): building pcre2 without JIT"
      jit=0
      build_pcre2 0
    fi
  fi
  (cd "$SRCDIR" && run pcre2 "Installing pcre2 into $PREFIX failed." \
    make install-libLTLIBRARIES install-includeHEADERS install-nodist_includeHEADERS install-pkgconfigDATA)
  rm -f "$PREFIX"/lib/libpcre2-*.la
  # --disable-shared makes the .pc carry -DPCRE2_STATIC; make sure of it.
  for pc in "$PCDIR/libpcre2-8.pc" "$PCDIR/libpcre2-posix.pc"; do
    [ -f "$pc" ] || continue
    grep -q -- '-DPCRE2_STATIC' "$pc" || sed -i '/^Cflags:/ s/$/ -DPCRE2_STATIC/' "$pc"
  done
  echo "jit $jit" >"$STAMPS/pcre2.jit"
  done_stamp "$p" "$v jit-request=${WIN_DEPS_PCRE2_JIT:-1}"
fi

# ---------------------------------------------------------------------------
p=sqlite3 v=${VER[sqlite3]}
step "step 6/9: sqlite3 $v (full source, autotools --host=$HOST, BUILD_CC=gcc, tclsh; threadsafe, no load_extension, static)"
if is_done "$p" "$v" && [ -f "$PREFIX/lib/libsqlite3.a" ]; then
  say "  already built"
else
  unpack "$p" "$v"
  hint="The sqlite3 build generates sources with native tools (gcc, tclsh) then cross-compiles sqlite3.c; see the log."
  # Debian's feature set (debian/rules CFLAGS), without load_extension.
  sqlite_cflags="$CFLAGS -fno-strict-aliasing -DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_COLUMN_METADATA \
 -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1 \
 -DSQLITE_ENABLE_UNLOCK_NOTIFY -DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB \
 -DSQLITE_ALLOW_ROWID_IN_VIEW -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1 -DSQLITE_ENABLE_JSON1 \
 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_FTS3_TOKENIZER=1 \
 -DSQLITE_USE_URI=1 -DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_ENABLE_PREUPDATE_HOOK \
 -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_STMTVTAB -DSQLITE_MAX_VARIABLE_NUMBER=250000"
  # CROSS_BUILDING=yes selects Debian's cross patch (lemon built with BUILD_CC).
  # config_TARGET_EXEEXT=.exe makes configure pick SQLITE_OS_WIN (else it
  # would build the Unix OS layer). zlib is only for the sqlite3 shell and
  # extensions: ac_cv_search_deflate=no keeps -lz out of sqlite3.pc.
  (cd "$SRCDIR" && export CROSS_BUILDING=yes && run "$p" "$hint" ./configure --host="$HOST" --build="$BUILD_TRIPLET" \
    --prefix="$PREFIX" --disable-shared --enable-static \
    --enable-threadsafe --disable-load-extension --enable-fts4 --enable-fts5 \
    --disable-tcl --disable-readline --disable-editline \
    BUILD_CC=gcc BUILD_CFLAGS="-O2" TCLSH_CMD=tclsh CFLAGS="$sqlite_cflags" \
    config_TARGET_EXEEXT=.exe ac_cv_search_deflate=no)
  grep -q -- '-DSQLITE_OS_WIN=1' "$SRCDIR/Makefile" \
    || die "step 'sqlite3': configure did not select the Windows OS layer (no -DSQLITE_OS_WIN=1 in $SRCDIR/Makefile)."
  # BEXE: the native tools (mksourceid, lemon, ...) have no .exe suffix.
  (cd "$SRCDIR" && export CROSS_BUILDING=yes && run "$p" "$hint" make -j "$JOBS" BEXE= libsqlite3.la sqlite3.h sqlite3.pc)
  (cd "$SRCDIR" && export CROSS_BUILDING=yes && run "$p" "Installing sqlite3 into $PREFIX failed." make BEXE= lib_install)
  install -d "$PREFIX/include"
  install -m 0644 "$SRCDIR/sqlite3.h" "$SRCDIR/src/sqlite3ext.h" "$PREFIX/include/"
  install -m 0644 "$SRCDIR/sqlite3.pc" "$PCDIR/sqlite3.pc"
  rm -f "$PREFIX/lib/libsqlite3.la"
  grep -q 'SQLITE_OMIT_LOAD_EXTENSION' "$SRCDIR/Makefile" \
    || die "step 'sqlite3': configure did not turn load_extension off (no SQLITE_OMIT_LOAD_EXTENSION in Makefile)."
  done_stamp "$p" "$v"
fi

# ---------------------------------------------------------------------------
step "step 7/9: zlib.pc for Debian's $ZLIB_PKG $ZLIB_VERSION ($MINGW_ROOT)"
zver=$(sed -n 's/^Version: *//p' "$MINGW_ROOT/lib/pkgconfig/zlib.pc" 2>/dev/null || true)
[ -n "$zver" ] || zver=$(upstream "$ZLIB_VERSION")
cat >"$PCDIR/zlib.pc" <<EOF
# zlib from Debian's binary package $ZLIB_PKG $ZLIB_VERSION. Its lib dir also
# has libz.dll.a: link with -static (or give the full path of libz.a) so that
# the static libz.a is used.
prefix=$MINGW_ROOT
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: zlib
Description: zlib compression library (Debian $ZLIB_PKG $ZLIB_VERSION)
Version: $zver
Cflags: -I\${includedir}
Libs: -L\${libdir} -lz
EOF

# ---------------------------------------------------------------------------
step "step 8/9: checking the result (static archives only, pkg-config)"
while read -r f; do
  [ -f "$PREFIX/$f" ] || die "step 'checking the result': $PREFIX/$f is missing. Delete $STAMPS and run again."
done < <(expected_files)
if compgen -G "$PREFIX/lib/*.dll.a" >/dev/null || compgen -G "$PREFIX/bin/*.dll" >/dev/null; then
  die "step 'checking the result': import libraries or DLLs found in $PREFIX; only static libraries were wanted."
fi
pc_out=$(PKG_CONFIG_LIBDIR=$PCDIR pkg-config --static --cflags --libs yaml-0.1 libpcre2-8 sqlite3 zlib 2>&1) \
  || die "step 'checking the result': pkg-config failed: $pc_out"
for d in -DYAML_DECLARE_STATIC -DPCRE2_STATIC; do
  case " $pc_out " in *" $d "*) ;; *) die "step 'checking the result': pkg-config Cflags lack $d: $pc_out" ;; esac
done
for a in libyaml.a libpcre2-8.a libsqlite3.a; do
  fmt=$("$HOST-objdump" -f "$PREFIX/lib/$a" 2>/dev/null | sed -n 's/.*file format //p' | sort -u)
  [ "$fmt" = pe-x86-64 ] \
    || die "step 'checking the result': $PREFIX/lib/$a is not an x86-64 Windows (pe-x86-64) archive."
done

step "step 9/9: writing $STAMP"
{
  echo "$want_stamp"
  for p in "${PKGS[@]}"; do
    extra=""
    [ "$p" = pcre2 ] && extra=" (8-bit, JIT $([ "$jit" = 1 ] && echo on || echo off))"
    [ "$p" = sqlite3 ] && extra=" (threadsafe, no load_extension)"
    [ "${VER[$p]}" = "${CAND[$p]}" ] || extra="$extra [current is ${CAND[$p]}, not served by the mirror]"
    echo "built $p ${VER[$p]}$extra"
  done
  echo "built zlib $ZLIB_VERSION (Debian binary package $ZLIB_PKG)"
  echo "compiler $CC_HOST $($CC_HOST -dumpversion)"
} >"$STAMP"

say "done. Debian source versions built:"
grep -E '^built ' "$STAMP" | sed "s/^built /$me:   /"
say "PKG_CONFIG_LIBDIR=$PCDIR"
say "  e.g. PKG_CONFIG_LIBDIR=$PCDIR pkg-config --static --cflags --libs yaml-0.1 libpcre2-8 sqlite3 zlib"
