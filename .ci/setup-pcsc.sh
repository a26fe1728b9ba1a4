#!/usr/bin/env bash
# PC/SC test environment for the contactless kernel (issue 6): pcscd with the vsmartcard vpcd
# driver, whose virtual readers a TypeScript virtual card (sim/vpcd/) plugs into over TCP.
#   bash .ci/setup-pcsc.sh start   install if needed, start pcscd, print its PID to .data/pcscd.pid
#   bash .ci/setup-pcsc.sh stop    stop the pcscd this script started (by its PID)
# The PC/SC tests skip with a message when pcscd is not reachable, and run when it is.
set -euo pipefail
cd "$(dirname "$0")/.."
PIDFILE=.data/pcscd.pid
# "Virtual PCD 00 00" (sim/vpcd/virtual-card.ts VPCD_PORT)
VPCD_PORT=35963
mkdir -p .data

install() {
  if ! command -v pcscd >/dev/null || [ ! -e /usr/include/PCSC/winscard.h ] || ! ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends pcscd libpcsclite-dev vsmartcard-vpcd build-essential python3 >/dev/null
  fi
  # The native binding is optional for the rest of the project. Unless package.json already
  # brought it in (optionalDependencies), build it under .data/pcsc-binding, outside the shared
  # node_modules, so an `npm ci` elsewhere does not prune it; ree/nfc/pcsc.ts looks in both.
  if ! node -e "require('@pokusew/pcsclite')" 2>/dev/null && [ ! -e .data/pcsc-binding/node_modules/@pokusew/pcsclite/build/Release/pcsclite.node ]; then
    mkdir -p .data/pcsc-binding
    [ -f .data/pcsc-binding/package.json ] || echo '{"private":true}' >.data/pcsc-binding/package.json
    npm install --prefix .data/pcsc-binding --no-audit --no-fund --loglevel=error @pokusew/pcsclite@0.6.0 >/dev/null
  fi
}

start() {
  install
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then echo "pcscd already running (pid $(cat "$PIDFILE"))"; return; fi
  if pgrep -x pcscd >/dev/null; then echo "pcscd already running (not ours)"; return; fi
  # vpcd's reader listens on a fixed TCP port inside Linux's ephemeral range: keep the kernel from
  # giving it to an outgoing connection (where /proc/sys is writable), and if it is still taken
  # (a connection in TIME_WAIT on it), wait for it to be free and start pcscd again.
  sysctl -qw net.ipv4.ip_local_reserved_ports="$VPCD_PORT" 2>/dev/null || true
  for attempt in 1 2 3; do
    # Foreground mode, in the background: no systemd in CI containers (no --auto-exit: stay up).
    pcscd --foreground >.data/pcscd.log 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
    [ -S /run/pcscd/pcscd.comm ] || { echo "pcscd did not start; see .data/pcscd.log" >&2; exit 1; }
    listening || { for _ in $(seq 50); do sleep 0.1; listening && break; done; }
    if listening; then echo "pcscd started (pid $(cat "$PIDFILE"))"; return; fi
    echo "vpcd is not listening on port $VPCD_PORT (attempt $attempt); waiting for the port to be free" >&2
    stop
    for _ in $(seq 70); do port_free && break; sleep 1; done
  done
  echo "pcscd runs but vpcd could not listen on port $VPCD_PORT; see .data/pcscd.log" >&2
  exit 1
}

# Whether pcscd (its vpcd reader) listens on the port / nothing holds its port (without ss: assume so).
listening() { ! command -v ss >/dev/null || ss -ltnp "sport = :$VPCD_PORT" | grep -q '"pcscd"'; }
port_free() { ! command -v ss >/dev/null || [ -z "$(ss -tanH "sport = :$VPCD_PORT")" ]; }

stop() {
  if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
