/* The GlobalPlatform TA entry points of one TrustTap TA, shaped as in an OP-TEE TA
 * (optee_examples hello_world_ta.c): each calls the matching export of the TA's wasm2c-translated
 * module (TA ABI v1, tee/abi/ta-exports.ts) inside a trap guard. A trap, a host-function panic
 * (TEE_Panic) or the watchdog ends the instance: the caller gets TT_ERROR_TARGET_DEAD and the
 * reason. On OP-TEE these five functions are the TA's real entry points and the guard is the
 * TA panic path of the TEE core. */
#define _GNU_SOURCE
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include "wasm-rt.h"
#include "wasm-rt-impl.h"
#include "tt.h"
#include "ta_entry.h"

static char g_panic[768];
static volatile sig_atomic_t g_wasm_depth; /* nested TA calls (TA-to-TA) currently running */
static volatile sig_atomic_t g_watchdog_fired;

__attribute__((noreturn)) void tt_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_panic, sizeof g_panic, fmt, ap);
  va_end(ap);
  wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

/* ---- watchdog: SIGALRM stops a runaway TA, but only while it runs translated TA code ---- */
typedef struct { uintptr_t lo, hi; } range;
static range g_text[64];
static int g_ntext;

static int add_ranges(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  const char *want = data;
  if (!info->dlpi_name || strcmp(info->dlpi_name, want)) return 0;
  for (int i = 0; i < info->dlpi_phnum && g_ntext < 64; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      g_text[g_ntext].lo = info->dlpi_addr + ph->p_vaddr;
      g_text[g_ntext].hi = g_text[g_ntext].lo + ph->p_memsz;
      g_ntext++;
    }
  }
  return 1;
}
void ta_watch_module(const char *so_path) { dl_iterate_phdr(add_ranges, (void *)so_path); }

static bool in_ta_code(uintptr_t pc) {
  for (int i = 0; i < g_ntext; i++) if (pc >= g_text[i].lo && pc < g_text[i].hi) return true;
  return false;
}

static void on_alarm(int sig, siginfo_t *si, void *uc_) {
  (void)sig; (void)si;
  ucontext_t *uc = uc_;
#if defined(__x86_64__)
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
#else
  uintptr_t pc = 0;
#endif
  if (g_wasm_depth > 0 && in_ta_code(pc)) {
    g_watchdog_fired = 1;
    wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION); /* longjmp to the innermost guard; SIGALRM is unblocked there */
  }
  /* in host code (OpenSSL, libc): never unwind there; look again shortly */
  struct itimerval t = {{0, 0}, {0, 2000}};
  setitimer(ITIMER_REAL, &t, NULL);
}

void ta_entry_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_alarm;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
}

static void disarm(void) {
  struct itimerval t = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &t, NULL);
}
/* The alarm at `deadline` (tt_real_ms); one already past fires at once (1 µs). */
static void arm_until(double deadline) {
  double left = deadline - tt_real_ms();
  long us = left <= 0.001 ? 1 : (long)(left * 1000.0);
  struct itimerval t = {{0, 0}, {us / 1000000, us % 1000000}};
  setitimer(ITIMER_REAL, &t, NULL);
}

/* Every TA entry, at any depth, runs under a deadline (issue 17 §9): its own budget, never later
 * than its caller's. When a nested (TA-to-TA) call returns, killed or not, the alarm is set back
 * to the caller's deadline, so the caller stays limited. g_deadline is the running entry's;
 * 0 means none (time budget 0: no watchdog). */
static double g_deadline;

/* Runs fn inside a trap guard that nests (a TA-to-TA call runs a guard inside a guard). */
typedef struct { tt_host_ctx *c; int op; uint32_t a, b, cc; uint32_t ret; } call;
static void dispatch(call *k) {
  tt_host_ctx *c = k->c;
  const tt_module *m = c->mod;
  switch (k->op) {
    case 0: m->instantiate(c->instance, &c->env, &c->tee); break;
    case 1: k->ret = m->ta_create(c->instance); break;
    case 2: k->ret = m->ta_open_session(c->instance, k->a, k->b, k->cc); break;
    case 3: k->ret = m->ta_invoke(c->instance, k->a, k->b, k->cc); break;
    case 4: m->ta_close_session(c->instance, k->a); break;
    case 5: m->ta_destroy(c->instance); break;
    case 6: k->ret = m->io_in(c->instance); break;
    case 7: k->ret = m->io_out(c->instance); break;
    case 8: k->ret = m->io_cap(c->instance); break;
    case 9: k->ret = m->ta_out_len(c->instance); break;
    case 10: k->ret = m->ta_tui_event(c->instance, k->a, k->b, k->cc); break;
  }
}

static uint32_t guarded(call *k, char *why, size_t whyn) {
  jmp_buf saved;
  memcpy(saved, wasm_rt_jmp_buf, sizeof saved);
  uint32_t saved_depth = wasm_rt_saved_call_stack_depth;
  volatile bool outer = g_wasm_depth == 0;
  volatile double parent = outer ? 0 : g_deadline;
  double mine = g_cfg.time_budget_ms ? tt_real_ms() + g_cfg.time_budget_ms : 0;
  if (parent && (!mine || parent < mine)) mine = parent;
  if (outer) g_watchdog_fired = 0;
  g_deadline = mine;
  if (mine) arm_until(mine);
  g_wasm_depth++;
  g_panic[0] = 0;
  int trap = wasm_rt_impl_try();
  if (trap == 0) dispatch(k);
  g_wasm_depth--;
  g_deadline = parent;
  if (parent) arm_until(parent); else disarm();
  memcpy(wasm_rt_jmp_buf, saved, sizeof saved);
  wasm_rt_saved_call_stack_depth = saved_depth;
  if (trap == 0) return TT_SUCCESS;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  if (g_watchdog_fired && trap == WASM_RT_TRAP_EXHAUSTION) snprintf(why, whyn, "watchdog: the TA ran longer than %u ms", g_cfg.time_budget_ms);
  else if (g_panic[0]) snprintf(why, whyn, "%s", g_panic);
  else snprintf(why, whyn, "trap: %s", wasm_rt_strerror((wasm_rt_trap_t)trap));
  g_watchdog_fired = 0;
  return TT_ERROR_TARGET_DEAD;
}

#define CALL(op_, ...) call k = {c, op_, __VA_ARGS__}; uint32_t st = guarded(&k, why, whyn)

/* TA_CreateEntryPoint: instantiate (data segments, start function) and ta_create(). */
uint32_t TA_CreateEntryPoint(tt_host_ctx *c, uint32_t *ta_status, char *why, size_t whyn) {
  c->instance = calloc(1, c->mod->instance_size);
  { CALL(0, 0, 0, 0); if (st) return st; }
  CALL(1, 0, 0, 0);
  *ta_status = k.ret;
  return st;
}

static uint32_t io(tt_host_ctx *c, int op, uint32_t *out, char *why, size_t whyn) {
  CALL(op, 0, 0, 0);
  *out = k.ret;
  return st;
}

static uint8_t *mem(tt_host_ctx *c, uint32_t *size) {
  wasm_rt_memory_t *m = c->mod->memory(c->instance);
  *size = m->size;
  return m->data;
}

/* Copies `in` into the TA's input buffer; false when it does not fit. */
static uint32_t copy_in(tt_host_ctx *c, const uint8_t *in, size_t n, bool *fits, char *why, size_t whyn) {
  uint32_t cap, at, size, st;
  if ((st = io(c, 8, &cap, why, whyn))) return st;
  *fits = n <= cap;
  if (!*fits) return TT_SUCCESS;
  if ((st = io(c, 6, &at, why, whyn))) return st;
  uint8_t *m = mem(c, &size);
  if ((uint64_t)at + n > size) { snprintf(why, whyn, "TA input buffer outside its memory"); return TT_ERROR_TARGET_DEAD; }
  if (n) memcpy(m + at, in, n);
  return TT_SUCCESS;
}

uint32_t TA_OpenSessionEntryPoint(tt_host_ctx *c, uint32_t session, uint32_t login, const uint8_t *client, size_t cl, uint32_t *ta_status, char *why, size_t whyn) {
  bool fits;
  uint32_t s0 = copy_in(c, client, cl, &fits, why, whyn);
  if (s0) return s0;
  CALL(2, session, login, (uint32_t)cl);
  *ta_status = k.ret;
  return st;
}

/* The TA's answer (status, then its response out of io_out). */
static uint32_t read_reply(tt_host_ctx *c, uint32_t status, ta_reply *reply, char *why, size_t whyn) {
  uint32_t len, cap, at, size, s0;
  if ((s0 = io(c, 9, &len, why, whyn))) return s0;
  reply->status = status;
  if (status == TT_ERROR_SHORT_BUFFER) { reply->size_needed = len; return TT_SUCCESS; }
  if ((s0 = io(c, 8, &cap, why, whyn))) return s0;
  if (len > cap) { snprintf(why, whyn, "TA reported a %u-byte response beyond its output buffer", len); return TT_ERROR_TARGET_DEAD; }
  if ((s0 = io(c, 7, &at, why, whyn))) return s0;
  uint8_t *m = mem(c, &size);
  if ((uint64_t)at + len > size) { snprintf(why, whyn, "TA output buffer outside its memory"); return TT_ERROR_TARGET_DEAD; }
  reply->payload = malloc(len ? len : 1);
  if (len) memcpy(reply->payload, m + at, len);
  reply->len = len;
  return TT_SUCCESS;
}

/* TA_InvokeCommandEntryPoint: request into io_in, ta_invoke, response out of io_out. */
uint32_t TA_InvokeCommandEntryPoint(tt_host_ctx *c, uint32_t session, uint32_t command, const uint8_t *in, size_t inl, ta_reply *reply, char *why, size_t whyn) {
  bool fits;
  uint32_t s0 = copy_in(c, in, inl, &fits, why, whyn);
  if (s0) return s0;
  reply->payload = NULL; reply->len = 0;
  if (!fits) { reply->status = TT_ERROR_EXCESS_DATA; return TT_SUCCESS; }
  uint32_t status;
  { CALL(3, session, command, (uint32_t)inl); if (st) return st; status = k.ret; }
  return read_reply(c, status, reply, why, whyn);
}

/* Not a GP entry point: the trusted-UI event (the TA export ta_tui_event), delivered by the
 * runtime while a client's command is pending. Its answer reads like an invoke's. On OP-TEE the
 * GP TEE TUI API's TEE_TUIDisplayScreen returns inside the TA instead (docs/porting.md). */
uint32_t TA_TuiEventEntryPoint(tt_host_ctx *c, uint32_t session, uint32_t kind, uint32_t position, ta_reply *reply, char *why, size_t whyn) {
  reply->payload = NULL; reply->len = 0;
  if (!c->mod->ta_tui_event) { reply->status = TT_ERROR_BAD_STATE; return TT_SUCCESS; }
  uint32_t status;
  { CALL(10, session, kind, position); if (st) return st; status = k.ret; }
  return read_reply(c, status, reply, why, whyn);
}

uint32_t TA_CloseSessionEntryPoint(tt_host_ctx *c, uint32_t session, char *why, size_t whyn) {
  CALL(4, session, 0, 0);
  return st;
}

/* TA_DestroyEntryPoint: ta_destroy (skipped after a panic, as GP says), then free the instance. */
void TA_DestroyEntryPoint(tt_host_ctx *c, bool call_destroy) {
  if (c->instance) {
    if (call_destroy) { char why[256]; size_t whyn = sizeof why; CALL(5, 0, 0, 0); (void)st; }
    c->mod->free(c->instance);
    free(c->instance);
    c->instance = NULL;
  }
}
