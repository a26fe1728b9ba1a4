#!/usr/bin/env bash
# The second TEE runtime (tee-c/, issue 8) needs wasm2c with its wasm-rt-impl.c (Debian wabt),
# gcc and OpenSSL's headers (libssl-dev); gcc's AddressSanitizer/UBSan runtimes (libasan8,
# libubsan1) for the sanitized host; clang-14 with libFuzzer (libclang-rt-14-dev) for the C host's
# fuzz targets (tee-c/fuzz/). Idempotent: installs only what is missing.
#   bash .ci/setup-c-runtime.sh
# Then export TRUSTTAP_REQUIRE_C_RUNTIME=1 for `npm test`, so the C host tests fail (instead of
# skipping with a message, as they do locally) if the toolchain is still missing.
set -euo pipefail
need=()
command -v wasm2c >/dev/null && [ -e /usr/share/wabt/wasm2c/wasm-rt-impl.c ] || need+=(wabt)
[ -e /usr/include/openssl/evp.h ] || need+=(libssl-dev)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
[ -n "$(ls /usr/lib/gcc/*/*/libasan.so 2>/dev/null)" ] || need+=(libasan8 libgcc-12-dev)
[ -n "$(ls /usr/lib/gcc/*/*/libubsan.so 2>/dev/null)" ] || need+=(libubsan1 libgcc-12-dev)
command -v clang-14 >/dev/null || need+=(clang-14)
[ -n "$(ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
wasm2c --version >/dev/null
echo "C runtime toolchain ready: wasm2c $(wasm2c --version), $(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion), $(clang-14 --version | head -1), $(openssl version 2>/dev/null || echo 'libssl-dev')"
