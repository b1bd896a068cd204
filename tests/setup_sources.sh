#!/usr/bin/env bash
# scripts/setup reads the machine's apt sources (one-line and deb822) and adds
# only what they lack, from their own mirror and with their own Signed-By.
# Each case is a made-up /etc/apt in a temporary folder; nothing of the real
# machine is read or changed.
set -euo pipefail
setup="$(dirname "$0")/../scripts/setup"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# expect WHAT ACTUAL EXPECTED
expect() {
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1))
    echo "ok: $1"
  else
    failed=$((failed + 1))
    echo "FAILED: $1"
    diff <(printf '%s\n' "$3") <(printf '%s\n' "$2") | sed 's/^/  /' || true
  fi
}

# etc_apt NAME: a fresh folder to fill with sources
etc_apt() {
  mkdir -p "$work/$1/sources.list.d"
  echo "$work/$1"
}

# --- Debian, one-line sources.list behind a local mirror ---------------------
etc=$(etc_apt one-line)
cat >"$etc/sources.list" <<'EOF'
# a local mirror, with the keyring named
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.lan/debian bookworm main contrib
deb-src [ signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ] http://mirror.example.lan/debian bookworm main
deb http://mirror.example.lan/debian-security bookworm-security main  # trailing comment
#deb http://deb.debian.org/debian bookworm-backports main
EOF
echo "deb http://deb.debian.org/debian bookworm-backports main" >"$etc/sources.list.d/old.list.disabled"
expect "one-line: every enabled entry, its options, nothing from comments or other file names" \
  "$("$setup" --list-apt-sources "$etc")" \
  "deb|http://mirror.example.lan/debian|bookworm|main contrib|/usr/share/keyrings/debian-archive-keyring.gpg||$etc/sources.list
deb-src|http://mirror.example.lan/debian|bookworm|main|/usr/share/keyrings/debian-archive-keyring.gpg||$etc/sources.list
deb|http://mirror.example.lan/debian-security|bookworm-security|main|||$etc/sources.list"
expect "one-line: backports and its sources from the local mirror, with its Signed-By" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 1)" \
  "Types: deb deb-src
URIs: http://mirror.example.lan/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
expect "one-line: without the need for sources, only backports" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 0)" \
  "Types: deb
URIs: http://mirror.example.lan/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"

# --- Debian, deb822 (the shape of Debian 12's own debian.sources) ------------
etc=$(etc_apt deb822)
cat >"$etc/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://old.example.lan/debian
Suites: bookworm
Components: main
Enabled: no

# http://snapshot.debian.org/archive/debian/20250520T000000Z
types: deb
URIs: http://proxy.example.lan:3142/debian
Suites: bookworm
 bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://proxy.example.lan:3142/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$etc/sources.list.d/coronet.sources" <<'EOF'
Types: deb deb-src
URIs: http://stale.example.lan/debian
Suites: bookworm-backports
Components: main
EOF
expect "deb822: every enabled stanza, any field name case, a suite on a continuation line" \
  "$("$setup" --list-apt-sources "$etc")" \
  "deb|http://stale.example.lan/debian|bookworm-backports|main|||$etc/sources.list.d/coronet.sources
deb-src|http://stale.example.lan/debian|bookworm-backports|main|||$etc/sources.list.d/coronet.sources
deb|http://proxy.example.lan:3142/debian|bookworm|main|/usr/share/keyrings/debian-archive-keyring.gpg||$etc/sources.list.d/debian.sources
deb|http://proxy.example.lan:3142/debian|bookworm-updates|main|/usr/share/keyrings/debian-archive-keyring.gpg||$etc/sources.list.d/debian.sources
deb|http://proxy.example.lan:3142/debian-security|bookworm-security|main|/usr/share/keyrings/debian-archive-keyring.gpg||$etc/sources.list.d/debian.sources"
expect "deb822: coronet.sources itself does not count; backports from the proxy, with its Signed-By" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 1)" \
  "Types: deb deb-src
URIs: http://proxy.example.lan:3142/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"

# --- backports already there (another host, no Signed-By): only deb-src, like it
etc=$(etc_apt backports-there)
cat >"$etc/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
echo "deb http://backports.example.lan/debian bookworm-backports main non-free" >"$etc/sources.list.d/backports.list"
expect "backports present: deb-src copies its URI and (no) Signed-By" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 1)" \
  "Types: deb-src
URIs: http://backports.example.lan/debian
Suites: bookworm-backports
Components: main"
expect "backports present and not needing sources: nothing to add" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 0)" ""
expect "backports.list left out (an earlier setup's file): from the mirror again" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 0 "$etc/sources.list.d/backports.list")" \
  "Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
echo "deb-src http://backports.example.lan/debian bookworm-backports main" >>"$etc/sources.list.d/backports.list"
expect "backports and its sources present: nothing to add" \
  "$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 1)" ""

# --- Ubuntu 24.04: deb822, Catch2 3 in noble universe, an embedded key --------
etc=$(etc_apt ubuntu)
cat >"$etc/sources.list.d/ubuntu.sources" <<'EOF'
Types: deb
URIs: http://azure.archive.ubuntu.com/ubuntu/
Suites: noble noble-updates noble-backports
Components: main restricted universe multiverse
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBFufwdoBEADv/Gxytx/LcSXYuM0MwKojbBye81s0G1nEx+lz6VAUpIUZnbkq
 -----END PGP PUBLIC KEY BLOCK-----
EOF
expect "ubuntu: deb-src for noble universe, the embedded key kept line for line" \
  "$("$setup" --coronet-sources "$etc" noble noble universe 0 1)" \
  "Types: deb-src
URIs: http://azure.archive.ubuntu.com/ubuntu/
Suites: noble
Components: universe
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBFufwdoBEADv/Gxytx/LcSXYuM0MwKojbBye81s0G1nEx+lz6VAUpIUZnbkq
 -----END PGP PUBLIC KEY BLOCK-----"

# --- no entry for the release: nothing to copy, a clear error ---------------
etc=$(etc_apt empty)
status=0
message=$("$setup" --coronet-sources "$etc" bookworm bookworm-backports main 1 1 2>&1) || status=$?
expect "no entry for the release: exit 3 and why" "$status: $message" \
  "3: setup: no apt entry for bookworm to take the mirror from"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
