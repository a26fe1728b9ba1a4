/* TrustTap C host (second runtime, issue 8): shared declarations.
 *
 * Layout, the way an OP-TEE TA and its TEE core split the work:
 *   ta_entry.c   TA_CreateEntryPoint & co: the GP entry points, calling a TA's wasm exports
 *   runtime.c    TA records, GP sessions, TA-to-TA routing, TARGET_DEAD / BUSY, the envelope
 *   host_abi.c   host ABI v1: the import table and every tee.* / env.* function
 *   crypto.c     GP operation handles and primitives on OpenSSL libcrypto
 *   storage.c    sealed storage (AES-256-GCM, simulated RPMB rollback counters, atomic writes)
 *   huk.c        simulated hardware unique key and HKDF derivation
 *   manifest.c   signed manifest (Ed25519) and wasm hash checks; wasm.c: import/export parsing
 *   pb.c         the few protobuf messages the host reads and writes
 *   main.c       framed stdio transport
 */
#ifndef TT_H
#define TT_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* GP TEE_Result values (proto/status.ts). */
#define TT_SUCCESS 0x00000000u
#define TT_ERROR_GENERIC 0xFFFF0000u
#define TT_ERROR_ACCESS_DENIED 0xFFFF0001u
#define TT_ERROR_CANCEL 0xFFFF0002u
#define TT_ERROR_BAD_FORMAT 0xFFFF0005u
#define TT_ERROR_BAD_PARAMETERS 0xFFFF0006u
#define TT_ERROR_BAD_STATE 0xFFFF0007u
#define TT_ERROR_ITEM_NOT_FOUND 0xFFFF0008u
#define TT_ERROR_NOT_IMPLEMENTED 0xFFFF0009u
#define TT_ERROR_NOT_SUPPORTED 0xFFFF000Au
#define TT_ERROR_OUT_OF_MEMORY 0xFFFF000Cu
#define TT_ERROR_BUSY 0xFFFF000Du
#define TT_ERROR_COMMUNICATION 0xFFFF000Eu
#define TT_ERROR_SECURITY 0xFFFF000Fu
#define TT_ERROR_SHORT_BUFFER 0xFFFF0010u
#define TT_ERROR_EXCESS_DATA 0xFFFF0004u
#define TT_ERROR_TARGET_DEAD 0xFFFF3024u
#define TT_ERROR_STORAGE_NO_SPACE 0xFFFF3041u
#define TT_ERROR_CORRUPT_OBJECT 0xF0100001u
#define TT_ERROR_SIGNATURE_INVALID 0xFFFF3072u

#define TT_ORIGIN_API 1
#define TT_ORIGIN_COMMS 2
#define TT_ORIGIN_TEE 3
#define TT_ORIGIN_TRUSTED_APP 4

#define TT_LOGIN_PUBLIC 0u
#define TT_LOGIN_TRUSTED_APP 0xF0000000u

#define TT_RUNTIME_VERSION "0.1.0-c"
#define TT_HOST_ABI_VERSION 1
#define TT_TA_ABI_VERSION 1
#define TT_MAX_RESPONSE (64 * 1024)

/* ---- growable byte buffer ---- */
typedef struct { uint8_t *p; size_t n, cap; } tt_buf;
void buf_put(tt_buf *b, const void *d, size_t n);
void buf_free(tt_buf *b);
void tt_wipe(void *p, size_t n);

/* ---- protobuf (pb.c) ---- */
typedef struct { const uint8_t *p; size_t n, i; bool err; } pb_reader;
/* Reads the next field; false at the end or on error (r->err). wire 0: *v; wire 2: *d,*dn. */
bool pb_next(pb_reader *r, uint32_t *field, uint32_t *wire, uint64_t *v, const uint8_t **d, size_t *dn);
void pb_varint(tt_buf *b, uint32_t field, uint64_t v);           /* skipped when 0 */
void pb_bytes(tt_buf *b, uint32_t field, const void *d, size_t n); /* skipped when empty */
void pb_bytes_always(tt_buf *b, uint32_t field, const void *d, size_t n);

/* ---- simulated HUK (huk.c) ---- */
int huk_open(const char *data_dir);
int huk_derive(const uint8_t uuid[16], const uint8_t *label, size_t label_len, uint8_t *out, size_t out_len);
int huk_derive_core(const uint8_t *label, size_t label_len, uint8_t *out, size_t out_len);

/* ---- simulated RPMB (rpmb.c): JEDEC eMMC 5.1 §6.6.22 frames; slot 0 the core's, 1..31 a TA's ---- */
int rpmb_open(const char *data_dir);
uint32_t rpmb_write_counter(uint32_t *out);
/* uuid NULL: the core's slot. *out malloc'd when *found. */
uint32_t rpmb_slot_read(const uint8_t *uuid, uint8_t **out, size_t *outn, bool *found);
uint32_t rpmb_slot_write(const uint8_t *uuid, const uint8_t *d, size_t n);

/* ---- sealed storage (storage.c) ---- */
typedef struct tt_storage tt_storage;
tt_storage *storage_open(const char *root, const uint8_t uuid[16]);
void storage_close(tt_storage *s);
/* Each returns TT_SUCCESS or a GP status. read: *out malloc'd (caller wipes/frees). */
uint32_t storage_read(tt_storage *s, const uint8_t *id, size_t idn, uint8_t **out, size_t *outn, bool *found);
uint32_t storage_write(tt_storage *s, const uint8_t *id, size_t idn, const uint8_t *d, size_t dn);
uint32_t storage_delete(tt_storage *s, const uint8_t *id, size_t idn, bool *found);
uint32_t storage_list(tt_storage *s, tt_buf *out); /* [len u8][id]... sorted */

/* ---- crypto (crypto.c) ---- */
#define TT_MAX_OPS 64
typedef struct tt_crypto tt_crypto;
tt_crypto *crypto_new(void);
void crypto_free_all(tt_crypto *c);
void crypto_destroy(tt_crypto *c);
/* >0 handle, or a negative status */
int32_t crypto_cipher_init(tt_crypto *c, uint32_t alg, uint32_t mode, const uint8_t *key, size_t kl, const uint8_t *iv, size_t ivl);
int32_t crypto_cipher_update(tt_crypto *c, uint32_t h, const uint8_t *in, size_t len, uint8_t *out);
/* 0 or a negative status; the whole operation in one call (host ABI 1.3) */
int32_t crypto_cipher_once(tt_crypto *c, uint32_t alg, uint32_t mode, const uint8_t *key, size_t kl, const uint8_t *iv, size_t ivl, const uint8_t *in, size_t len, uint8_t *out);
void crypto_op_free(tt_crypto *c, uint32_t h);
int32_t crypto_digest(uint32_t alg, const uint8_t *in, size_t len, uint8_t out[32]);
int32_t crypto_hmac(uint32_t alg, const uint8_t *key, size_t kl, const uint8_t *in, size_t len, uint8_t out[32]);
int32_t crypto_ecc_generate(uint32_t curve, uint8_t priv[32], uint8_t pub[65]);
int32_t crypto_ecc_sign(uint32_t alg, const uint8_t priv[32], const uint8_t *msg, size_t ml, uint8_t sig[64]);
/* s -> n - s when s > n/2 (P-256 r||s): the only form TrustTap's verifiers accept (issue 17 §2). */
void crypto_p256_low_s(uint8_t sig[64]);
int32_t crypto_ecc_verify(uint32_t alg, const uint8_t *pub, size_t pl, const uint8_t *msg, size_t ml, const uint8_t *sig, size_t sl);
int32_t crypto_eddsa_verify(uint32_t alg, const uint8_t *pub, size_t pl, const uint8_t *msg, size_t ml, const uint8_t *sig, size_t sl);
int32_t crypto_ecdh(const uint8_t priv[32], const uint8_t *pub, size_t pl, uint8_t out[32]);
bool crypto_p256_point_valid(const uint8_t *pub, size_t pl);
int crypto_random(uint8_t *out, size_t n);
int crypto_sha256(const uint8_t *d, size_t n, uint8_t out[32]);

/* ---- wasm module description (wasm.c) ---- */
#define TT_MAX_IMPORTS 64
#define TT_MAX_EXPORTS 64
typedef struct { char module[32]; char name[48]; char kind[10]; char sig[96]; } tt_import;
typedef struct { char name[48]; char kind[10]; } tt_export;
typedef struct {
  tt_import imports[TT_MAX_IMPORTS]; int nimports;
  tt_export exports[TT_MAX_EXPORTS]; int nexports;
  bool has_memory; int64_t mem_initial, mem_max; /* -1: none */
} tt_wasm_info;
/* 0 ok; else writes "NOT_WASM: ..." into err */
int wasm_read_info(const uint8_t *b, size_t n, tt_wasm_info *info, char *err, size_t errn);
/* Checks against the host ABI table and the TA ABI; 0 ok, else "CODE: message" in err. */
int wasm_check_module(const tt_wasm_info *info, bool release, char *err, size_t errn);

/* ---- host ABI table (host_abi.c) ---- */
typedef struct { const char *module, *name, *sig; bool debug_only; } tt_host_fn;
extern const tt_host_fn tt_host_abi[];
extern const int tt_host_abi_count;
const tt_host_fn *host_abi_find(const char *module, const char *name);

/* ---- the compiled TA module (one .so per wasm SHA-256, made by wasm2c + gcc) ---- */
struct wasm_rt_memory_t;
typedef struct tt_module {
  uint32_t abi; /* TT_MODULE_ABI */
  size_t instance_size;
  void (*init_module)(void);
  void (*instantiate)(void *inst, void *env, void *tee);
  void (*free)(void *inst);
  void *(*memory)(void *inst); /* wasm_rt_memory_t* */
  uint32_t (*io_in)(void *), (*io_out)(void *), (*io_cap)(void *), (*ta_out_len)(void *), (*ta_create)(void *);
  uint32_t (*ta_open_session)(void *, uint32_t, uint32_t, uint32_t);
  uint32_t (*ta_invoke)(void *, uint32_t, uint32_t, uint32_t);
  void (*ta_close_session)(void *, uint32_t);
  void (*ta_destroy)(void *);
  uint32_t (*ta_tui_event)(void *, uint32_t, uint32_t, uint32_t); /* NULL: the TA has no UI */
} tt_module;
#define TT_MODULE_ABI 0x54540002u

/* ---- runtime (runtime.c) ---- */
typedef struct tt_ta tt_ta;
typedef struct {
  uint32_t status, origin, session, size_needed;
  uint8_t *payload; size_t payload_len; /* malloc'd */
  char message[512];
} tt_result;
void result_free(tt_result *r);

typedef struct {
  const char *data_dir, *cache_dir;
  uint32_t time_budget_ms;
  bool allow_debug;
  const char *manifest_sha256_hex; /* NULL: none */
  int boot_state;
  /* test hooks (TT_TEST_HOOKS builds only) */
  bool test_lcg; uint32_t lcg_state; const char *random_log; const char *ree_time_file; const char *mono_time_file;
  /* the secure display channel (--ui): -1 when this host has no trusted UI */
  int ui_fd;
} tt_config;
extern tt_config g_cfg;

int rt_add_ta(const char *name, const char *uuid_text, const char *version, const uint8_t *wasm, size_t n, char *err, size_t errn);
void rt_finish_load(void);
/* TA anti-rollback (tee/ta-floor.ts): refuses a TA older than the highest version this device
 * loaded (TA_ROLLBACK in err), then raises the floors kept in the RPMB core slot. */
int rt_enforce_version_floors(char *err, size_t errn);
/* The client API (client = the connection, 0 on stdio): a session is usable only by the client
 * that opened it; TA-to-TA sessions only by the TA that opened them (rt_ta_session_*). */
void rt_open_session(uint32_t client, const uint8_t *uuid, const char *name, uint32_t login, tt_result *r);
void rt_invoke(uint32_t client, uint32_t session, uint32_t command, const uint8_t *in, size_t inl, size_t cap, tt_result *r);
void rt_close_session(uint32_t client, uint32_t session, tt_result *r);
void rt_client_gone(uint32_t client); /* closes every session the client opened */
void rt_shutdown(void);
size_t rt_loaded_count(void);
/* envelope: one ClientRequest in, one ClientResponse out (malloc'd). Returns false when the
 * answer is deferred (an invoke that began a trusted-UI entry): out stays empty and the answer
 * is sent later with tt_send_client_frame. */
bool rt_handle_request(uint32_t client, const uint8_t *req, size_t n, tt_buf *out);
/* ---- trusted UI (runtime.c; docs/trusted-ui.md) ---- */
#define TT_TUI_PENDING 1u
/* UI channel messages: [type u8][entry id u32 BE][position u32 BE, TOUCH only | screen bytes] */
#define TT_UI_OPEN 1
#define TT_UI_SHOW 2
#define TT_UI_CLOSE 3
#define TT_UI_TOUCH 16
#define TT_UI_OK 17
#define TT_UI_CLEAR 18
#define TT_UI_CANCEL 19
#define TT_UI_FAIL 20
#define TT_UI_TOUCH_AT 21 /* host ABI 1.2: y << 16 | x on the TA's pixels */
void rt_ui_message(const uint8_t *m, size_t n);  /* one frame from the UI channel */
void rt_after_request(void);                       /* deliver aborts a Cancel asked for */
double rt_next_deadline(void);                     /* earliest entry timer (tt_real_ms), or -1 */
void rt_tick(void);                                /* deliver TIMEOUT to entries past their timer */
/* main.c */
int tt_send_client_frame(uint32_t client, const uint8_t *p, size_t n); /* to one client connection */
int tt_send_ui_frame(uint8_t type, uint32_t entry, const uint8_t *p, size_t n);
double tt_real_ms(void); /* the host's own monotonic clock for its timers (never a test clock) */

/* What a host function sees of the TA that called it (the wasm2c import instance). */
struct tt_host_ctx;
typedef struct tt_host_ctx tt_host_ctx;
struct Z_tee_instance_t { tt_host_ctx *ctx; };
struct Z_env_instance_t { tt_host_ctx *ctx; };
struct tt_host_ctx {
  tt_ta *ta;
  uint8_t uuid[16];
  const char *name;
  void *instance;      /* the wasm2c instance */
  const tt_module *mod;
  tt_storage *storage;
  tt_crypto *crypto;
  uint32_t *opened; size_t nopened, capopened; /* TA-to-TA sessions this instance opened (all closed with it) */
  struct Z_tee_instance_t tee;
  struct Z_env_instance_t env;
};
uint8_t *host_mem(tt_host_ctx *c, uint64_t *size);
int32_t rt_ta_session_open(tt_host_ctx *c, const uint8_t callee[16]);
int32_t rt_ta_session_invoke(tt_host_ctx *c, uint32_t s, uint32_t cmd, const uint8_t *in, size_t inl, size_t cap, tt_buf *out, uint32_t *status);
void rt_ta_session_close(tt_host_ctx *c, uint32_t s);
void rt_ta_sessions_close_all(tt_host_ctx *c);
int32_t rt_tui_begin(tt_host_ctx *c, const uint8_t *screen, size_t n, uint32_t timeout_ms);
int32_t rt_tui_update(tt_host_ctx *c, const uint8_t *screen, size_t n);
const uint8_t *rt_measurements(size_t *n);
const uint8_t *rt_ta_sha256(const uint8_t uuid[16]);

/* panics the calling TA (TEE_Panic): never returns */
__attribute__((noreturn)) void tt_panic(const char *fmt, ...);
void tt_log(const char *fmt, ...);
double tt_clock_ms(void);
double tt_ree_time_ms(void);
void tt_random(uint8_t *out, size_t n);
const char *tt_status_name(uint32_t s);

/* manifest.c */
int manifest_load(const char *build_dir, const char *key_pem_path, bool debug, char *err, size_t errn);
/* the manifest's JSON and shape (no signature): a jnode tree (json.h) or NULL with err */
struct jnode *manifest_parse(const uint8_t *m, size_t mn, char *err, size_t errn);
/* strict padded base64 into at most cap bytes; the decoded length or -1 */
int b64_decode(const char *t, size_t n, uint8_t *out, size_t cap);
#endif
