#!/bin/sh
# Outpost agent installer for Linux, served by the hub at /install.sh with the hub's URL written in:
#
#   curl -fsSL https://hub.example.com/install.sh | sudo sh -s -- --token <enrollment token>
#
# Options (a contract: the hub's install commands and the docs use these names):
#   --token T          enrollment token from the hub (required; never printed)
#   --prefix DIR       install under DIR (default /usr/local: binary /usr/local/bin/outpost-agent,
#                      config /etc/outpost/agent.json, data /var/lib/outpost); any other prefix keeps
#                      everything under it: DIR/bin, DIR/etc/outpost/agent.json, DIR/var/lib/outpost
#   --no-service       do not install the systemd service; print how to start the agent by hand
#   --no-sandbox       install the service without systemd's sandboxing (read-only system, no
#                      setuid), for hosts whose jobs install packages or change the system
#   --name NAME        agent name (default: chosen by the hub)
#   --ca-file FILE     PEM CA(s) that signed the hub's certificate, instead of the system's
#   --pin sha256:HEX   accept only the hub certificate with this SHA-256 fingerprint
#   --replace          re-enroll a host that is already enrolled (the hub keeps its agent record)
#
# It downloads the agent for this machine from the hub, checks its SHA-256, installs it, enrolls
# this host with the token and, unless told not to or without systemd, installs and starts the
# outpost-agent service. Any failure stops it with a message and a non-zero exit.
#
# Everything runs inside main(), called on the last line: piped into `sh`, the whole script is
# read before anything runs, and no command can swallow the rest of it from standard input.
set -eu

HUB_URL='__OUTPOST_HUB_URL__'

say() {
  printf 'outpost: %s\n' "$*"
}

fail() {
  printf 'outpost: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
usage: curl -fsSL <hub>/install.sh | sudo sh -s -- --token T [--prefix DIR] [--no-service] [--no-sandbox]
         [--name NAME] [--ca-file FILE] [--pin sha256:<fingerprint>] [--replace]
EOF
}

# A word as the shell would read it back: quoted only when it needs to be.
quote() {
  case $1 in
    '' | *[!A-Za-z0-9_./:=@%+-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}

absolute() {
  case $1 in
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "$(pwd)" "$1" ;;
  esac
}

# sha256:<hex>, colons optional, any case, or openssl's "sha256 Fingerprint=AB:CD:..." line.
normalize_pin() {
  hex=$(printf '%s' "$1" | tr 'A-F' 'a-f' | sed 's/^sha256 fingerprint=//; s/^sha256://; s/://g')
  case $hex in
    *[!0-9a-f]* | '') return 1 ;;
  esac
  [ "${#hex}" -eq 64 ] || return 1
  printf '%s' "$hex"
}

# Downloads $1 to $2 with curl (or wget), trusting the hub as the agent will.
fetch_to() {
  if [ "$FETCHER" = curl ]; then
    set -- -o "$2" "$1"
    if [ -n "$CURL_COMPRESSED" ]; then set -- --compressed "$@"; fi
    if [ -n "$CA_FILE" ]; then set -- --cacert "$CA_FILE" "$@"; fi
    # --insecure only skips the CA chain: curl still refuses any key but the pinned one.
    if [ -n "$PINNED_KEY" ]; then set -- --insecure --pinnedpubkey "$PINNED_KEY" "$@"; fi
    curl -fsSL --retry 2 "$@"
  else
    set -- -O "$2" "$1"
    if [ -n "$CA_FILE" ]; then set -- --ca-certificate="$CA_FILE" "$@"; fi
    wget -q "$@"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail "sha256sum (coreutils) or shasum is needed to check the download"
  fi
}

# --pin: read the hub's certificate once, check its fingerprint, then pin its public key for every
# download (curl's --pinnedpubkey), so a different server cannot slip in between.
pin_hub_key() {
  command -v openssl >/dev/null 2>&1 || fail "--pin needs openssl to read the hub's certificate"
  [ "$FETCHER" = curl ] || fail "--pin needs curl (wget cannot pin a certificate)"
  hostport=${HUB_URL#https://}
  hostport=${hostport%%/*}
  case $hostport in
    \[*\]) hostport="$hostport:443" ;;
    \[*\]:*) ;;
    *:*) ;;
    *) hostport="$hostport:443" ;;
  esac
  host=${hostport%:*}
  set --
  case $host in
    *[!0-9.]*) case $host in \[*) ;; *) set -- -servername "$host" ;; esac ;;
  esac
  proxy=${https_proxy:-${HTTPS_PROXY:-}}
  if [ -n "$proxy" ]; then
    proxy=${proxy#*://}
    proxy=${proxy%%/*}
    set -- "$@" -proxy "${proxy##*@}"
  fi
  openssl s_client -connect "$hostport" "$@" </dev/null 2>/dev/null | openssl x509 >"$TMP/hub.pem" 2>/dev/null ||
    fail "cannot read the hub's certificate from $hostport"
  actual=$(openssl x509 -in "$TMP/hub.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
  [ "$actual" = "$PIN_HEX" ] || fail "the hub's certificate (sha256:$actual) does not match --pin sha256:$PIN_HEX"
  key=$(openssl x509 -in "$TMP/hub.pem" -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A)
  PINNED_KEY="sha256//$key"
}

manual_start() {
  say "start the agent by hand (it runs in the foreground until Ctrl+C or SIGTERM):"
  printf '  %s run --config %s --data-dir %s\n' "$(quote "$BIN")" "$(quote "$CONFIG")" "$(quote "$DATA")"
}

main() {
  TOKEN=''
  PREFIX='/usr/local'
  NO_SERVICE=''
  NO_SANDBOX=''
  NAME=''
  CA_FILE=''
  PIN=''
  REPLACE=''
  while [ $# -gt 0 ]; do
    case $1 in
      --token | --prefix | --name | --ca-file | --pin)
        [ $# -ge 2 ] || fail "$1 needs a value"
        case $1 in
          --token) TOKEN=$2 ;;
          --prefix) PREFIX=$2 ;;
          --name) NAME=$2 ;;
          --ca-file) CA_FILE=$2 ;;
          --pin) PIN=$2 ;;
        esac
        shift 2
        ;;
      --token=*) TOKEN=${1#*=}; shift ;;
      --prefix=*) PREFIX=${1#*=}; shift ;;
      --name=*) NAME=${1#*=}; shift ;;
      --ca-file=*) CA_FILE=${1#*=}; shift ;;
      --pin=*) PIN=${1#*=}; shift ;;
      --no-service) NO_SERVICE=1; shift ;;
      --no-sandbox) NO_SANDBOX=1; shift ;;
      --replace) REPLACE=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; fail "unknown option: $1" ;;
    esac
  done
  [ -n "$TOKEN" ] || { usage >&2; fail "--token is required (create an enrollment token on the hub)"; }

  # The hub writes its URL over the placeholder when it serves this script; split here so that
  # this check is not rewritten with it.
  if [ "$HUB_URL" = "$(printf '%s%s' '__OUTPOST_' 'HUB_URL__')" ]; then
    fail "download this script from your hub (curl -fsSL <hub>/install.sh | sh -s -- ...), not from the repository"
  fi

  [ "$(uname -s)" = Linux ] || fail "this installer is for Linux; on Windows use install.ps1 from the hub"
  machine=$(uname -m)
  case $machine in
    x86_64 | amd64) PLATFORM=linux-x64 ;;
    aarch64 | arm64) PLATFORM=linux-arm64 ;;
    *) fail "unsupported architecture $machine: the hub serves agents for x86_64 and aarch64" ;;
  esac

  PREFIX=$(absolute "${PREFIX%/}")
  if [ "$PREFIX" = /usr/local ]; then
    CONFIG=/etc/outpost/agent.json
    DATA=/var/lib/outpost
  else
    CONFIG="$PREFIX/etc/outpost/agent.json"
    DATA="$PREFIX/var/lib/outpost"
  fi
  BIN="$PREFIX/bin/outpost-agent"
  if [ "$PREFIX" = /usr/local ] && [ "$(id -u)" -ne 0 ]; then
    fail "installing to /usr/local and /etc/outpost needs root: pipe the script into 'sudo sh -s -- ...', or give --prefix"
  fi

  if [ -n "$CA_FILE" ]; then
    CA_FILE=$(absolute "$CA_FILE")
    [ -r "$CA_FILE" ] || fail "cannot read --ca-file $CA_FILE"
  fi
  PIN_HEX=''
  if [ -n "$PIN" ]; then
    PIN_HEX=$(normalize_pin "$PIN") || fail "invalid --pin: expected sha256:<64 hex digits> (openssl x509 -noout -fingerprint -sha256)"
  fi

  if command -v curl >/dev/null 2>&1; then
    FETCHER=curl
  elif command -v wget >/dev/null 2>&1; then
    FETCHER=wget
  else
    fail "curl or wget is needed to download the agent"
  fi
  CURL_COMPRESSED=''
  if [ "$FETCHER" = curl ] && curl --version 2>/dev/null | grep -qi 'libz'; then
    CURL_COMPRESSED=1
  fi

  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  trap 'exit 1' HUP INT TERM

  PINNED_KEY=''
  case $HUB_URL in
    https://*) if [ -n "$PIN_HEX" ]; then pin_hub_key; fi ;;
  esac

  say "downloading the $PLATFORM agent from $HUB_URL"
  fetch_to "$HUB_URL/downloads/agent/$PLATFORM" "$TMP/outpost-agent" || fail "cannot download $HUB_URL/downloads/agent/$PLATFORM"
  fetch_to "$HUB_URL/downloads/agent/$PLATFORM.sha256" "$TMP/outpost-agent.sha256" ||
    fail "cannot download $HUB_URL/downloads/agent/$PLATFORM.sha256"
  expected=$(cut -d ' ' -f 1 <"$TMP/outpost-agent.sha256" | tr 'A-F' 'a-f')
  case $expected in
    *[!0-9a-f]* | '') fail "the hub's checksum file for $PLATFORM is not a SHA-256" ;;
  esac
  actual=$(sha256_of "$TMP/outpost-agent")
  [ "$actual" = "$expected" ] ||
    fail "checksum mismatch for the $PLATFORM agent: expected $expected, got $actual; the download is damaged or was altered"
  say "checksum verified (sha256 $actual)"

  mkdir -p "$PREFIX/bin" || fail "cannot create $PREFIX/bin"
  # A new file renamed over the old one: a running agent keeps its (old) binary until restarted.
  cp "$TMP/outpost-agent" "$PREFIX/bin/.outpost-agent.new" || fail "cannot write to $PREFIX/bin"
  chmod 0755 "$PREFIX/bin/.outpost-agent.new"
  mv -f "$PREFIX/bin/.outpost-agent.new" "$BIN" || fail "cannot install $BIN"
  version=$("$BIN" --version </dev/null) || fail "the downloaded agent does not run on this machine"
  say "installed outpost-agent $version as $BIN"

  set -- enroll --hub "$HUB_URL" --token "$TOKEN" --config "$CONFIG"
  if [ -n "$NAME" ]; then set -- "$@" --name "$NAME"; fi
  if [ -n "$CA_FILE" ]; then set -- "$@" --ca-file "$CA_FILE"; fi
  if [ -n "$PIN_HEX" ]; then set -- "$@" --pin "sha256:$PIN_HEX"; fi
  if [ -n "$REPLACE" ]; then set -- "$@" --replace; fi
  "$BIN" "$@" </dev/null || fail "enrollment failed (the agent said why above)"

  mkdir -p "$DATA" || fail "cannot create the data directory $DATA"
  chmod 0700 "$DATA"

  if [ -n "$NO_SERVICE" ]; then
    say "no service installed (--no-service)"
    manual_start
  elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    "$BIN" install --config "$CONFIG" --data-dir "$DATA" --binary "$BIN" ${NO_SANDBOX:+--no-sandbox} </dev/null || {
      say "the service could not be installed"
      manual_start
      exit 1
    }
    say "the agent runs as the outpost-agent service: systemctl status outpost-agent"
  else
    say "systemd is not running on this host, so no service was installed"
    manual_start
  fi
}

main "$@"
