#ifndef TT_TA_ENTRY_H
#define TT_TA_ENTRY_H
#include "tt.h"
typedef struct { uint32_t status, size_needed; uint8_t *payload; size_t len; } ta_reply;
void ta_entry_init(void);
void ta_watch_module(const char *so_path);
/* Each returns TT_SUCCESS when the TA ran (its own status in *ta_status / reply->status) or
 * TT_ERROR_TARGET_DEAD with the reason in why. */
uint32_t TA_CreateEntryPoint(tt_host_ctx *c, uint32_t *ta_status, char *why, size_t whyn);
uint32_t TA_OpenSessionEntryPoint(tt_host_ctx *c, uint32_t session, uint32_t login, const uint8_t *client, size_t cl, uint32_t *ta_status, char *why, size_t whyn);
uint32_t TA_InvokeCommandEntryPoint(tt_host_ctx *c, uint32_t session, uint32_t command, const uint8_t *in, size_t inl, ta_reply *reply, char *why, size_t whyn);
uint32_t TA_TuiEventEntryPoint(tt_host_ctx *c, uint32_t session, uint32_t kind, uint32_t position, ta_reply *reply, char *why, size_t whyn);
uint32_t TA_CloseSessionEntryPoint(tt_host_ctx *c, uint32_t session, char *why, size_t whyn);
void TA_DestroyEntryPoint(tt_host_ctx *c, bool call_destroy);
#endif
