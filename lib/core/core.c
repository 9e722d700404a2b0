/* Status names, diagnostics, FILETIME formatting, record helpers. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wmihunt/core.h"
#include "wmihunt/record.h"

const char *wh_status_str(wh_status st)
{
    switch (st) {
    case WH_OK: return "ok";
    case WH_DONE: return "done";
    case WH_E_TRUNCATED: return "truncated";
    case WH_E_BADSIG: return "bad signature";
    case WH_E_CORRUPT: return "corrupt";
    case WH_E_LIMIT: return "limit reached";
    case WH_E_NOMEM: return "out of memory";
    case WH_E_IO: return "i/o error";
    case WH_E_ARG: return "bad argument";
    case WH_E_NOTFOUND: return "not found";
    }
    return "unknown";
}

void wh_diagf(wh_diag_sink *sink, wh_severity sev, wh_status code, const char *source,
              uint64_t offset, const char *fmt, ...)
{
    if (!sink) return;
    if (sev < WH_SEV_COUNT) sink->count[sev]++;
    if (!sink->fn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    wh_diag d = {sev, code, source ? source : "-", offset, msg};
    sink->fn(sink->ud, &d);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void wh_diag_budget(wh_diag_sink *sink, double seconds)
{
    if (!sink) return;
    sink->expired = 0;
    sink->budget_s = seconds > 0 ? seconds : 0;
    sink->deadline_ns = seconds > 0 ? now_ns() + (uint64_t)(seconds * 1e9) + 1 : 0;
}

bool wh_diag_expired(wh_diag_sink *sink, const char *source, uint64_t offset)
{
    if (!sink || !sink->deadline_ns) return false;
    if (sink->expired) return true;
    if (now_ns() < sink->deadline_ns) return false;
    sink->expired = 1;
    wh_diagf(sink, WH_SEV_ERROR, WH_E_LIMIT, source, offset,
             "time budget of %g s for this file spent: the rest of it is not read (raise --time-budget)",
             sink->budget_s);
    return true;
}

// Howard Hinnant's days-to-civil, valid for the whole FILETIME range.
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

#define FT_UNIX_EPOCH 116444736000000000ull

bool wh_filetime_iso(uint64_t ft, char buf[32])
{
    buf[0] = 0;
    // 0 means "not set"; the top limit is the end of year 9999.
    if (ft == 0 || ft > 2650467743999999999ull) return false;
    uint64_t secs = ft / 10000000u;
    unsigned us = (unsigned)((ft % 10000000u) / 10u);
    int64_t days = (int64_t)(secs / 86400u) - 134774; // 1601-01-01 to 1970-01-01
    unsigned sod = (unsigned)(secs % 86400u);
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    // Written digit by digit: this runs for every record of every log.
    unsigned v[7] = {(unsigned)y, m, d, sod / 3600, (sod / 60) % 60, sod % 60, us};
    static const int width[7] = {4, 2, 2, 2, 2, 2, 6};
    static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    char *p = buf;
    for (int i = 0; i < 7; i++) {
        for (int k = width[i] - 1; k >= 0; k--) {
            p[k] = (char)('0' + v[i] % 10);
            v[i] /= 10;
        }
        p += width[i];
        *p++ = sep[i];
    }
    *p = 0;
    return true;
}

double wh_filetime_unix(uint64_t ft)
{
    return ((double)ft - (double)FT_UNIX_EPOCH) / 1e7;
}

const wh_field *wh_record_field(const wh_record *rec, const char *name)
{
    for (size_t i = 0; i < rec->nfields; i++)
        if (strcmp(rec->fields[i].name, name) == 0) return &rec->fields[i];
    return NULL;
}

wh_value wh_v_str(const char *s)
{
    wh_value v = {.type = WH_V_NULL};
    if (s) {
        v.type = WH_V_STR;
        v.as.str.s = s;
        v.as.str.len = strlen(s);
        v.as.str.lossy = false;
    }
    return v;
}
