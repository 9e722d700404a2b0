/* Builds wh_record values. Strings passed in must outlive the record;
 * wh_recb_strf copies into the builder's arena. */
#ifndef WH_RECBUILD_H
#define WH_RECBUILD_H

#include "core/arena.h"
#include "wmihunt/record.h"

typedef struct wh_recb {
    wh_arena *a;
    wh_record rec;
    wh_field *f;
    size_t n, cap;
    bool oom;
} wh_recb;

void wh_recb_start(wh_recb *b, wh_arena *a, const char *artifact, const char *source, uint64_t offset);
void wh_recb_add(wh_recb *b, const char *name, wh_value v);
void wh_recb_str(wh_recb *b, const char *name, const char *s);
void wh_recb_strf(wh_recb *b, const char *name, const char *fmt, ...) WH_PRINTF(3, 4);
void wh_recb_ts(wh_recb *b, uint64_t ft, const char *desc);
/* Finished record (fields live in the arena); NULL when out of memory. */
const wh_record *wh_recb_done(wh_recb *b);
/* Object value from n fields (copied into the arena). */
wh_value wh_v_object(wh_arena *a, const wh_field *f, size_t n);

/* "S-1-5-..." from a binary SID; NULL when it is not one. */
char *wh_sid_str(wh_arena *a, const uint8_t *p, size_t n);

/* Deep copies into a (records are borrowed by their consumers: detection
 * and the hunt keep what they need this way). NULL/null when out of memory. */
wh_record *wh_record_copy(wh_arena *a, const wh_record *rec);
wh_value wh_value_copy(wh_arena *a, const wh_value *v);

#endif
