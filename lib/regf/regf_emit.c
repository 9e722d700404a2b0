/* Registry records (docs/output.md, "Registry records"): the hive, every
 * key and value (--all), and the WMI view of Microsoft\WBEM\CIMOM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/recbuild.h"
#include "core/text.h"
#include "regf/regf_int.h"

#define CIMOM_PATH "Microsoft\\WBEM\\CIMOM"

static wh_value str_n(const char *s, size_t n)
{
    wh_value v = {.type = WH_V_STR};
    v.as.str.s = s ? s : "";
    v.as.str.len = s ? n : 0;
    return v;
}

/* The value's data as a typed record value. */
static wh_value value_data(wh_regf *h, const wh_regf_value *v)
{
    if (!v->data) return wh_v_null();
    switch (v->type) {
    case WH_REG_SZ:
    case WH_REG_EXPAND_SZ:
    case WH_REG_LINK: {
        size_t n;
        bool lossy;
        const char *s = wh_regf_value_str(h, v, &n, &lossy);
        wh_value r = str_n(s, n);
        r.as.str.lossy = lossy;
        return r;
    }
    case WH_REG_DWORD:
        if (v->size == 4) return wh_v_uint(wh_get_u32le(v->data));
        break;
    case WH_REG_DWORD_BE:
        if (v->size == 4)
            return wh_v_uint((uint32_t)v->data[0] << 24 | (uint32_t)v->data[1] << 16 | (uint32_t)v->data[2] << 8 |
                             v->data[3]);
        break;
    case WH_REG_QWORD:
        if (v->size == 8) return wh_v_uint(wh_get_u64le(v->data));
        break;
    case WH_REG_MULTI_SZ: {
        const char **list;
        size_t n = wh_regf_value_multi(h, v, &list);
        wh_value *items = wh_arena_calloc(h->tmp, n ? n : 1, sizeof(*items));
        if (!items) return wh_v_null();
        for (size_t i = 0; i < n; i++) items[i] = wh_v_str(list[i]);
        wh_value r = {.type = WH_V_ARRAY};
        r.as.arr.items = items;
        r.as.arr.n = n;
        return r;
    }
    default: break;
    }
    wh_value r = {.type = WH_V_BYTES};
    r.as.bytes.p = v->data;
    r.as.bytes.len = v->size;
    return r;
}

static const char *root_name(wh_regf *h, size_t *n)
{
    wh_regf_key root;
    if (wh_regf_root(h, &root) != WH_OK) {
        *n = 0;
        return "";
    }
    *n = root.name_len;
    return root.name;
}

int wh_regf_hive_record(wh_regf *h, const char *cimom_state, wh_record_fn fn, void *ud)
{
    const wh_regf_info *in = &h->info;
    wh_recb b;
    wh_recb_start(&b, h->tmp, "reg.hive", h->name, 0);
    wh_recb_ts(&b, in->written, "header_written");
    size_t rn;
    const char *rname = root_name(h, &rn);
    wh_regf_key root;
    if (wh_regf_root(h, &root) == WH_OK) wh_recb_ts(&b, root.written, "root_written");
    wh_recb_strf(&b, "version", "%u.%u", (unsigned)in->major, (unsigned)in->minor);
    wh_recb_add(&b, "file_type", wh_v_uint(in->file_type));
    wh_recb_add(&b, "primary_sequence", wh_v_uint(in->seq1));
    wh_recb_add(&b, "secondary_sequence", wh_v_uint(in->seq2));
    wh_recb_add(&b, "dirty", wh_v_bool(in->dirty));
    wh_recb_add(&b, "checksum_ok", wh_v_bool(in->checksum_ok));
    wh_recb_add(&b, "header_written", wh_v_time(in->written));
    wh_recb_str(&b, "file_name", in->file_name);
    wh_recb_add(&b, "root_name", str_n(rname, rn));
    wh_recb_add(&b, "bins_size", wh_v_uint(in->bins_size));
    wh_recb_add(&b, "hbins", wh_v_uint(in->hbins));
    wh_recb_add(&b, "truncated", wh_v_bool(in->truncated));
    wh_recb_add(&b, "logs_given", wh_v_uint(in->logs_given));
    wh_recb_add(&b, "logs_applied", wh_v_bool(in->logs_applied));
    wh_recb_add(&b, "log_entries", wh_v_uint(in->log_entries));
    wh_recb_add(&b, "log_pages", wh_v_uint(in->log_pages));
    wh_recb_add(&b, "base_from_log", wh_v_bool(in->base_from_log));
    wh_recb_str(&b, "log_statement", in->log_statement);
    if (cimom_state) wh_recb_str(&b, "cimom", cimom_state);
    b.rec.summary = in->log_statement;
    const wh_record *r = wh_recb_done(&b);
    return r ? fn(ud, r) : 0;
}

/* Text a string value holds past its first NUL. Windows tools stop there,
 * which makes it a place to hide data; NULL when only NUL padding follows.
 * NULs inside it are shown as U+FFFD. */
static const char *sz_after_nul(wh_regf *h, const wh_regf_value *v)
{
    if (!v->data || (v->type != WH_REG_SZ && v->type != WH_REG_EXPAND_SZ && v->type != WH_REG_LINK)) return NULL;
    size_t n = v->size / 2, first = n, last = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t u = wh_get_u16le(v->data + 2 * i);
        if (!u && first == n) first = i;
        else if (u && first < n) last = i + 1;
    }
    if (first == n || last <= first + 1) return NULL;
    uint8_t *u = wh_arena_alloc(h->tmp, (last - first - 1) * 2);
    if (!u) return NULL;
    for (size_t i = first + 1; i < last; i++) {
        uint16_t c = wh_get_u16le(v->data + 2 * i);
        if (!c) c = 0xFFFD;
        u[2 * (i - first - 1)] = (uint8_t)c;
        u[2 * (i - first - 1) + 1] = (uint8_t)(c >> 8);
    }
    return wh_utf16le_to_utf8(h->tmp, u, last - first - 1, false, NULL, NULL);
}

static void value_fields(wh_regf *h, wh_recb *b, const char *key_path, size_t kplen, const wh_regf_value *v)
{
    char tb[24];
    wh_recb_add(b, "key_path", str_n(key_path, kplen));
    wh_recb_add(b, "name", str_n(v->name, v->name_len));
    wh_recb_str(b, "type", wh_regf_type_name(v->type, tb) == tb ? wh_arena_strdup(h->tmp, tb)
                                                                : wh_regf_type_name(v->type, tb));
    wh_recb_add(b, "type_code", wh_v_uint(v->type));
    wh_recb_add(b, "size", wh_v_uint(v->size));
    wh_recb_add(b, "data", value_data(h, v));
    const char *hidden = sz_after_nul(h, v);
    if (hidden) wh_recb_str(b, "data_after_nul", hidden);
    if (v->big_data) wh_recb_add(b, "big_data", wh_v_bool(true));
}

/* ---- --all ---- */

typedef struct dump_ctx {
    wh_regf *h;
    wh_record_fn fn;
    void *ud;
    long n;
    bool stop;
    const char *path;
    size_t plen;
    uint64_t key_written;
} dump_ctx;

static int dump_value(void *ud, const wh_regf_value *v)
{
    dump_ctx *d = ud;
    wh_recb b;
    wh_recb_start(&b, d->h->tmp, "reg.value", d->h->name, v->abs_off);
    wh_recb_ts(&b, d->key_written, "key_written");
    value_fields(d->h, &b, d->path, d->plen, v);
    const wh_record *r = wh_recb_done(&b);
    if (r && d->fn(d->ud, r)) return d->stop = true;
    d->n++;
    return 0;
}

static int dump_key(void *ud, const char *path, size_t plen, const wh_regf_key *k)
{
    dump_ctx *d = ud;
    wh_recb b;
    wh_recb_start(&b, d->h->tmp, "reg.key", d->h->name, k->abs_off);
    wh_recb_ts(&b, k->written, "key_written");
    wh_recb_add(&b, "path", str_n(path, plen));
    wh_recb_add(&b, "name", str_n(k->name, k->name_len));
    wh_recb_add(&b, "last_written", wh_v_time(k->written));
    wh_recb_add(&b, "subkeys", wh_v_uint(k->nsubkeys));
    wh_recb_add(&b, "values", wh_v_uint(k->nvalues));
    wh_recb_add(&b, "access_bits", wh_v_uint(k->access_bits));
    if (k->class_name) wh_recb_str(&b, "class_name", k->class_name);
    const wh_record *r = wh_recb_done(&b);
    if (r && d->fn(d->ud, r)) return d->stop = true;
    d->n++;
    d->path = path;
    d->plen = plen;
    d->key_written = k->written;
    (void)wh_regf_values(d->h, k, dump_value, d);
    return d->stop;
}

long wh_regf_dump_records(wh_regf *h, wh_record_fn fn, void *ud)
{
    dump_ctx d = {h, fn, ud, 0, false, NULL, 0, 0};
    (void)wh_regf_walk(h, dump_key, &d);
    return d.stop ? -1 : d.n;
}

/* ---- the CIMOM view ---- */

typedef struct cimom_ctx {
    wh_regf *h;
    const wh_regf_key *key;
    wh_record_fn fn;
    void *ud;
    long n;
    bool stop;
} cimom_ctx;

static bool emit(cimom_ctx *c, wh_recb *b)
{
    const wh_record *r = wh_recb_done(b);
    if (!r) return false;
    if (c->fn(c->ud, r)) {
        c->stop = true;
        return true;
    }
    c->n++;
    return false;
}

/* "Autorecover MOFs timestamp": a FILETIME written as a decimal string. */
static bool decimal_ft(const char *s, uint64_t *ft)
{
    uint64_t v = 0;
    if (!s || !*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *ft = v;
    return true;
}

static int cimom_value(void *ud, const wh_regf_value *v)
{
    cimom_ctx *c = ud;
    wh_regf *h = c->h;
    bool applied = h->info.logs_applied;
    wh_recb b;
    wh_recb_start(&b, h->tmp, "reg.value", h->name, v->abs_off);
    wh_recb_ts(&b, c->key->written, "key_written");
    value_fields(h, &b, CIMOM_PATH, strlen(CIMOM_PATH), v);
    wh_recb_add(&b, "logs_applied", wh_v_bool(applied));
    if (emit(c, &b)) return 1;
    bool is_list = v->name_len == 16 && strncasecmp(v->name, "Autorecover MOFs", 16) == 0;
    bool is_ts = v->name_len == 26 && strncasecmp(v->name, "Autorecover MOFs timestamp", 26) == 0;
    if (is_list) {
        const char **list = NULL;
        size_t n = v->type == WH_REG_MULTI_SZ ? wh_regf_value_multi(h, v, &list) : 0;
        if (v->type != WH_REG_MULTI_SZ)
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, v->abs_off,
                     "'Autorecover MOFs' is not REG_MULTI_SZ (type %u)", (unsigned)v->type);
        for (size_t i = 0; i < n; i++) {
            wh_recb_start(&b, h->tmp, "reg.autorecover_mof", h->name, v->abs_off);
            wh_recb_ts(&b, c->key->written, "key_written");
            wh_recb_str(&b, "key_path", CIMOM_PATH);
            wh_recb_add(&b, "index", wh_v_uint(i));
            wh_recb_str(&b, "path", list[i]);
            wh_recb_add(&b, "key_written", wh_v_time(c->key->written));
            wh_recb_add(&b, "logs_applied", wh_v_bool(applied));
            b.rec.summary = list[i];
            if (emit(c, &b)) return 1;
        }
    }
    if (is_ts) {
        const char *s = v->type == WH_REG_SZ || v->type == WH_REG_EXPAND_SZ ? wh_regf_value_str(h, v, NULL, NULL) : NULL;
        uint64_t ft = 0;
        bool ok = decimal_ft(s, &ft);
        char iso[32];
        ok = ok && wh_filetime_iso(ft, iso);
        wh_recb_start(&b, h->tmp, "reg.autorecover_timestamp", h->name, v->abs_off);
        if (ok) wh_recb_ts(&b, ft, "autorecover_list_written");
        wh_recb_ts(&b, c->key->written, "key_written");
        wh_recb_str(&b, "key_path", CIMOM_PATH);
        wh_recb_str(&b, "raw", s);
        wh_recb_add(&b, "timestamp", ok ? wh_v_time(ft) : wh_v_null());
        wh_recb_add(&b, "key_written", wh_v_time(c->key->written));
        if (ok) {
            double delta = ((double)c->key->written - (double)ft) / 1e7;
            wh_recb_add(&b, "delta_seconds", wh_v_real(delta));
            // WMI writes both at once; a large gap means something else wrote the key later.
            wh_recb_str(&b, "note", delta > 60 || delta < -60 ? "key written well after (or before) the list: "
                                                              "another value of the key changed later, or times were altered"
                                                              : "close to the key's last-written time");
        } else {
            wh_recb_str(&b, "note", "not a decimal FILETIME");
            wh_diagf(h->diags, WH_SEV_WARN, WH_E_CORRUPT, h->name, v->abs_off,
                     "'Autorecover MOFs timestamp' is not a decimal FILETIME");
        }
        wh_recb_add(&b, "logs_applied", wh_v_bool(applied));
        if (emit(c, &b)) return 1;
    }
    return 0;
}

long wh_regf_cimom_records(wh_regf *h, bool *present, wh_record_fn fn, void *ud)
{
    wh_regf_key k;
    *present = false;
    if (wh_regf_find(h, CIMOM_PATH, &k) != WH_OK) return 0;
    *present = true;
    cimom_ctx c = {h, &k, fn, ud, 0, false};
    wh_recb b;
    wh_recb_start(&b, h->tmp, "reg.cimom_key", h->name, k.abs_off);
    wh_recb_ts(&b, k.written, "key_written");
    size_t rn;
    const char *rname = root_name(h, &rn);
    wh_recb_str(&b, "key_path", CIMOM_PATH);
    wh_recb_add(&b, "root_name", str_n(rname, rn));
    wh_recb_add(&b, "last_written", wh_v_time(k.written));
    wh_recb_add(&b, "values", wh_v_uint(k.nvalues));
    wh_recb_add(&b, "subkeys", wh_v_uint(k.nsubkeys));
    wh_recb_add(&b, "logs_applied", wh_v_bool(h->info.logs_applied));
    wh_recb_str(&b, "log_statement", h->info.log_statement);
    if (emit(&c, &b)) return -1;
    (void)wh_regf_values(h, &k, cimom_value, &c);
    return c.stop ? -1 : c.n;
}
