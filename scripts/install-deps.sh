#!/usr/bin/env bash
# Installs the Debian packages postdesk's build and tests need, and only those that are missing.
# Idempotent: prints nothing to do and touches nothing when everything is present.
set -euo pipefail

# dovecot-submissiond: the harness's SMTP submission (STARTTLS, AUTH incl. OAUTHBEARER) relaying into OpenSMTPD.
# fetchmail: the load harness (Benchmarks/load) measures the backlog drain against it in the same run.
packages=(libsqlite3-dev dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve dovecot-submissiond opensmtpd openssl python3 fetchmail)
# deploy/check-runtime.sh (DeployTests): a bookworm root for the image's runtime stage, the unit's checks.
packages+=(debootstrap strace systemd)
# PostgresStoreTests: a private PostgreSQL 15 (initdb in a temporary directory, its own port and socket directory);
# psql comes with it (postgresql-client).
packages+=(postgresql postgresql-client)
# ConsoleBrowserTests (Tests/Browser/console_test.py): headless Chromium driven by chromedriver through Python selenium,
# which lives in a venv (below); a Japanese font so that the Japanese console's screenshots show glyphs, not boxes.
packages+=(chromium chromium-driver python3-venv fonts-ipafont-gothic)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != "installed" ]]; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all packages present (${packages[*]})"
else
    if [[ $(id -u) -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi

    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # The packages' own system services are not needed (the tests start private instances); a policy-rc.d that
    # denies starting them is fine, and they are stopped below if the package did start them.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

    for service in dovecot opensmtpd postgresql; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
            "${sudo[@]}" systemctl stop "$service" || true
            "${sudo[@]}" systemctl disable "$service" >/dev/null 2>&1 || true
        fi
    done
fi

# The browser tests' Python side: selenium from PyPI in a venv of Debian's python3 (not whatever python3 is first
# on PATH), made when missing or when it lacks the pinned selenium. ConsoleBrowserTests looks in the same place:
# $POSTDESK_BROWSER_VENV, else ${XDG_CACHE_HOME:-$HOME/.cache}/postdesk/venv.
selenium_requirement="selenium==4.51.0"
venv="${POSTDESK_BROWSER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/postdesk/venv}"
if "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("selenium") != sys.argv[1])' \
    "${selenium_requirement#selenium==}" 2>/dev/null; then
    echo "install-deps: browser venv present ($venv, $selenium_requirement)"
else
    echo "install-deps: making the browser venv $venv with $selenium_requirement"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q "$selenium_requirement"
fi
