/* The SIMULATED replay-protected memory block and the TEE core's client of it, as
 * tee/storage/rpmb.ts and rpmb-slots.ts: JEDEC eMMC 5.1 (JESD84-B51) §6.6.22 512-byte frames
 * (stuff 196 | key/MAC 32 | data 256 | nonce 16 | write counter 4 | address 2 | block count 2 |
 * result 2 | request/response 2, big-endian), HMAC-SHA256 over bytes 228..511 of every frame. The
 * device is its own image file (<data>/device/rpmb-c.img: magic, programmed key, write counter,
 * written blocks), outside the TAs' storage tree, written only by an authenticated write at its
 * current write counter; reads answer with the caller's nonce under the MAC. The client programs
 * the key (HKDF of the HUK, core salt) on first use and checks MAC and nonce of every answer.
 * 512 blocks in 32 slots of 16: slot 0 the core's (TA version floors), 1..31 one TA's each
 * (its UUID and the length in the first 20 bytes). On OP-TEE: the RPMB driver of tee-supplicant
 * and CFG_RPMB_FS. The C host keeps its own image (its HUK differs from the Node runtime's). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "tt.h"

int atomic_write(const char *path, const uint8_t *d, size_t n); /* storage.c */
int mkdirs(const char *path);
int read_whole(const char *path, uint8_t **out, size_t *n);

#define FRAME 512
#define BLOCK 256
#define BLOCKS 512
#define SLOT_BLOCKS 16
#define SLOTS (BLOCKS / SLOT_BLOCKS)
#define HEAD 20
#define SLOT_CAPACITY (SLOT_BLOCKS * BLOCK - HEAD)
enum { OFF_MAC = 196, OFF_DATA = 228, OFF_NONCE = 484, OFF_COUNTER = 500, OFF_ADDR = 504, OFF_COUNT = 506, OFF_RESULT = 508, OFF_TYPE = 510 };
enum { REQ_PROGRAM_KEY = 1, REQ_READ_COUNTER = 2, REQ_WRITE = 3, REQ_READ = 4 };
enum { RES_OK = 0, RES_GENERAL = 1, RES_AUTH = 2, RES_COUNTER = 3, RES_ADDRESS = 4, RES_WRITE = 5, RES_READ = 6, RES_NO_KEY = 7 };
static const uint8_t IMAGE_MAGIC[8] = {'T', 'T', 'R', 'P', 'M', 'B', '0', '1'};

static char g_image[4200], g_lock[4300];
static uint8_t g_key[32];
static bool g_open, g_programmed;
static int g_slot_cache_n;
static struct { uint8_t uuid[16]; int slot; } g_slot_cache[SLOTS];

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void frame(uint8_t *f, uint32_t type, uint32_t counter, uint32_t addr, uint32_t count, uint32_t result, const uint8_t *nonce, const uint8_t *data) {
  memset(f, 0, FRAME);
  if (data) memcpy(f + OFF_DATA, data, BLOCK);
  if (nonce) memcpy(f + OFF_NONCE, nonce, 16);
  put32(f + OFF_COUNTER, counter); put16(f + OFF_ADDR, addr); put16(f + OFF_COUNT, count); put16(f + OFF_RESULT, result); put16(f + OFF_TYPE, type);
}

static void frames_mac(const uint8_t *key, const uint8_t *frames, size_t n, uint8_t out[32]) {
  uint8_t *m = malloc(n * (FRAME - OFF_DATA));
  unsigned l = 32;
  for (size_t i = 0; i < n; i++) memcpy(m + i * (FRAME - OFF_DATA), frames + i * FRAME + OFF_DATA, FRAME - OFF_DATA);
  HMAC(EVP_sha256(), key, 32, m, n * (FRAME - OFF_DATA), out, &l);
  free(m);
}

static void seal(const uint8_t *key, uint8_t *frames, size_t n) {
  uint8_t mac[32];
  frames_mac(key, frames, n, mac);
  memcpy(frames + (n - 1) * FRAME + OFF_MAC, mac, 32);
}

static bool mac_ok(const uint8_t *key, const uint8_t *frames, size_t n) {
  uint8_t mac[32];
  frames_mac(key, frames, n, mac);
  return !CRYPTO_memcmp(mac, frames + (n - 1) * FRAME + OFF_MAC, 32);
}

/* ------------------------------------------------------------------ the simulated device */

typedef struct { bool has_key; uint8_t key[32]; uint32_t counter; uint8_t *data; uint8_t *written; } image;

static int image_load(image *im) {
  memset(im, 0, sizeof *im);
  im->data = calloc(BLOCKS, BLOCK); im->written = calloc(BLOCKS, 1);
  uint8_t *b; size_t n;
  if (read_whole(g_image, &b, &n)) return 0; /* a blank device */
  int ok = n >= 47 && !memcmp(b, IMAGE_MAGIC, 8);
  if (ok) {
    im->has_key = b[8] != 0; memcpy(im->key, b + 9, 32); im->counter = get32(b + 41);
    uint32_t cnt = get16(b + 45);
    ok = n == 47 + (size_t)cnt * (2 + BLOCK);
    for (uint32_t i = 0; ok && i < cnt; i++) {
      const uint8_t *e = b + 47 + (size_t)i * (2 + BLOCK);
      uint32_t a = get16(e);
      if (a >= BLOCKS) { ok = 0; break; }
      memcpy(im->data + (size_t)a * BLOCK, e + 2, BLOCK); im->written[a] = 1;
    }
  }
  free(b);
  return ok ? 0 : -1;
}

static int image_save(const image *im) {
  tt_buf b = {0};
  uint8_t head[47] = {0};
  memcpy(head, IMAGE_MAGIC, 8);
  if (im->has_key) { head[8] = 1; memcpy(head + 9, im->key, 32); }
  put32(head + 41, im->counter);
  uint32_t cnt = 0;
  for (int a = 0; a < BLOCKS; a++) cnt += im->written[a];
  put16(head + 45, cnt);
  buf_put(&b, head, 47);
  for (int a = 0; a < BLOCKS; a++) {
    if (!im->written[a]) continue;
    uint8_t ab[2]; put16(ab, (uint32_t)a);
    buf_put(&b, ab, 2); buf_put(&b, im->data + (size_t)a * BLOCK, BLOCK);
  }
  int r = atomic_write(g_image, b.p, b.n); /* a real RPMB write is atomic too */
  buf_free(&b);
  return r;
}

static void image_free(image *im) { free(im->data); free(im->written); tt_wipe(im->key, 32); }

/* One exchange: request frames in, response frames out (*out, *outn frames); serialised across
 * processes with an flock, as the one eMMC serialises its commands. */
static int device_exchange(const uint8_t *req, size_t nreq, uint8_t **out, size_t *nout) {
  int lk = open(g_lock, O_RDWR | O_CREAT, 0600);
  if (lk < 0 || flock(lk, LOCK_EX)) { if (lk >= 0) close(lk); return -1; }
  image im;
  int rc = 0;
  if (image_load(&im)) { image_free(&im); flock(lk, LOCK_UN); close(lk); return -1; }
  uint32_t type = get16(req + OFF_TYPE), addr = get16(req + OFF_ADDR), count = get16(req + OFF_COUNT), counter = get32(req + OFF_COUNTER);
  const uint8_t *nonce = req + OFF_NONCE;
  uint32_t rt = type << 8;
  size_t n = 1;
  uint8_t *o = calloc(FRAME, (type == REQ_READ && count > 1 && count <= BLOCKS) ? count : 1);
  if (type == REQ_PROGRAM_KEY) {
    if (im.has_key) { frame(o, rt, im.counter, 0, 0, RES_WRITE, NULL, NULL); seal(im.key, o, 1); }
    else { im.has_key = true; memcpy(im.key, req + OFF_MAC, 32); rc = image_save(&im); frame(o, rt, 0, 0, 0, RES_OK, NULL, NULL); }
  } else if (!im.has_key) {
    frame(o, rt, 0, 0, 0, RES_NO_KEY, NULL, NULL);
  } else if (type == REQ_READ_COUNTER) {
    frame(o, rt, im.counter, 0, 0, RES_OK, nonce, NULL); seal(im.key, o, 1);
  } else if (type == REQ_WRITE) {
    uint32_t res = RES_OK;
    if (!mac_ok(im.key, req, nreq)) res = RES_AUTH;
    else if (im.counter == 0xffffffffu) res = RES_WRITE | 0x80;
    else if (counter != im.counter) res = RES_COUNTER;
    else if (count != nreq || addr + count > BLOCKS) res = RES_ADDRESS;
    else {
      for (size_t i = 0; i < nreq; i++) { memcpy(im.data + (size_t)(addr + i) * BLOCK, req + i * FRAME + OFF_DATA, BLOCK); im.written[addr + i] = 1; }
      im.counter++;
      if (image_save(&im)) res = RES_WRITE;
    }
    frame(o, rt, im.counter, addr, 0, res, NULL, NULL); seal(im.key, o, 1);
  } else if (type == REQ_READ) {
    uint32_t c = count ? count : 1;
    if (addr + c > BLOCKS) { frame(o, rt, im.counter, addr, 0, RES_ADDRESS, nonce, NULL); seal(im.key, o, 1); }
    else {
      for (uint32_t i = 0; i < c; i++) frame(o + (size_t)i * FRAME, rt, 0, addr, c, RES_OK, nonce, im.data + (size_t)(addr + i) * BLOCK);
      n = c; seal(im.key, o, n);
    }
  } else {
    frame(o, rt, 0, 0, 0, RES_GENERAL, NULL, NULL);
  }
  image_free(&im);
  flock(lk, LOCK_UN); close(lk);
  *out = o; *nout = n;
  return rc;
}

/* ------------------------------------------------------------------ the TEE core's client */

int rpmb_open(const char *data_dir) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/device", data_dir);
  if (mkdirs(dir)) return -1;
  snprintf(g_image, sizeof g_image, "%s/rpmb-c.img", dir);
  snprintf(g_lock, sizeof g_lock, "%s.lock", g_image);
  if (huk_derive_core((const uint8_t *)"rpmb-authentication-key", 23, g_key, 32)) return -1;
  g_open = true;
  return 0;
}

/* An exchange whose answer must carry this TEE's MAC, the given nonce (if any) and result OK. */
static uint32_t call(const uint8_t *req, size_t nreq, const uint8_t *nonce, uint8_t **ans, size_t *nans) {
  if (!g_open) return TT_ERROR_SECURITY;
  if (device_exchange(req, nreq, ans, nans)) { return TT_ERROR_STORAGE_NO_SPACE; }
  const uint8_t *last = *ans + (*nans - 1) * FRAME;
  uint32_t result = get16(last + OFF_RESULT);
  uint32_t st = TT_SUCCESS;
  if ((result & 0x7f) == RES_NO_KEY) st = TT_ERROR_SECURITY;
  else if (!mac_ok(g_key, *ans, *nans)) st = TT_ERROR_SECURITY; /* another key, or a forged answer */
  else if (get16(last + OFF_TYPE) != get16(req + OFF_TYPE) << 8) st = TT_ERROR_SECURITY;
  else if (nonce && memcmp(last + OFF_NONCE, nonce, 16)) st = TT_ERROR_SECURITY; /* replayed */
  else if (result == RES_COUNTER) st = TT_ERROR_BUSY; /* written meanwhile: the caller retries */
  else if (result != RES_OK) st = TT_ERROR_SECURITY;
  if (st) { free(*ans); *ans = NULL; }
  return st;
}

static uint32_t ensure_key(void) {
  if (g_programmed) return TT_SUCCESS;
  uint8_t f[FRAME], nonce[16], *ans; size_t n;
  crypto_random(nonce, 16);
  frame(f, REQ_READ_COUNTER, 0, 0, 0, 0, nonce, NULL);
  if (device_exchange(f, 1, &ans, &n)) return TT_ERROR_STORAGE_NO_SPACE;
  bool blank = get16(ans + OFF_RESULT) == RES_NO_KEY;
  free(ans);
  if (blank) {
    frame(f, REQ_PROGRAM_KEY, 0, 0, 0, 0, NULL, NULL);
    memcpy(f + OFF_MAC, g_key, 32);
    if (device_exchange(f, 1, &ans, &n)) return TT_ERROR_STORAGE_NO_SPACE;
    bool ok = get16(ans + OFF_RESULT) == RES_OK;
    free(ans);
    tt_wipe(f, sizeof f);
    if (!ok) return TT_ERROR_SECURITY;
  }
  g_programmed = true;
  return TT_SUCCESS;
}

uint32_t rpmb_write_counter(uint32_t *out) {
  uint32_t st = ensure_key();
  if (st) return st;
  uint8_t f[FRAME], nonce[16], *ans; size_t n;
  crypto_random(nonce, 16);
  frame(f, REQ_READ_COUNTER, 0, 0, 0, 0, nonce, NULL);
  if ((st = call(f, 1, nonce, &ans, &n))) return st;
  *out = get32(ans + OFF_COUNTER);
  free(ans);
  return TT_SUCCESS;
}

static uint32_t rpmb_read(uint32_t addr, uint32_t count, uint8_t *out) {
  uint32_t st = ensure_key();
  if (st) return st;
  uint8_t f[FRAME], nonce[16], *ans; size_t n;
  crypto_random(nonce, 16);
  frame(f, REQ_READ, 0, addr, count, 0, nonce, NULL);
  if ((st = call(f, 1, nonce, &ans, &n))) return st;
  if (n != count) { free(ans); return TT_ERROR_SECURITY; }
  for (size_t i = 0; i < n; i++) {
    if (memcmp(ans + i * FRAME + OFF_NONCE, nonce, 16) || get16(ans + i * FRAME + OFF_ADDR) != addr) { free(ans); return TT_ERROR_SECURITY; }
    memcpy(out + i * BLOCK, ans + i * FRAME + OFF_DATA, BLOCK);
  }
  free(ans);
  return TT_SUCCESS;
}

/* Whole blocks at the device's write counter; with at != NULL one attempt at *at (a
 * compare-and-swap: TT_ERROR_BUSY if anything was written since). */
static uint32_t rpmb_write(uint32_t addr, const uint8_t *data, size_t len, const uint32_t *at) {
  size_t count = len / BLOCK;
  uint8_t *fr = malloc(count * FRAME);
  uint32_t st = TT_ERROR_BUSY;
  for (int attempt = 0; st == TT_ERROR_BUSY && attempt < 20; attempt++) {
    uint32_t counter;
    if (at) counter = *at;
    else if ((st = rpmb_write_counter(&counter))) break;
    for (size_t i = 0; i < count; i++) frame(fr + i * FRAME, REQ_WRITE, counter, addr, (uint32_t)count, 0, NULL, data + i * BLOCK);
    seal(g_key, fr, count);
    uint8_t *ans; size_t n;
    st = call(fr, count, NULL, &ans, &n);
    if (!st) { if (get32(ans + OFF_COUNTER) != counter + 1) st = TT_ERROR_SECURITY; free(ans); }
    if (at) break;
  }
  free(fr);
  return st;
}

static uint32_t slot_read(int slot, uint8_t **out, size_t *outn) {
  uint8_t first[BLOCK];
  uint32_t st = rpmb_read((uint32_t)slot * SLOT_BLOCKS, 1, first);
  if (st) return st;
  uint32_t len = get32(first + 16);
  if (len > SLOT_CAPACITY) return TT_ERROR_SECURITY;
  size_t blocks = (HEAD + len + BLOCK - 1) / BLOCK;
  uint8_t *all = malloc(blocks * BLOCK);
  if (blocks > 1) st = rpmb_read((uint32_t)slot * SLOT_BLOCKS, (uint32_t)blocks, all);
  else memcpy(all, first, BLOCK);
  if (st) { free(all); return st; }
  *out = malloc(len ? len : 1);
  memcpy(*out, all + HEAD, len);
  *outn = len;
  free(all);
  return TT_SUCCESS;
}

static bool is_empty(const uint8_t *b, size_t n) { for (size_t i = 0; i < n; i++) if (b[i]) return false; return true; }

static uint8_t *slot_frame(const uint8_t owner[16], const uint8_t *d, size_t n, size_t *len) {
  *len = (HEAD + n + BLOCK - 1) / BLOCK * BLOCK;
  uint8_t *f = calloc(1, *len);
  memcpy(f, owner, 16); put32(f + 16, (uint32_t)n); memcpy(f + HEAD, d, n);
  return f;
}

/* The TA's slot, or -1 (and the first free one in *free_slot). */
static uint32_t find_slot(const uint8_t uuid[16], int *slot, int *free_slot) {
  *slot = -1; *free_slot = -1;
  for (int i = 0; i < g_slot_cache_n; i++) if (!memcmp(g_slot_cache[i].uuid, uuid, 16)) { *slot = g_slot_cache[i].slot; return TT_SUCCESS; }
  for (int s = 1; s < SLOTS; s++) {
    uint8_t b[BLOCK];
    uint32_t st = rpmb_read((uint32_t)s * SLOT_BLOCKS, 1, b);
    if (st) return st;
    if (!memcmp(b, uuid, 16)) {
      if (g_slot_cache_n < SLOTS) { memcpy(g_slot_cache[g_slot_cache_n].uuid, uuid, 16); g_slot_cache[g_slot_cache_n++].slot = s; }
      *slot = s;
      return TT_SUCCESS;
    }
    if (*free_slot < 0 && is_empty(b, 16)) *free_slot = s;
  }
  return TT_SUCCESS;
}

/* uuid NULL: the core's slot 0. */
uint32_t rpmb_slot_read(const uint8_t *uuid, uint8_t **out, size_t *outn, bool *found) {
  *found = false;
  int slot = 0, free_slot;
  if (uuid) {
    uint32_t st = find_slot(uuid, &slot, &free_slot);
    if (st) return st;
    if (slot < 0) return TT_SUCCESS;
  } else {
    uint8_t b[BLOCK];
    uint32_t st = rpmb_read(0, 1, b);
    if (st) return st;
    if (is_empty(b, HEAD)) return TT_SUCCESS;
  }
  uint32_t st = slot_read(slot, out, outn);
  if (!st) *found = true;
  return st;
}

uint32_t rpmb_slot_write(const uint8_t *uuid, const uint8_t *d, size_t n) {
  if (n > SLOT_CAPACITY) return TT_ERROR_STORAGE_NO_SPACE;
  uint8_t core[16] = {0};
  core[15] = 1; /* a non-zero owner marks slot 0 as written */
  size_t len;
  uint8_t *f = slot_frame(uuid ? uuid : core, d, n, &len);
  uint32_t st;
  if (!uuid) { st = rpmb_write(0, f, len, NULL); free(f); return st; }
  for (int tries = 0; tries < 64; tries++) {
    int slot, free_slot;
    if ((st = find_slot(uuid, &slot, &free_slot))) break;
    if (slot >= 0) { st = rpmb_write((uint32_t)slot * SLOT_BLOCKS, f, len, NULL); break; }
    if (free_slot < 0) { st = TT_ERROR_STORAGE_NO_SPACE; break; }
    uint32_t counter;
    if ((st = rpmb_write_counter(&counter))) break;
    uint8_t b[BLOCK];
    if ((st = rpmb_read((uint32_t)free_slot * SLOT_BLOCKS, 1, b))) break;
    if (!is_empty(b, 16)) { st = TT_ERROR_BUSY; continue; } /* taken meanwhile */
    st = rpmb_write((uint32_t)free_slot * SLOT_BLOCKS, f, len, &counter);
    if (st == TT_ERROR_BUSY) continue;
    if (!st && g_slot_cache_n < SLOTS) { memcpy(g_slot_cache[g_slot_cache_n].uuid, uuid, 16); g_slot_cache[g_slot_cache_n++].slot = free_slot; }
    break;
  }
  free(f);
  return st;
}
