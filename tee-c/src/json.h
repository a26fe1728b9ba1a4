/* A small strict JSON reader (RFC 8259) for the signed manifest and the OEM key file. */
#ifndef TT_JSON_H
#define TT_JSON_H
#include <stddef.h>
#include <stdbool.h>
typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jnode {
  jtype t;
  bool b; double num; bool is_int;
  char *s; size_t slen;          /* J_STR (NUL-terminated copy) */
  struct jnode **items; char **keys; size_t n; /* J_ARR / J_OBJ */
} jnode;
jnode *json_parse(const char *text, size_t n, char *err, size_t errn);
void json_free(jnode *j);
jnode *json_get(const jnode *obj, const char *key);
const char *json_str(const jnode *obj, const char *key); /* NULL unless a string */
#endif
