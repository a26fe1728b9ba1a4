#!/usr/bin/env bash
# The second TEE runtime (tee-c/, issue 8) needs wasm2c with its wasm-rt-impl.c (Debian wabt),
# gcc and OpenSSL's headers (libssl-dev). Idempotent: installs only what is missing.
#   bash .ci/setup-c-runtime.sh
# Then export TRUSTTAP_REQUIRE_C_RUNTIME=1 for `npm test`, so the C host tests fail (instead of
# skipping with a message, as they do locally) if the toolchain is still missing.
set -euo pipefail
need=()
command -v wasm2c >/dev/null && [ -e /usr/share/wabt/wasm2c/wasm-rt-impl.c ] || need+=(wabt)
[ -e /usr/include/openssl/evp.h ] || need+=(libssl-dev)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
wasm2c --version >/dev/null
echo "C runtime toolchain ready: wasm2c $(wasm2c --version), $(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion), $(openssl version 2>/dev/null || echo 'libssl-dev')"
