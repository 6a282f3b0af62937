#!/usr/bin/env bash
# Proves deploy/Dockerfile's runtime stage and deploy/postdesk.service without a Docker engine or systemd.
#
#   deploy/check-runtime.sh build      the build stage's own build command on this machine (static release
#                                      binary in .build-static, completions beside it in .build-static/out)
#   deploy/check-runtime.sh runtime    the runtime stage replayed in a debootstrap bookworm chroot: its RUN lines
#                                      (so only the packages it names), its COPY, ENV, USER and WORKDIR; then
#                                      ENTRYPOINT+CMD (postdesk serve), postdesk status and the HEALTHCHECK inside it
#   deploy/check-runtime.sh libraries  ldd of the binary in that root: every library comes from a package the
#                                      Dockerfile installs or from the base image
#   deploy/check-runtime.sh paths      POSTDESK_* variables and paths of the Dockerfile and the unit against
#                                      `postdesk serve --help` and each other
#   deploy/check-runtime.sh unit       systemd-analyze verify of the unit; the binary's system calls under strace
#                                      against its SystemCallFilter; serve under the kernel's memory-deny-write-
#                                      execute (MemoryDenyWriteExecute=yes)
#   deploy/check-runtime.sh prepare    build (incremental), and lay the cached minbase root (scripts/test.sh runs it)
#   deploy/check-runtime.sh all        every part, in that order (the default)
#
# Needs root (debootstrap, chroot, mount), debootstrap, strace, python3 and the network route to Debian's
# archive. The minbase root is cached in $POSTDESK_DEPLOY_CACHE (default /var/cache/postdesk-deploy) and
# reused; each run works on a fresh copy of it. Every check prints "ok: ..."; the first failure prints
# "FAIL: ..." and exits 1. POSTDESK_DOCKERFILE and POSTDESK_UNIT check other files (the tests' broken copies).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dockerfile=${POSTDESK_DOCKERFILE:-$repo/deploy/Dockerfile}
unit=${POSTDESK_UNIT:-$repo/deploy/postdesk.service}
cache=${POSTDESK_DEPLOY_CACHE:-/var/cache/postdesk-deploy}
mirror=${POSTDESK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
scratch="$repo/.build-static"
out="$scratch/out"
binary="$out/usr/local/bin/postdesk"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

# --- reading the Dockerfile -------------------------------------------------------------------------------------

# The logical instructions of stage $1 ("build" or "runtime"), one a line: continuations joined, comments dropped.
stage_instructions() {
    awk -v want="$1" '
        /^[[:space:]]*#/ { next }
        {
            line = $0
            if (sub(/\\[[:space:]]*$/, "", line)) { buf = buf line " "; next }
            buf = buf line
            if (buf ~ /^[[:space:]]*$/) { buf = ""; next }
            if (toupper(buf) ~ /^FROM /) { n = split(buf, w, /[[:space:]]+/); stage = tolower(w[n]) }
            else if (stage == want) { gsub(/[[:space:]]+/, " ", buf); print buf }
            buf = ""
        }' "$dockerfile"
}

# The words after the first instruction $2 of stage $1 (e.g. runtime USER).
instruction() {
    stage_instructions "$1" | awk -v k="$2" 'toupper($1) == k { $1 = ""; sub(/^ /, ""); print; exit }'
}

# The packages the runtime stage installs: the words after `apt-get install` that are not options.
runtime_packages() {
    stage_instructions runtime | grep -o 'apt-get install[^&;|]*' | sed 's/^apt-get install//' | tr ' ' '\n' \
        | grep -v '^-' | grep -v '^$' || true
}

# Every ENV pair of the runtime stage as NAME=VALUE lines (only the NAME=VALUE form is used in deploy/).
runtime_env() {
    stage_instructions runtime | awk 'toupper($1) == "ENV" { for (i = 2; i <= NF; i++) print $i }'
}

env_value() { runtime_env | sed -n "s/^$1=//p" | tail -n 1; }

# A JSON array of strings (exec form) as one word a line.
json_words() { python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$1"; }

# The unit's value of key $1 (the last one wins, as in systemd), and of Environment variable $2.
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
unit_env() { sed -n "s/^Environment=$1=//p" "$unit" | tail -n 1; }

# --- build ------------------------------------------------------------------------------------------------------

# Runs the build stage's build command (the RUN that calls swift build) here, its /out moved to .build-static/out.
build() {
    local command
    command=$(stage_instructions build | sed -n 's/^RUN //p' | grep 'swift build' | head -n 1)
    [[ -n "$command" ]] || fail "the build stage has no RUN with swift build"
    [[ "$command" == *"--static-swift-stdlib"* && "$command" == *"-c release"* ]] \
        || fail "the build stage's swift build is not a release build with --static-swift-stdlib: $command"
    rm -rf "$out"
    mkdir -p "$scratch"
    local started=$SECONDS
    (cd "$repo" && nice -n 10 bash -euo pipefail -c "${command//\/out/$out}")
    [[ -x "$binary" ]] || fail "the build command made no $binary"
    ok "built $("$binary" --version) with the Dockerfile's command in $((SECONDS - started)) s"
}

need_binary() {
    [[ -x "$binary" ]] || build
}

# --- the runtime root -------------------------------------------------------------------------------------------

base="$cache/bookworm-minbase"
root=""
server_pid=""

cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$root" ]]; then
        for mount in "$root/dev" "$root/proc"; do
            if mountpoint -q "$mount"; then umount -l "$mount" || true; fi
        done
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT

# A minimal bookworm root (debootstrap minbase: what debian:bookworm-slim is made of), made once and cached.
base_root() {
    if [[ ! -f "$base/.complete" ]]; then
        command -v debootstrap >/dev/null || fail "debootstrap is missing (scripts/install-deps.sh installs it)"
        rm -rf "$base.tmp"
        mkdir -p "$cache"
        local started=$SECONDS
        nice -n 10 debootstrap --variant=minbase bookworm "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 \
            || fail "debootstrap failed; see $cache/debootstrap.log"
        chroot "$base.tmp" dpkg-query -W -f '${Package}\n' >"$base.tmp/.base-packages"
        rm -rf "$base"
        mv "$base.tmp" "$base"
        touch "$base/.complete"
        ok "laid a bookworm minbase root in $base in $((SECONDS - started)) s"
    fi
}

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# A fresh copy of the base with the runtime stage replayed on it: RUN, COPY --from=build, ENV, VOLUME, USER, WORKDIR.
runtime_root() {
    need_binary
    base_root
    root=$(mktemp -d "$cache/run.XXXXXX")
    cp -a "$base/." "$root/"
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    run_env=()
    run_user=root
    run_dir=/
    local keyword rest
    while IFS= read -r line; do
        keyword=${line%% *}
        rest=${line#* }
        case "${keyword^^}" in
            RUN)
                in_root HOME=/root "${run_env[@]}" /bin/sh -ec "$rest" >>"$root.log" 2>&1 \
                    || fail "runtime stage RUN failed in the chroot: $rest (log: $(tail -n 5 "$root.log"))"
                ;;
            COPY)
                [[ "$rest" == "--from=build /out/ /" ]] || fail "unknown COPY in the runtime stage: $rest"
                cp -a "$out/." "$root/"
                ;;
            ENV) for pair in $rest; do run_env+=("$pair"); done ;;
            VOLUME) for path in $(json_words "$rest"); do mkdir -p "$root$path"; done ;;
            USER) run_user=$rest ;;
            WORKDIR) run_dir=$rest ;;
            STOPSIGNAL | HEALTHCHECK | ENTRYPOINT | CMD | LABEL | EXPOSE) ;;
            *) fail "the runtime stage has $keyword, which this check does not replay" ;;
        esac
    done < <(stage_instructions runtime)
    rm -f "$root.log"
    ok "replayed the runtime stage on a copy of the minbase root ($(runtime_packages | tr '\n' ' ')installed)"
}

# Runs a command in the root as the stage's USER, in its WORKDIR, with its ENV (as docker exec would).
as_container() {
    ${exec_container:+exec} chroot --userspec="$run_user:$run_user" "$root" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${run_env[@]}" \
        /bin/sh -c 'cd "$0" && exec "$@"' "$run_dir" "$@"
}

runtime() {
    runtime_root
    local data socket entry health answer
    data=$(env_value POSTDESK_DATA_DIR)
    socket=$(env_value POSTDESK_SOCKET)
    [[ -n "$data" && -n "$socket" ]] || fail "the runtime stage sets no POSTDESK_DATA_DIR or POSTDESK_SOCKET"
    mapfile -t entry < <(json_words "$(instruction runtime ENTRYPOINT)"; json_words "$(instruction runtime CMD)")
    [[ "${entry[*]}" == "postdesk serve" ]] || fail "ENTRYPOINT+CMD is '${entry[*]}', expected 'postdesk serve'"
    local uid
    uid=$(as_container id -u)
    [[ "$uid" != 0 ]] || fail "the runtime stage's USER $run_user is root"

    # exec: the background job must be serve itself, so that the signals below reach it, not a subshell.
    (exec_container=1 as_container "${entry[@]}") >"$root/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        [[ -S "$root$socket" ]] && break
        kill -0 "$server_pid" 2>/dev/null || fail "postdesk serve exited in the chroot: $(tail -n 20 "$root/serve.log")"
        sleep 0.1
    done
    [[ -S "$root$socket" ]] || fail "no admin socket at $socket after 30 s: $(tail -n 20 "$root/serve.log")"
    ok "postdesk serve ($run_user, ENTRYPOINT+CMD) opened its admin socket at $socket"

    [[ "$(stat -c %a "$root$socket")" == 600 ]] || fail "the admin socket's mode is $(stat -c %a "$root$socket")"
    answer=$(as_container postdesk status 2>&1) || fail "postdesk status in the chroot failed: $answer"
    [[ "$answer" == *"No mailboxes are running."* && "$answer" == *"SMTP relay: not set"* ]] \
        || fail "unexpected postdesk status answer: $answer"
    ok "postdesk status in the chroot answered: $(echo "$answer" | tr '\n' ' ')"

    answer=$(as_container postdesk project create DP --name Deploy --signup public 2>&1) \
        || fail "project create in the chroot failed: $answer"
    answer=$(as_container postdesk project list 2>&1) || fail "project list failed: $answer"
    [[ "$answer" == *"DP"*"Deploy"* ]] || fail "project list does not show the new project: $answer"
    [[ -n "$(find "$root$data" -maxdepth 1 -name '*.sqlite' -uid "$uid" -print -quit)" ]] \
        || fail "no database owned by $run_user in $data: $(ls -la "$root$data")"
    ok "a project was stored in $data and listed back"

    mapfile -t health < <(json_words "$(instruction runtime HEALTHCHECK | sed 's/.*CMD //')")
    [[ "${health[*]}" == "postdesk status --check" ]] || fail "HEALTHCHECK runs '${health[*]}'"
    answer=$(as_container "${health[@]}" 2>&1) || fail "the HEALTHCHECK failed: $answer"
    [[ "$answer" == ok:* && $(echo "$answer" | wc -l) == 1 ]] || fail "the HEALTHCHECK printed: $answer"
    ok "HEALTHCHECK (${health[*]}) exited 0: $answer"

    answer=$(as_container postdesk --version) || fail "postdesk --version failed"
    [[ "$answer" == "$("$binary" --version)" ]] || fail "postdesk --version in the chroot says $answer"
    for completion in /usr/share/bash-completion/completions/postdesk /usr/share/zsh/vendor-completions/_postdesk \
        /usr/share/fish/vendor_completions.d/postdesk.fish; do
        grep -q status "$root$completion" || fail "no completion script at $completion"
    done
    [[ -s "$root/etc/ssl/certs/ca-certificates.crt" && -e "$root/usr/share/zoneinfo/Asia/Tokyo" ]] \
        || fail "CA roots or time zones are missing in the runtime root"
    ok "version $answer, completions for bash, zsh and fish, CA roots and time zones are in place"

    kill -TERM "$server_pid"
    local status=0
    wait "$server_pid" || status=$?
    server_pid=""
    [[ "$status" == 0 ]] || fail "postdesk serve exited $status after SIGTERM: $(tail -n 20 "$root/serve.log")"
    [[ ! -e "$root$socket" ]] || fail "the admin socket is still there after SIGTERM"
    ok "SIGTERM (STOPSIGNAL $(instruction runtime STOPSIGNAL)) stopped serve cleanly, its socket removed"
}

# --- libraries --------------------------------------------------------------------------------------------------

libraries() {
    [[ -n "$root" ]] || runtime_root
    local allowed listing path owner package found=0 used=()
    allowed=$( (runtime_packages; cat "$base/.base-packages") | sort -u)
    listing=$(in_root ldd /usr/local/bin/postdesk) || fail "ldd failed in the runtime root: $listing"
    if grep -q 'not found' <<<"$listing"; then fail "libraries missing in the runtime root: $listing"; fi
    while read -r path; do
        owner=""
        for candidate in "$path" "/usr$path" "${path#/usr}"; do
            owner=$(in_root dpkg -S "$candidate" 2>/dev/null | head -n 1) && break
        done
        [[ -n "$owner" ]] || fail "no package of the runtime root provides $path"
        package=${owner%%:*}
        grep -qx "$package" <<<"$allowed" || fail "$path comes from $package, which the Dockerfile does not install"
        used+=("$(basename "$path")=$package")
        found=$((found + 1))
    done < <(grep -o '/[^ ]*' <<<"$listing")
    [[ "$found" -gt 0 ]] || fail "ldd listed no libraries: $listing"
    [[ " ${used[*]} " == *"=libsqlite3-0 "* ]] || fail "the binary does not link libsqlite3 from libsqlite3-0"
    ok "ldd lists $found libraries, each from the minbase root or the Dockerfile's packages: ${used[*]}"
}

# --- paths and variables ----------------------------------------------------------------------------------------

paths() {
    need_binary
    local help variables data socket socket_dir
    # The help wraps its lines: read it as one line with single spaces.
    help=$(COLUMNS=200 "$binary" serve --help | tr -s ' \n' '  ')
    variables=$(cat "$dockerfile" "$unit" | grep -o 'POSTDESK_[A-Z_]*' | sort -u)
    [[ -n "$variables" ]] || fail "neither file names a POSTDESK_ variable"
    for variable in $variables; do
        grep -qE "env ${variable}[^A-Z_]" <<<"$help" || fail "$variable is used in deploy/ but postdesk serve --help has no such variable"
    done
    grep -q -- "--data-dir <data-dir> Directory for the database and the admin socket (env POSTDESK_DATA_DIR[;)]" \
        <<<"$help" \
        || fail "serve --help does not tie --data-dir to POSTDESK_DATA_DIR"
    grep -q -- "--socket <socket> Admin socket path (env POSTDESK_SOCKET; default DATA_DIR/admin.sock)" <<<"$help" \
        || fail "serve --help does not tie --socket to POSTDESK_SOCKET"
    ok "every variable of the Dockerfile and the unit is a serve flag's: $(echo $variables)"

    data=$(env_value POSTDESK_DATA_DIR)
    socket=$(env_value POSTDESK_SOCKET)
    socket_dir=$(dirname "$socket")
    json_words "$(instruction runtime VOLUME)" | grep -qx "$data" || fail "VOLUME is not POSTDESK_DATA_DIR $data"
    [[ "$(instruction runtime WORKDIR)" == "$data" ]] || fail "WORKDIR is not $data"
    stage_instructions runtime | grep -q "install -d -o postdesk -g postdesk -m 0755 $socket_dir" \
        || fail "the runtime stage does not make the socket directory $socket_dir for the user"
    stage_instructions runtime | grep -q "install -d -o postdesk -g postdesk -m 0700 $data" \
        || fail "the runtime stage does not make $data owner-only for the user"
    [[ "$(unit_env POSTDESK_DATA_DIR)" == "$data" && "/var/lib/$(unit_value StateDirectory | cut -d' ' -f1)" == "$data" ]] \
        || fail "the unit's POSTDESK_DATA_DIR and StateDirectory are not $data"
    [[ "$(unit_env POSTDESK_SOCKET)" == "$socket" && "/run/$(unit_value RuntimeDirectory)" == "$socket_dir" ]] \
        || fail "the unit's POSTDESK_SOCKET and RuntimeDirectory are not $socket in $socket_dir"
    local exec_start
    exec_start=$(unit_value ExecStart)
    [[ "$exec_start" == "/usr/local/bin/postdesk serve" && -x "$out/usr/local/bin/postdesk" ]] \
        || fail "the unit runs '$exec_start', not the /usr/local/bin/postdesk the image installs"
    ok "data $data (VOLUME, WORKDIR, StateDirectory), socket $socket (RuntimeDirectory), binary /usr/local/bin/postdesk"

    local stop_timeout
    stop_timeout=$(unit_value TimeoutStopSec)
    [[ "${stop_timeout%s}" -gt 20 ]] || fail "TimeoutStopSec=$stop_timeout is not above serve's 20 s drain"
    ok "TimeoutStopSec=$stop_timeout is above serve's 20 s graceful deadline"
}

# --- the systemd unit -------------------------------------------------------------------------------------------

# The system calls of `postdesk serve` and one `postdesk status` against it, under strace, with the memory-deny-
# write-execute prctl (PR_SET_MDWE, what MemoryDenyWriteExecute=yes uses where the kernel has it) in force.
unit() {
    need_binary
    local answer work trace allowed denied used
    work=$(mktemp -d)
    # verify checks that ExecStart's binary exists: point it at the one built here (paths checks the real path),
    # so that nothing is installed on this machine. The rest of the unit is verified as it is.
    mkdir "$work/unit"
    sed "s|^ExecStart=/usr/local/bin/postdesk |ExecStart=$binary |" "$unit" >"$work/unit/postdesk.service"
    answer=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$work/unit/postdesk.service" 2>&1) \
        || fail "systemd-analyze verify: $answer"
    [[ -z "$answer" ]] || fail "systemd-analyze verify warns: $answer"
    ok "systemd-analyze verify deploy/postdesk.service: no warnings"

    grep -qx 'MemoryDenyWriteExecute=yes' "$unit" || fail "the unit does not set MemoryDenyWriteExecute=yes"
    trace="$work/trace"
    # PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1: no W+X mapping, no mapping made executable later.
    local mdwe='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE: " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])'
    # The control: under the wrapper a writable and executable mapping is refused, even after execve.
    if python3 -c "$mdwe" "$(command -v python3)" -c 'import mmap; mmap.mmap(-1, 4096, prot=7)' 2>/dev/null; then
        fail "PR_SET_MDWE did not refuse a writable and executable mapping: this kernel cannot check it"
    fi
    strace -f -qq -o "$trace" python3 -c "$mdwe" "$binary" serve --data-dir "$work/data" \
        --socket "$work/admin.sock" >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        [[ -S "$work/admin.sock" ]] && break
        kill -0 "$server_pid" 2>/dev/null || fail "serve under MDWE exited: $(tail -n 20 "$work/serve.log")"
        sleep 0.1
    done
    answer=$("$binary" status --check --socket "$work/admin.sock" 2>&1) || fail "status against MDWE serve: $answer"
    [[ "$answer" == ok:* ]] || fail "status --check against MDWE serve printed: $answer"
    kill -TERM "$(pgrep -P "$server_pid" -n)" || fail "cannot find postdesk under strace"
    local status=0
    wait "$server_pid" || status=$?
    server_pid=""
    [[ "$status" == 0 ]] || fail "serve under MDWE exited $status: $(tail -n 20 "$work/serve.log")"
    ok "postdesk serve ran, answered status --check and stopped cleanly under PR_SET_MDWE (MemoryDenyWriteExecute)"

    # The calls made after python3 exec'd the binary, by it and its threads.
    used=$(awk '
        !started && /execve\("[^"]*\/postdesk"/ && / = 0$/ { started = 1; next }
        started { sub(/^[0-9]+ +/, ""); if (match($0, /^[a-z_0-9]+\(/)) print substr($0, 1, RLENGTH - 1) }' \
        "$trace" | sort -u)
    [[ -n "$used" ]] || fail "strace recorded no system calls of postdesk"
    allowed=$(unit_allowed_calls)
    local outside=()
    for call in $used; do
        grep -qx "$call" <<<"$allowed" || outside+=("$call")
    done
    rm -rf "$work"
    [[ ${#outside[@]} -eq 0 ]] || fail "postdesk makes system calls its SystemCallFilter refuses: ${outside[*]}"
    ok "all $(wc -w <<<"$used") system calls postdesk made are in the unit's SystemCallFilter"
}

# The calls the unit's SystemCallFilter lines allow, one a line, merged as systemd merges them: the first line
# (not starting with ~) is the allow list, each later line adds its calls, or removes them when it starts with ~.
unit_allowed_calls() {
    local allowed="" value calls
    while read -r value; do
        [[ "$value" != "~"* || -n "$allowed" ]] || fail "the unit's first SystemCallFilter is a deny list"
        calls=$(syscall_set ${value#\~})
        if [[ "$value" == "~"* ]]; then
            allowed=$(comm -23 <(echo "$allowed") <(echo "$calls"))
        else
            allowed=$( (echo "$allowed"; echo "$calls") | sed '/^$/d' | sort -u)
        fi
    done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
    [[ -n "$allowed" ]] || fail "the unit has no SystemCallFilter"
    echo "$allowed"
}

# The system call names the given sets and calls stand for, one a line.
syscall_set() {
    for item in "$@"; do
        if [[ "$item" == @* ]]; then
            systemd-analyze syscall-filter --no-pager "$item" | sed -n 's/^ \+\([a-z_0-9]\+\)$/\1/p'
            # Nested sets are listed by name: expand them too.
            syscall_set $(systemd-analyze syscall-filter --no-pager "$item" | sed -n 's/^ \+\(@[a-z-]\+\)$/\1/p')
        else
            echo "$item"
        fi
    done | sort -u
}

# --- main -------------------------------------------------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || fail "run as root (debootstrap, chroot and mount need it)"
case "${1:-all}" in
    build) build ;;
    prepare)
        build
        base_root
        ok "the static release binary and the minbase root are ready"
        ;;
    runtime) runtime ;;
    libraries) libraries ;;
    paths) paths ;;
    unit) unit ;;
    all)
        need_binary
        runtime
        libraries
        paths
        unit
        ;;
    *) fail "unknown part ${1}; use build, prepare, runtime, libraries, paths, unit or all" ;;
esac
