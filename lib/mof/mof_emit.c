/* MOF files: open, close, alias resolution and records (docs/output.md,
 * "MOF records"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/port.h"
#include "core/recbuild.h"
#include "core/sbuf.h"
#include "core/text.h"
#include "mof/mof_int.h"

static bool ends_icase(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && wh_strcasecmp(s + n - k, suf) == 0;
}

bool wh_mof_is_persistence_class(const char *cls)
{
    if (!cls) return false;
    return wh_strcasecmp(cls, "__EventFilter") == 0 || wh_strcasecmp(cls, "__FilterToConsumerBinding") == 0 ||
           ends_icase(cls, "EventConsumer");
}

static mof_class *find_class(wh_mof *m, const char *name)
{
    char *k = name ? mof_lower(m->ra, name) : NULL;
    return k ? wh_strmap_get(&m->classes, k) : NULL;
}

// A class declared in this file that derives (at any depth) from a consumer.
bool mof_class_is_consumer(wh_mof *m, const char *cls, unsigned depth)
{
    if (!cls || depth > 64) return false;
    if (ends_icase(cls, "EventConsumer")) return true;
    mof_class *c = find_class(m, cls);
    return c && c->super && mof_class_is_consumer(m, c->super, depth + 1);
}

static const char *role(wh_mof *m, const char *cls)
{
    if (!cls) return NULL;
    if (wh_strcasecmp(cls, "__EventFilter") == 0) return "filter";
    if (wh_strcasecmp(cls, "__FilterToConsumerBinding") == 0) return "binding";
    if (mof_class_is_consumer(m, cls, 0)) return "consumer";
    return NULL;
}

// Namespaces where Windows registers the standard consumer classes: a
// permanent subscription with them can only live here (docs/output.md).
static bool capable_ns(const char *ns)
{
    return ns && (wh_strcasecmp(ns, "root\\subscription") == 0 || wh_strcasecmp(ns, "root\\default") == 0);
}

/* ---- open / close ---- */

static wh_status finish_open(wh_mof *m, wh_mof **out)
{
    wh_sha256 h;
    wh_sha256_init(&h);
    wh_reader r;
    wh_rd_init(&r, m->data, m->size, 0, m->name);
    const uint8_t *all = wh_rd_bytes(&r, m->size);
    if (all) wh_sha256_update(&h, all, m->size);
    uint8_t d[32];
    wh_sha256_final(&h, d);
    wh_hex(d, 32, m->sha256, 0);
    m->info.path = m->name;
    m->info.size = m->size;
    wh_status st = mof_decode(m);
    if (st != WH_OK) {
        if (st == WH_E_NOMEM || wh_arena_hit_cap(m->a))
            wh_diagf(m->diags, WH_SEV_ERROR, WH_E_NOMEM, m->name, WH_NO_OFFSET,
                     "out of memory decoding the text (is --max-memory too small?)");
        wh_mof_close(m);
        return st;
    }
    if (!m->binary) mof_parse(m);
    if (wh_arena_hit_cap(m->a))
        wh_diagf(m->diags, WH_SEV_ERROR, WH_E_LIMIT, m->name, WH_NO_OFFSET,
                 "memory cap reached while parsing; what follows is missing (raise --max-memory)");
    for (size_t i = 0; i < m->objs.n; i++) {
        int kind = *(int *)m->objs.v[i];
        if (kind == OBJ_CLASS) {
            m->info.classes++;
        } else {
            m->info.instances++;
            if (role(m, ((mof_inst *)m->objs.v[i])->cls)) m->info.persistence++;
        }
    }
    wh_arena_reset(m->ra);
    *out = m;
    return WH_OK;
}

static wh_mof *new_handle(const wh_mof_opts *opts, wh_diag_sink *diags, const char *name)
{
    wh_mof *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    size_t cap = opts && opts->max_memory ? opts->max_memory : (size_t)WH_LIMIT_ARENA_DEFAULT;
    m->a = wh_arena_new(cap);
    m->ra = wh_arena_new(cap);
    m->diags = diags ? diags : &m->none; // per parse: a shared one would be counted from several threads
    m->strict = opts && (opts->flags & WH_MOF_OPT_STRICT);
    if (!m->a || !m->ra || !(m->name = wh_arena_strdup(m->a, name ? name : "-"))) {
        wh_mof_close(m);
        return NULL;
    }
    return m;
}

static uint64_t ft_of(int64_t sec, uint32_t nsec)
{
    if (sec < -11644473600LL) return 0;
    return ((uint64_t)(sec + 11644473600LL)) * 10000000u + (uint64_t)nsec / 100u;
}

wh_status wh_mof_open(const char *path, const wh_mof_opts *opts, wh_diag_sink *diags, wh_mof **out)
{
    *out = NULL;
    wh_fstat st;
    if (wh_stat(path, true, &st) != 0) return WH_E_NOTFOUND;
    if (st.type != WH_FT_REG) return WH_E_IO;
    if (st.size > WH_LIMIT_MOF_FILE) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_LIMIT, path, WH_NO_OFFSET, "file of %lld bytes is larger than the %u-byte MOF limit",
                 (long long)st.size, WH_LIMIT_MOF_FILE);
        return WH_E_LIMIT;
    }
    wh_mof *m = new_handle(opts, diags, path);
    if (!m) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_NOMEM, path, WH_NO_OFFSET,
                 "out of memory before reading (is --max-memory too small?)");
        return WH_E_NOMEM;
    }
    wh_status s = wh_map_file(path, &m->map);
    if (s != WH_OK) {
        wh_mof_close(m);
        return s;
    }
    m->mapped = true;
    m->data = m->map.data;
    m->size = m->map.size;
    if (m->size > WH_LIMIT_MOF_FILE) { // grew since stat
        wh_mof_close(m);
        return WH_E_LIMIT;
    }
    m->ts[0] = ft_of(st.mtime_s, st.mtime_ns);
    m->ts[1] = ft_of(st.ctime_s, st.ctime_ns);
    m->ts[2] = ft_of(st.atime_s, st.atime_ns);
    const char *slash = strrchr(path, '/');
#ifdef _WIN32
    const char *bs = strrchr(path, '\\'); // C:\x\a.mof: includes are beside it
    if (bs && (!slash || bs > slash)) slash = bs;
#endif
    m->dir = slash ? wh_arena_strndup(m->a, path, (size_t)(slash - path) + (slash == path)) : wh_arena_strdup(m->a, ".");
    return finish_open(m, out);
}

wh_status wh_mof_open_mem(const void *data, size_t size, const char *name, const wh_mof_opts *opts, wh_diag_sink *diags,
                          wh_mof **out)
{
    *out = NULL;
    if (size > WH_LIMIT_MOF_FILE) return WH_E_LIMIT;
    wh_mof *m = new_handle(opts, diags, name);
    if (!m) return WH_E_NOMEM;
    m->data = data;
    m->size = data ? size : 0;
    return finish_open(m, out);
}

void wh_mof_close(wh_mof *m)
{
    if (!m) return;
    if (m->mapped) wh_unmap_file(&m->map);
    wh_arena_free(m->a);
    wh_arena_free(m->ra);
    free(m);
}

const wh_mof_info *wh_mof_get_info(const wh_mof *m) { return &m->info; }

/* ---- values ---- */

typedef struct emitter {
    wh_mof *m;
    wh_arena *a;
} emitter;

static wh_value to_value(emitter *e, const mval *v, const char *ns, unsigned depth);

static const char **key_names(emitter *e, const mof_inst *in, size_t *nk)
{
    static const char *name[] = {"Name"};
    static const char *binding[] = {"Consumer", "Filter"};
    *nk = 0;
    // Keys from the class chain declared in this file, nearest first.
    const char *cls = in->cls;
    for (unsigned d = 0; cls && d < 64; d++) {
        mof_class *c = find_class(e->m, cls);
        if (!c) break;
        size_t n = 0;
        for (size_t i = 0; i < c->nfeats; i++)
            for (size_t q = 0; q < c->feats[i].quals.n; q++)
                if (wh_strcasecmp(c->feats[i].quals.q[q].name, "key") == 0) n++;
        if (n) {
            const char **k = wh_arena_calloc(e->a, n, sizeof(*k));
            if (!k) return NULL;
            for (size_t i = 0; i < c->nfeats; i++)
                for (size_t q = 0; q < c->feats[i].quals.n; q++)
                    if (wh_strcasecmp(c->feats[i].quals.q[q].name, "key") == 0) k[(*nk)++] = c->feats[i].name;
            return k;
        }
        cls = c->super;
    }
    if (in->cls && wh_strcasecmp(in->cls, "__FilterToConsumerBinding") == 0) {
        *nk = 2;
        return binding;
    }
    for (size_t i = 0; i < in->nprops; i++)
        if (wh_strcasecmp(in->props[i].name, "Name") == 0) {
            *nk = 1;
            return name;
        }
    return NULL;
}


static wh_value to_value(emitter *e, const mval *v, const char *ns, unsigned depth);

/* Appends to a path under construction unless that would pass
 * WH_LIMIT_MOF_PATH; from then on nothing more is added (*cut). */
static void path_put(wh_sbuf *b, const char *s, size_t n, bool *cut)
{
    if (*cut || b->n + n > WH_LIMIT_MOF_PATH) *cut = true;
    else wh_sbuf_put(b, s, n);
}

/* Class.Key="v",... of an instance, namespace left out; NULL when out of
 * memory. Key values that are aliases become their instances' paths. */
static char *build_path(emitter *e, mof_inst *in, unsigned depth)
{
    size_t nk;
    const char **keys = key_names(e, in, &nk);
    wh_sbuf b = {0};
    bool cut = false;
    path_put(&b, in->cls, strlen(in->cls), &cut);
    if (!nk) path_put(&b, "=@", 2, &cut);
    for (size_t k = 0; k < nk && !cut; k++) {
        path_put(&b, k ? "," : ".", 1, &cut);
        path_put(&b, keys[k], strlen(keys[k]), &cut);
        path_put(&b, "=", 1, &cut);
        const mval *kv = NULL;
        for (size_t i = 0; i < in->nprops; i++)
            if (wh_strcasecmp(in->props[i].name, keys[k]) == 0) kv = &in->props[i].v;
        wh_value w = kv ? to_value(e, kv, in->ns, depth + 1) : wh_v_null();
        if (w.type == WH_V_STR) {
            path_put(&b, "\"", 1, &cut);
            for (size_t i = 0; i < w.as.str.len && !cut; i++) {
                char c = w.as.str.s[i];
                if (c == '"' || c == '\\') path_put(&b, "\\", 1, &cut);
                path_put(&b, &c, 1, &cut);
            }
            path_put(&b, "\"", 1, &cut);
        } else if (w.type == WH_V_UINT || w.type == WH_V_INT) {
            char n[32];
            int l = w.type == WH_V_UINT ? snprintf(n, sizeof(n), "%llu", (unsigned long long)w.as.u)
                                        : snprintf(n, sizeof(n), "%lld", (long long)w.as.i);
            path_put(&b, n, (size_t)l, &cut);
        } else if (w.type == WH_V_BOOL) {
            path_put(&b, w.as.b ? "TRUE" : "FALSE", w.as.b ? 4 : 5, &cut);
        } else {
            path_put(&b, "NULL", 4, &cut);
        }
    }
    if (cut) wh_sbuf_put(&b, "...", 3);
    char *out = b.oom ? NULL : wh_arena_strndup(e->m->a, wh_sbuf_cstr(&b), b.n);
    wh_sbuf_free(&b);
    return out;
}

// Object path of an instance, as WMI writes references: Class.Key="v".
// Built once per instance and at most WH_LIMIT_MOF_PATH bytes long: keys
// that are aliases of instances whose keys are aliases... would otherwise
// cost 2^depth (a fuzzer found it), and a cycle never ends.
static char *inst_path(emitter *e, mof_inst *in, const char *from_ns, unsigned depth)
{
    if (in->path_busy) return wh_arena_printf(e->a, "$%s", in->alias ? in->alias : "?");
    if (!in->path) {
        in->path_busy = true;
        in->path = build_path(e, in, depth);
        in->path_busy = false;
        if (!in->path) return NULL;
    }
    if (from_ns && in->ns && wh_strcasecmp(from_ns, in->ns) != 0) return wh_arena_printf(e->a, "%s:%s", in->ns, in->path);
    return (char *)in->path;
}

static wh_value str_value(const char *s, size_t len, bool lossy)
{
    wh_value v = {.type = WH_V_STR};
    v.as.str.s = s ? s : "";
    v.as.str.len = s ? len : 0;
    v.as.str.lossy = lossy;
    return v;
}

static mof_inst *resolve(emitter *e, const char *alias)
{
    char *k = mof_lower(e->a, alias);
    return k ? wh_strmap_get(&e->m->aliases, k) : NULL;
}

static wh_value inst_object(emitter *e, const mof_inst *in, unsigned depth);

static wh_value to_value(emitter *e, const mval *v, const char *ns, unsigned depth)
{
    if (depth > WH_LIMIT_MOF_DEPTH) return str_value("...", 3, false); // alias cycles end here
    switch (v->k) {
    case V_NULL: return wh_v_null();
    case V_BOOL: return wh_v_bool(v->as.b);
    case V_INT: return wh_v_int(v->as.i);
    case V_UINT: return wh_v_uint(v->as.u);
    case V_REAL: return wh_v_real(v->as.d);
    case V_STR:
    case V_CHAR:
    case V_IDENT: return str_value(v->as.s.s, v->as.s.len, v->as.s.lossy);
    case V_ALIAS: {
        mof_inst *t = resolve(e, v->as.s.s);
        char *path = t ? inst_path(e, t, ns, depth) : wh_arena_printf(e->a, "$%s", v->as.s.s);
        return str_value(path, path ? strlen(path) : 0, false);
    }
    case V_ARRAY: {
        wh_value *items = v->as.arr.n ? wh_arena_calloc(e->a, v->as.arr.n, sizeof(*items)) : NULL;
        if (v->as.arr.n && !items) return wh_v_null();
        for (size_t i = 0; i < v->as.arr.n; i++) items[i] = to_value(e, &v->as.arr.v[i], ns, depth + 1);
        wh_value a = {.type = WH_V_ARRAY};
        a.as.arr.items = items;
        a.as.arr.n = v->as.arr.n;
        return a;
    }
    case V_INST: return inst_object(e, v->as.inst, depth + 1);
    }
    return wh_v_null();
}

static wh_value props_object(emitter *e, const mof_inst *in, unsigned depth, const char *cls_field)
{
    size_t n = in->nprops + (cls_field ? 1 : 0);
    wh_field *f = wh_arena_calloc(e->a, n ? n : 1, sizeof(*f));
    if (!f) return wh_v_null();
    size_t k = 0;
    if (cls_field) f[k].name = "__CLASS", f[k++].v = wh_v_str(in->cls);
    for (size_t i = 0; i < in->nprops; i++) {
        f[k].name = in->props[i].name;
        f[k++].v = to_value(e, &in->props[i].v, in->ns, depth);
    }
    return wh_v_object(e->a, f, k);
}

static wh_value inst_object(emitter *e, const mof_inst *in, unsigned depth) { return props_object(e, in, depth, "__CLASS"); }

static wh_value quals_object(emitter *e, const mquals *q, const char *ns)
{
    wh_field *f = wh_arena_calloc(e->a, q->n ? q->n : 1, sizeof(*f));
    if (!f) return wh_v_null();
    for (size_t i = 0; i < q->n; i++) {
        f[i].name = q->q[i].name;
        f[i].v = to_value(e, &q->q[i].v, ns, 0);
    }
    return wh_v_object(e->a, f, q->n);
}

static wh_value strarr(emitter *e, char **s, size_t n)
{
    wh_value *items = wh_arena_calloc(e->a, n ? n : 1, sizeof(*items));
    if (!items) return wh_v_null();
    for (size_t i = 0; i < n; i++) items[i] = wh_v_str(s[i]);
    wh_value a = {.type = WH_V_ARRAY};
    a.as.arr.items = items;
    a.as.arr.n = n;
    return a;
}

static void loc(emitter *e, wh_recb *b, size_t pos)
{
    size_t line, col;
    mof_line_col(e->m, pos, &line, &col);
    wh_recb_add(b, "line", wh_v_uint(line));
    wh_recb_add(b, "column", wh_v_uint(col));
}

static wh_value notes(emitter *e, const wh_ptrvec *v, bool with_end)
{
    wh_value *items = wh_arena_calloc(e->a, v->n ? v->n : 1, sizeof(*items));
    if (!items) return wh_v_null();
    for (size_t i = 0; i < v->n; i++) {
        const mnote *n = v->v[i];
        size_t line, col;
        mof_line_col(e->m, n->pos, &line, &col);
        wh_field f[5];
        size_t k = 0;
        f[k].name = "offset", f[k++].v = wh_v_uint(mof_file_off(e->m, n->pos));
        if (with_end) f[k].name = "end_offset", f[k++].v = wh_v_uint(mof_file_off(e->m, n->end));
        f[k].name = "line", f[k++].v = wh_v_uint(line);
        f[k].name = "column", f[k++].v = wh_v_uint(col);
        f[k].name = with_end ? "reason" : "what", f[k++].v = wh_v_str(n->what);
        items[i] = wh_v_object(e->a, f, k);
    }
    wh_value a = {.type = WH_V_ARRAY};
    a.as.arr.items = items;
    a.as.arr.n = v->n;
    return a;
}

static int emit_file(emitter *e, wh_record_fn fn, void *ud)
{
    wh_mof *m = e->m;
    wh_recb b;
    wh_recb_start(&b, e->a, "mof.file", m->name, 0);
    wh_recb_str(&b, "path", m->name);
    wh_recb_str(&b, "encoding", m->info.encoding);
    wh_recb_add(&b, "size", wh_v_uint(m->size));
    wh_recb_str(&b, "sha256", m->sha256);
    static const char *tsn[] = {"mtime", "ctime", "atime"};
    for (int i = 0; i < 3; i++)
        if (m->ts[i]) {
            wh_recb_add(&b, tsn[i], wh_v_time(m->ts[i]));
            wh_recb_ts(&b, m->ts[i], tsn[i]);
        }
    wh_recb_str(&b, "mode", m->strict ? "strict" : "tolerant");
    wh_recb_add(&b, "complete", wh_v_bool(m->info.complete));
    wh_recb_add(&b, "degraded", wh_v_bool(m->skipped_total || m->repairs_total));
    wh_recb_add(&b, "autorecover", wh_v_bool(m->info.autorecover));
    wh_value *pr = wh_arena_calloc(e->a, m->pragmas.n ? m->pragmas.n : 1, sizeof(*pr));
    for (size_t i = 0; pr && i < m->pragmas.n; i++) {
        const mpragma *p = m->pragmas.v[i];
        size_t line, col;
        mof_line_col(m, p->pos, &line, &col);
        wh_field f[4] = {{"name", wh_v_str(p->name)}, {"args", strarr(e, p->args, p->nargs)}, {"line", wh_v_uint(line)},
                         {"offset", wh_v_uint(mof_file_off(m, p->pos))}};
        pr[i] = wh_v_object(e->a, f, 4);
    }
    wh_value pa = {.type = WH_V_ARRAY, .as.arr = {pr, pr ? m->pragmas.n : 0}};
    wh_recb_add(&b, "pragmas", pa);
    wh_recb_add(&b, "namespaces", strarr(e, (char **)m->nss.v, m->nss.n));
    if (m->includes.n) {
        wh_value *inc = wh_arena_calloc(e->a, m->includes.n, sizeof(*inc));
        for (size_t i = 0; inc && i < m->includes.n; i++) {
            const minclude *c = m->includes.v[i];
            wh_field f[2] = {{"name", wh_v_str(c->name)},
                             {"found", c->found < 0 ? wh_v_null() : wh_v_bool(c->found == 1)}};
            inc[i] = wh_v_object(e->a, f, 2);
        }
        wh_value ia = {.type = WH_V_ARRAY, .as.arr = {inc, inc ? m->includes.n : 0}};
        wh_recb_add(&b, "includes", ia);
    }
    wh_recb_add(&b, "instances", wh_v_uint(m->info.instances));
    wh_recb_add(&b, "classes", wh_v_uint(m->info.classes));
    wh_recb_add(&b, "qualifier_declarations", wh_v_uint(m->qualifier_decls));
    wh_recb_add(&b, "persistence_instances", wh_v_uint(m->info.persistence));
    if (m->deletes_persistence) wh_recb_add(&b, "deletes_persistence", wh_v_bool(true));
    if (m->remote_target) wh_recb_add(&b, "remote_target", wh_v_bool(true));
    if (m->has_error) {
        size_t line, col;
        mof_line_col(m, m->err_pos, &line, &col);
        wh_field f[4] = {{"offset", wh_v_uint(mof_file_off(m, m->err_pos))}, {"line", wh_v_uint(line)},
                         {"column", wh_v_uint(col)}, {"message", wh_v_str(m->err_msg)}};
        wh_recb_add(&b, "error", wh_v_object(e->a, f, 4));
    }
    wh_recb_add(&b, "skipped_total", wh_v_uint(m->skipped_total));
    wh_recb_add(&b, "skipped", notes(e, &m->skipped, true));
    wh_recb_add(&b, "repairs_total", wh_v_uint(m->repairs_total));
    wh_recb_add(&b, "repairs", notes(e, &m->repairs, false));
    b.rec.summary = wh_arena_printf(e->a, "%s: %s, %zu instances (%zu persistence), %zu classes%s%s", m->name,
                                    m->info.encoding, m->info.instances, m->info.persistence, m->info.classes,
                                    m->info.autorecover ? ", #pragma autorecover" : "",
                                    m->has_error ? ", parse error" : (m->skipped_total || m->repairs_total) ? ", degraded" : "");
    const wh_record *r = wh_recb_done(&b);
    return r ? fn(ud, r) : 0;
}

static int emit_inst(emitter *e, const mof_inst *in, wh_record_fn fn, void *ud)
{
    wh_mof *m = e->m;
    wh_recb b;
    wh_recb_start(&b, e->a, "mof.instance", m->name, mof_file_off(m, in->pos));
    wh_recb_str(&b, "class", in->cls);
    wh_recb_str(&b, "namespace", in->ns);
    wh_recb_str(&b, "namespace_raw", in->ns_raw);
    if (in->alias) wh_recb_strf(&b, "alias", "$%s", in->alias);
    loc(e, &b, in->pos);
    const char *r = role(m, in->cls);
    wh_recb_add(&b, "persistence", wh_v_bool(r != NULL));
    if (r) wh_recb_str(&b, "persistence_role", r);
    wh_recb_add(&b, "persistence_capable_namespace", wh_v_bool(capable_ns(in->ns)));
    wh_recb_add(&b, "autorecover", wh_v_bool(m->info.autorecover));
    wh_recb_add(&b, "degraded", wh_v_bool(in->degraded));
    if (in->quals.n) wh_recb_add(&b, "qualifiers", quals_object(e, &in->quals, in->ns));
    wh_recb_add(&b, "properties", props_object(e, in, 0, NULL));
    // Which properties were aliases, and whether each resolved.
    size_t nref = 0;
    for (size_t i = 0; i < in->nprops; i++) nref += in->props[i].v.k == V_ALIAS;
    if (nref) {
        wh_value *items = wh_arena_calloc(e->a, nref, sizeof(*items));
        size_t k = 0;
        for (size_t i = 0; items && i < in->nprops; i++) {
            if (in->props[i].v.k != V_ALIAS) continue;
            mof_inst *t = resolve(e, in->props[i].v.as.s.s);
            if (!t)
                mof_diag(m, WH_SEV_WARN, WH_E_NOTFOUND, in->props[i].pos, "alias $%s is not defined in this file",
                         in->props[i].v.as.s.s);
            wh_field f[4] = {{"property", wh_v_str(in->props[i].name)},
                             {"alias", wh_v_str(wh_arena_printf(e->a, "$%s", in->props[i].v.as.s.s))},
                             {"resolved", wh_v_bool(t != NULL)},
                             {"target_class", t ? wh_v_str(t->cls) : wh_v_null()}};
            items[k++] = wh_v_object(e->a, f, 4);
        }
        wh_value a = {.type = WH_V_ARRAY, .as.arr = {items, items ? k : 0}};
        wh_recb_add(&b, "references", a);
    }
    const char *nm = NULL;
    for (size_t i = 0; i < in->nprops; i++)
        if (wh_strcasecmp(in->props[i].name, "Name") == 0 && in->props[i].v.k == V_STR) nm = in->props[i].v.as.s.s;
    b.rec.summary = wh_arena_printf(e->a, "%s%s%s%s in %s%s", in->cls, nm ? " Name=\"" : "", nm ? nm : "", nm ? "\"" : "",
                                    in->ns, r ? " (persistence)" : "");
    const wh_record *rec = wh_recb_done(&b);
    return rec ? fn(ud, rec) : 0;
}

static int emit_class(emitter *e, const mof_class *c, wh_record_fn fn, void *ud)
{
    wh_mof *m = e->m;
    wh_recb b;
    wh_recb_start(&b, e->a, "mof.class", m->name, mof_file_off(m, c->pos));
    wh_recb_str(&b, "class", c->name);
    wh_recb_str(&b, "superclass", c->super);
    wh_recb_str(&b, "namespace", c->ns);
    wh_recb_str(&b, "namespace_raw", c->ns_raw);
    if (c->alias) wh_recb_strf(&b, "alias", "$%s", c->alias);
    loc(e, &b, c->pos);
    bool cons = c->super && mof_class_is_consumer(m, c->super, 0);
    wh_recb_add(&b, "derives_from_event_consumer", wh_v_bool(cons));
    wh_recb_add(&b, "degraded", wh_v_bool(c->degraded));
    wh_recb_add(&b, "qualifiers", quals_object(e, &c->quals, c->ns));
    size_t np = 0, nmeth = 0;
    for (size_t i = 0; i < c->nfeats; i++) c->feats[i].is_method ? nmeth++ : np++;
    wh_value *props = wh_arena_calloc(e->a, np ? np : 1, sizeof(*props));
    char **meths = wh_arena_calloc(e->a, nmeth ? nmeth : 1, sizeof(*meths));
    size_t kp = 0, km = 0;
    for (size_t i = 0; props && meths && i < c->nfeats; i++) {
        const mfeat *f = &c->feats[i];
        if (f->is_method) {
            meths[km++] = (char *)f->name;
            continue;
        }
        bool key = false;
        for (size_t q = 0; q < f->quals.n; q++) key |= wh_strcasecmp(f->quals.q[q].name, "key") == 0;
        wh_field fl[7];
        size_t k = 0;
        fl[k].name = "name", fl[k++].v = wh_v_str(f->name);
        fl[k].name = "type", fl[k++].v = wh_v_str(f->is_ref ? wh_arena_printf(e->a, "%s ref", f->type) : f->type);
        fl[k].name = "array", fl[k++].v = wh_v_bool(f->is_array);
        fl[k].name = "key", fl[k++].v = wh_v_bool(key);
        if (f->has_default) fl[k].name = "default", fl[k++].v = to_value(e, &f->def, c->ns, 0);
        if (f->quals.n) fl[k].name = "qualifiers", fl[k++].v = quals_object(e, &f->quals, c->ns);
        props[kp++] = wh_v_object(e->a, fl, k);
    }
    wh_value pa = {.type = WH_V_ARRAY, .as.arr = {props, props ? kp : 0}};
    wh_recb_add(&b, "properties", pa);
    wh_recb_add(&b, "methods", strarr(e, meths, meths ? km : 0));
    b.rec.summary = wh_arena_printf(e->a, "class %s%s%s in %s", c->name, c->super ? " : " : "", c->super ? c->super : "", c->ns);
    const wh_record *rec = wh_recb_done(&b);
    return rec ? fn(ud, rec) : 0;
}

wh_status wh_mof_emit(wh_mof *m, wh_record_fn fn, void *ud)
{
    if (!m || !fn) return WH_E_ARG;
    emitter e = {m, m->ra};
    wh_arena_reset(m->ra);
    int stop = emit_file(&e, fn, ud);
    for (size_t i = 0; !stop && i < m->objs.n; i++) {
        wh_arena_reset(m->ra);
        int kind = *(int *)m->objs.v[i];
        stop = kind == OBJ_CLASS ? emit_class(&e, m->objs.v[i], fn, ud) : emit_inst(&e, m->objs.v[i], fn, ud);
    }
    wh_arena_reset(m->ra);
    if (wh_arena_hit_cap(m->ra)) return WH_E_LIMIT;
    return WH_OK;
}
