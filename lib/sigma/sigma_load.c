/* Loading Sigma rules (libyaml's document API) and the logsource mapping.
 * A rule is taken whole or refused with the reason: an unknown modifier,
 * a placeholder (|expand), a correlation or multi-document rule, a regex
 * PCRE2 will not compile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <ws2tcpip.h> /* inet_pton */
#else
#include <arpa/inet.h>
#endif

#include <yaml.h>

#include "sigma/sigma_int.h"
#include "core/port.h"
#include "core/sort.h"

extern const unsigned char wh_sigma_map_yml[];
extern const size_t wh_sigma_map_yml_len;

/* ---- YAML helpers ---- */

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static const char *str(wh_arena *a, yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? wh_arena_strndup(a, (const char *)n->data.scalar.value, n->data.scalar.length)
                                            : NULL;
}

static bool is_null(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!strcmp((const char *)n->data.scalar.value, "null") || !strcmp((const char *)n->data.scalar.value, "~") ||
            n->data.scalar.length == 0);
}

/* ---- values ---- */

typedef struct mods {
    bool contains, startswith, endswith, all, re, re_i, re_m, re_s, cidr, exists, cased, fieldref;
    bool b64, b64off, wide, utf16be, utf16, windash;
    sg_op cmp; /* SG_GT... or SG_GLOB */
} mods;

static const char *parse_mods(const char *spec, mods *m)
{
    memset(m, 0, sizeof(*m));
    m->cmp = SG_GLOB;
    for (const char *p = spec; p && *p;) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
#define IS(w) (n == strlen(w) && !strncmp(p, w, n))
        if (IS("contains")) m->contains = true;
        else if (IS("startswith")) m->startswith = true;
        else if (IS("endswith")) m->endswith = true;
        else if (IS("all")) m->all = true;
        else if (IS("re")) m->re = true;
        else if (IS("i")) m->re_i = true;
        else if (IS("m")) m->re_m = true;
        else if (IS("s")) m->re_s = true;
        else if (IS("cidr")) m->cidr = true;
        else if (IS("exists")) m->exists = true;
        else if (IS("cased")) m->cased = true;
        else if (IS("fieldref")) m->fieldref = true;
        else if (IS("base64")) m->b64 = true;
        else if (IS("base64offset")) m->b64off = true;
        else if (IS("wide") || IS("utf16le")) m->wide = true;
        else if (IS("utf16be")) m->utf16be = true;
        else if (IS("utf16")) m->utf16 = true;
        else if (IS("windash")) m->windash = true;
        else if (IS("gt")) m->cmp = SG_GT;
        else if (IS("gte")) m->cmp = SG_GTE;
        else if (IS("lt")) m->cmp = SG_LT;
        else if (IS("lte")) m->cmp = SG_LTE;
        else if (IS("expand")) return "the |expand modifier (placeholders) needs values this rule set does not give";
        else return "a value modifier this loader does not know";
#undef IS
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

static char *b64(wh_arena *a, const unsigned char *in, size_t n)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = wh_arena_alloc(a, (n + 2) / 3 * 4 + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        o[k++] = T[v >> 18 & 63];
        o[k++] = T[v >> 12 & 63];
        o[k++] = i + 1 < n ? T[v >> 6 & 63] : '=';
        o[k++] = i + 2 < n ? T[v & 63] : '=';
    }
    o[k] = 0;
    return o;
}

/* Sigma's escapes into a pattern: '*' and '?' wildcards unless escaped. */
static char *pattern(wh_arena *a, const char *v, bool pre, bool post, bool wild)
{
    size_t n = strlen(v);
    char *o = wh_arena_alloc(a, n + 3);
    if (!o) return NULL;
    size_t k = 0;
    if (pre) o[k++] = SG_WILD;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (wild && c == '\\' && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) o[k++] = v[++i];
        else if (wild && c == '*') o[k++] = SG_WILD;
        else if (wild && c == '?') o[k++] = SG_ONE;
        else o[k++] = c;
    }
    if (post) o[k++] = SG_WILD;
    o[k] = 0;
    return o;
}

typedef struct vlist {
    sg_val *v;
    size_t n, cap;
} vlist;

static bool vpush(wh_arena *a, vlist *l, sg_val v)
{
    sg_val *g = wh_arena_grow(a, l->v, l->n, &l->cap, sizeof(sg_val), 8);
    if (!g) return false;
    l->v = g;
    l->v[l->n++] = v;
    return true;
}

/* One value under its modifiers, as one or more patterns. */
static const char *add_value(wh_sigma *s, const mods *m, const char *raw, vlist *out)
{
    wh_arena *a = s->a;
    if (m->re) {
        uint32_t fl = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (m->re_i ? PCRE2_CASELESS : 0) |
                      (m->re_m ? PCRE2_MULTILINE : 0) | (m->re_s ? PCRE2_DOTALL : 0);
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)raw, PCRE2_ZERO_TERMINATED, fl, &err, &off, NULL);
        if (!re) return "a regex PCRE2 does not compile";
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        pcre2_code **g = wh_arena_grow(a, s->codes, s->ncodes, &s->capcodes, sizeof(*g), 16);
        if (!g) {
            pcre2_code_free(re);
            return "out of memory";
        }
        s->codes = g;
        s->codes[s->ncodes++] = re; // freed with the set, loaded or not
        sg_val v = {.re = re};
        return vpush(a, out, v) ? NULL : "out of memory";
    }
    if (m->cidr) {
        char net[64];
        snprintf(net, sizeof(net), "%s", raw);
        char *slash = strchr(net, '/');
        int bits = slash ? atoi(slash + 1) : -1;
        if (slash) *slash = 0;
        sg_val v = {.af = strchr(net, ':') ? AF_INET6 : AF_INET};
        v.bits = bits < 0 ? (v.af == AF_INET ? 32 : 128) : bits;
        if (inet_pton(v.af, net, v.net) != 1 || v.bits > (v.af == AF_INET ? 32 : 128)) return "a CIDR that cannot be read";
        return vpush(a, out, v) ? NULL : "out of memory";
    }
    if (m->exists) {
        sg_val v = {.yes = !strcasecmp(raw, "true") || !strcasecmp(raw, "yes")};
        return vpush(a, out, v) ? NULL : "out of memory";
    }
    if (m->cmp != SG_GLOB) {
        char *end;
        sg_val v = {.num = strtod(raw, &end)};
        if (end == raw) return "a number modifier on a value that is not a number";
        return vpush(a, out, v) ? NULL : "out of memory";
    }
    if (m->fieldref) {
        sg_val v = {.pat = wh_arena_strdup(a, raw)};
        return v.pat && vpush(a, out, v) ? NULL : "out of memory";
    }
    // The literal strings the value stands for (windash variants, encodings).
    const char *forms[8];
    size_t nf = 0;
    forms[nf++] = raw;
    if (m->windash) { // each '-' that starts a word, as '/', en dash, em dash or horizontal bar
        static const char *const dash[] = {"/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
        size_t rl = strlen(raw);
        for (size_t i = 0; i < 4; i++) {
            char *o = wh_arena_alloc(a, rl * 3 + 1);
            if (!o) return "out of memory";
            size_t k = 0;
            for (size_t j = 0; j < rl; j++) {
                bool word = raw[j] == '-' && (j == 0 || raw[j - 1] == ' ' || raw[j - 1] == '\t');
                if (word) {
                    memcpy(o + k, dash[i], strlen(dash[i]));
                    k += strlen(dash[i]);
                } else {
                    o[k++] = raw[j];
                }
            }
            o[k] = 0;
            forms[nf++] = o;
        }
    }
    bool wild = !(m->b64 || m->b64off);
    for (size_t f = 0; f < nf; f++) {
        if (!forms[f]) return "out of memory";
        const unsigned char *bytes = (const unsigned char *)forms[f];
        size_t blen = strlen(forms[f]);
        unsigned char *u16 = NULL;
        if (m->wide || m->utf16be || m->utf16) { // ASCII/UTF-8 as UTF-16 code units (BMP)
            u16 = wh_arena_alloc(a, blen * 2 + 2);
            if (!u16) return "out of memory";
            size_t k = 0;
            if (m->utf16) u16[k++] = 0xFF, u16[k++] = 0xFE;
            for (size_t i = 0; i < blen; i++) {
                if (m->utf16be) u16[k++] = 0, u16[k++] = bytes[i];
                else u16[k++] = bytes[i], u16[k++] = 0;
            }
            bytes = u16;
            blen = k;
        }
        if (m->b64off) { // the three alignments, trimmed to the characters that do not depend on neighbours
            for (int off = 0; off < 3; off++) {
                unsigned char *buf = wh_arena_alloc(a, blen + 3);
                if (!buf) return "out of memory";
                memset(buf, 0, (size_t)off);
                memcpy(buf + off, bytes, blen);
                char *e = b64(a, buf, blen + (size_t)off);
                if (!e) return "out of memory";
                static const int start[] = {0, 2, 3}, endcut[] = {0, 3, 2};
                size_t el = strlen(e), cut = (size_t)endcut[(blen + (size_t)off) % 3];
                size_t st = (size_t)start[off];
                if (el < st + cut + 1) continue;
                e[el - cut] = 0;
                sg_val v = {.pat = pattern(a, e + st, m->contains || m->endswith, m->contains || m->startswith, false)};
                if (!v.pat || !vpush(a, out, v)) return "out of memory";
            }
            continue;
        }
        const char *lit = m->b64 ? b64(a, bytes, blen) : (const char *)bytes;
        if (!lit) return "out of memory";
        if (u16 && !m->b64) return "|wide without base64: UTF-16 bytes are not a text pattern";
        sg_val v = {.pat = pattern(a, lit, m->contains || m->endswith, m->contains || m->startswith, wild)};
        if (!v.pat || !vpush(a, out, v)) return "out of memory";
    }
    return NULL;
}

/* ---- one rule ---- */

static const char *load_item(wh_sigma *s, yaml_document_t *d, const char *key, yaml_node_t *val, sg_item *it)
{
    char field[256];
    const char *bar = key ? strchr(key, '|') : NULL;
    size_t fl = key ? (bar ? (size_t)(bar - key) : strlen(key)) : 0;
    if (fl >= sizeof(field)) return "a field name longer than 255 characters";
    mods m;
    const char *why = parse_mods(bar ? bar + 1 : NULL, &m);
    if (why) return why;
    if (key) {
        memcpy(field, key, fl);
        field[fl] = 0;
        it->field = wh_arena_strdup(s->a, field);
    }
    it->all = m.all;
    it->cased = m.cased;
    it->op = m.re ? SG_RE : m.cidr ? SG_CIDR : m.exists ? SG_EXISTS : m.fieldref ? SG_FIELDREF : m.cmp;
    vlist l = {0};
    yaml_node_t *one = val;
    size_t n = 1;
    if (val && val->type == YAML_SEQUENCE_NODE) n = (size_t)(val->data.sequence.items.top - val->data.sequence.items.start);
    if (n > SG_VALUES_MAX) return "more than 4096 values for one field";
    for (size_t i = 0; i < n; i++) {
        if (val && val->type == YAML_SEQUENCE_NODE) one = yaml_document_get_node(d, val->data.sequence.items.start[i]);
        if (!one || one->type != YAML_SCALAR_NODE) return "a value that is not a scalar";
        if (is_null(one)) {
            if (n > 1 || it->op != SG_GLOB) return "null among other values";
            it->op = SG_NULL;
            sg_val v = {0};
            if (!vpush(s->a, &l, v)) return "out of memory";
            continue;
        }
        const char *raw = (const char *)one->data.scalar.value;
        if ((why = add_value(s, &m, raw, &l))) return why;
    }
    it->v = l.v;
    it->nv = l.n;
    return NULL;
}

static const char *load_map(wh_sigma *s, yaml_document_t *d, yaml_node_t *map, sg_map *out)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    out->items = wh_arena_calloc(s->a, n ? n : 1, sizeof(sg_item));
    if (!out->items) return "out of memory";
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
        if (!k || k->type != YAML_SCALAR_NODE) return "a detection key that is not a scalar";
        const char *why = load_item(s, d, (const char *)k->data.scalar.value, v, &out->items[out->n]);
        if (why) return why;
        out->n++;
    }
    return NULL;
}

static const char *load_ident(wh_sigma *s, yaml_document_t *d, const char *name, yaml_node_t *v, sg_ident *id)
{
    id->name = wh_arena_strdup(s->a, name);
    if (v && v->type == YAML_MAPPING_NODE) {
        id->maps = wh_arena_calloc(s->a, 1, sizeof(sg_map));
        if (!id->maps) return "out of memory";
        id->n = 1;
        return load_map(s, d, v, &id->maps[0]);
    }
    if (!v || v->type != YAML_SEQUENCE_NODE) return "a detection identifier that is neither a map nor a list";
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > SG_VALUES_MAX) return "a detection list longer than 4096";
    yaml_node_t *first = n ? yaml_document_get_node(d, v->data.sequence.items.start[0]) : NULL;
    if (first && first->type == YAML_SCALAR_NODE) { // keywords: any of them anywhere in the event
        id->maps = wh_arena_calloc(s->a, 1, sizeof(sg_map));
        if (!id->maps || !(id->maps[0].items = wh_arena_calloc(s->a, 1, sizeof(sg_item)))) return "out of memory";
        id->n = 1;
        id->maps[0].n = 1;
        mods m;
        (void)parse_mods("contains", &m);
        sg_item *it = &id->maps[0].items[0];
        vlist l = {0};
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *k = yaml_document_get_node(d, v->data.sequence.items.start[i]);
            if (!k || k->type != YAML_SCALAR_NODE) return "a keyword list that mixes scalars and maps";
            const char *why = add_value(s, &m, (const char *)k->data.scalar.value, &l);
            if (why) return why;
        }
        it->v = l.v, it->nv = l.n, it->op = SG_GLOB;
        return NULL;
    }
    id->maps = wh_arena_calloc(s->a, n ? n : 1, sizeof(sg_map));
    if (!id->maps) return "out of memory";
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *mnode = yaml_document_get_node(d, v->data.sequence.items.start[i]);
        if (!mnode || mnode->type != YAML_MAPPING_NODE) return "a detection list that mixes maps and scalars";
        const char *why = load_map(s, d, mnode, &id->maps[id->n]);
        if (why) return why;
        id->n++;
    }
    return NULL;
}

/* The logsource mapping entry for (category, product, service). */
static const sg_logsrc *mapping(const wh_sigma *s, const char *cat, const char *prod, const char *svc)
{
    if (prod && strcasecmp(prod, "windows") != 0) return NULL; // only Windows evidence is read
    for (size_t i = 0; i < s->nls; i++) {
        const sg_logsrc *l = &s->ls[i];
        if (l->category && (!cat || strcasecmp(l->category, cat) != 0)) continue;
        if (l->service && (!svc || strcasecmp(l->service, svc) != 0)) continue;
        return l;
    }
    return NULL;
}

static const char *load_rule(wh_sigma *s, yaml_document_t *d, const char *path, sg_rule *r)
{
    yaml_node_t *root = yaml_document_get_root_node(d);
    if (!root || root->type != YAML_MAPPING_NODE) return "not a YAML map";
    if (get(d, root, "correlation")) return "a correlation rule: not supported yet";
    yaml_node_t *det = get(d, root, "detection");
    if (!det || det->type != YAML_MAPPING_NODE) return "no detection map";
    wh_arena *a = s->a;
    r->info.path = wh_arena_strdup(a, path);
    r->info.id = str(a, get(d, root, "id"));
    r->info.title = str(a, get(d, root, "title"));
    r->info.author = str(a, get(d, root, "author"));
    r->info.level = str(a, get(d, root, "level"));
    r->info.status = str(a, get(d, root, "status"));
    yaml_node_t *ls = get(d, root, "logsource");
    r->info.category = str(a, get(d, ls, "category"));
    r->info.product = str(a, get(d, ls, "product"));
    r->info.service = str(a, get(d, ls, "service"));
    if (!r->info.title) return "no title";
    yaml_node_t *tags = get(d, root, "tags");
    if (tags && tags->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(tags->data.sequence.items.top - tags->data.sequence.items.start);
        const char **att = wh_arena_calloc(a, n ? n : 1, sizeof(char *));
        for (size_t i = 0; att && i < n; i++) {
            const char *t = str(a, yaml_document_get_node(d, tags->data.sequence.items.start[i]));
            if (t && !strncasecmp(t, "attack.t", 8)) { // attack.t1047 -> T1047
                char *id = wh_arena_strdup(a, t + 7);
                for (char *p = id; p && *p; p++)
                    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
                att[r->info.nattack++] = id;
            }
        }
        r->info.attack = att;
    }
    size_t n = (size_t)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
    if (n > SG_IDENTS_MAX) return "more than 256 detection identifiers";
    r->ids = wh_arena_calloc(a, n ? n : 1, sizeof(sg_ident));
    if (!r->ids) return "out of memory";
    yaml_node_t *cond = NULL;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &det->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
        if (!k || k->type != YAML_SCALAR_NODE) return "a detection key that is not a scalar";
        const char *name = (const char *)k->data.scalar.value;
        if (!strcmp(name, "condition")) {
            cond = v;
            continue;
        }
        if (!strcmp(name, "timeframe")) return "a timeframe (an aggregation): not supported yet";
        const char *why = load_ident(s, d, name, v, &r->ids[r->nids]);
        if (why) return why;
        r->nids++;
    }
    if (!cond) return "no condition";
    size_t nc = cond->type == YAML_SEQUENCE_NODE ? (size_t)(cond->data.sequence.items.top - cond->data.sequence.items.start) : 1;
    r->conds = wh_arena_calloc(a, nc ? nc : 1, sizeof(sg_cond *));
    if (!r->conds) return "out of memory";
    for (size_t i = 0; i < nc; i++) {
        yaml_node_t *c = cond->type == YAML_SEQUENCE_NODE ? yaml_document_get_node(d, cond->data.sequence.items.start[i]) : cond;
        if (!c || c->type != YAML_SCALAR_NODE) return "a condition that is not text";
        const char *why = NULL;
        sg_cond *x = sg_cond_parse(a, r, (const char *)c->data.scalar.value, &why);
        if (!x) return why;
        r->conds[r->nconds++] = x;
    }
    r->ls = mapping(s, r->info.category, r->info.product, r->info.service);
    r->info.mapped = r->ls != NULL;
    return NULL;
}

/* ---- files ---- */

static void reject(wh_sigma *s, wh_diag_sink *diags, const char *path, const char *why, unsigned long line)
{
    struct sg_rej *g = wh_arena_grow(s->a, s->rej, s->nrej, &s->caprej, sizeof(*g), 16);
    if (g) {
        s->rej = g;
        s->rej[s->nrej].path = wh_arena_strdup(s->a, path);
        s->rej[s->nrej++].why = line ? wh_arena_printf(s->a, "line %lu: %s", line, why) : wh_arena_strdup(s->a, why);
    }
    if (line)
        wh_diagf(diags, WH_SEV_WARN, WH_E_CORRUPT, path, WH_NO_OFFSET, "Sigma rule not loaded, line %lu: %s", line, why);
    else
        wh_diagf(diags, WH_SEV_WARN, WH_E_CORRUPT, path, WH_NO_OFFSET, "Sigma rule not loaded: %s", why);
}

static bool load_doc(const unsigned char *text, size_t n, yaml_document_t *doc, unsigned long *line, bool *more)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return false;
    yaml_parser_set_input_string(&p, text, n);
    bool ok = yaml_parser_load(&p, doc) == 1;
    if (!ok) *line = (unsigned long)p.problem_mark.line + 1;
    *more = false;
    if (ok) { // a second document: a Sigma collection
        yaml_document_t d2;
        if (yaml_parser_load(&p, &d2) == 1) {
            *more = yaml_document_get_root_node(&d2) != NULL;
            yaml_document_delete(&d2);
        }
    }
    yaml_parser_delete(&p);
    return ok;
}

static void load_text(wh_sigma *s, wh_diag_sink *diags, const char *path, const unsigned char *buf, size_t n);

static void load_file(wh_sigma *s, wh_diag_sink *diags, const char *path)
{
    FILE *f = wh_fopen(path, "rb");
    if (!f) {
        reject(s, diags, path, "cannot be read", 0);
        return;
    }
    // One byte past the bound says the file is larger (load_text refuses it).
    unsigned char *buf = malloc((size_t)SG_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, (size_t)SG_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf) return;
    load_text(s, diags, path, buf, n);
    free(buf);
}

static void load_text(wh_sigma *s, wh_diag_sink *diags, const char *path, const unsigned char *buf, size_t n)
{
    if (n > SG_FILE_MAX) {
        reject(s, diags, path, "larger than 1 MiB", 0);
        return;
    }
    yaml_document_t doc;
    unsigned long line = 0;
    bool more = false;
    if (!load_doc(buf, n, &doc, &line, &more)) {
        reject(s, diags, path, "not valid YAML", line);
        return;
    }
    if (more) {
        yaml_document_delete(&doc);
        reject(s, diags, path, "several YAML documents (a Sigma rule collection): not supported yet", 0);
        return;
    }
    sg_rule *g = wh_arena_grow(s->a, s->rules, s->n, &s->cap, sizeof(sg_rule), 64);
    if (!g) {
        yaml_document_delete(&doc);
        return;
    }
    s->rules = g;
    sg_rule *r = &s->rules[s->n];
    memset(r, 0, sizeof(*r));
    const char *why = load_rule(s, &doc, path, r);
    yaml_document_delete(&doc);
    if (why) reject(s, diags, path, why, 0);
    else s->n++;
}

static bool yml(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static int by_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void load_tree(wh_sigma *s, wh_diag_sink *diags, const char *path, int depth)
{
    wh_fstat st;
    if (wh_stat(path, true, &st) != 0) {
        reject(s, diags, path, "no such file or folder", 0);
        return;
    }
    if (st.type != WH_FT_DIR) {
        load_file(s, diags, path);
        return;
    }
    if (depth > 32) {
        reject(s, diags, path, "folders nested deeper than 32 levels: not read", 0);
        return;
    }
    wh_dir *d = wh_dir_open(path);
    if (!d) {
        reject(s, diags, path, "folder cannot be read", 0);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (const char *e; (e = wh_dir_next(d));) { // sorted below: the same order on every machine
        if (e[0] == '.') continue;
        if (n == cap) {
            char **g = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(char *));
            if (!g) break;
            names = g;
        }
        names[n++] = strdup(e);
    }
    wh_dir_close(d);
    if (n) wh_sort(names, n, sizeof(char *), by_name);
    for (size_t i = 0; i < n; i++) {
        char *p = names[i] ? malloc(strlen(path) + strlen(names[i]) + 2) : NULL;
        if (p) {
            sprintf(p, "%s/%s", path, names[i]);
            wh_fstat cs, ls;
            // A link to a folder is not followed (a loop of them would multiply the walk); to a file it is.
            bool link_dir = wh_stat(p, false, &ls) == 0 && ls.type == WH_FT_LINK && wh_stat(p, true, &cs) == 0 &&
                            cs.type == WH_FT_DIR;
            if (link_dir)
                wh_diagf(diags, WH_SEV_INFO, WH_OK, p, WH_NO_OFFSET, "a link to a folder: not followed for Sigma rules");
            else if (wh_stat(p, true, &cs) == 0 && (cs.type == WH_FT_DIR || yml(names[i])))
                load_tree(s, diags, p, depth + 1);
        }
        free(p);
        free(names[i]);
    }
    free(names);
}

/* ---- the mapping ---- */

static bool load_mapping(wh_sigma *s, const unsigned char *text, size_t n, const char *name, wh_diag_sink *diags)
{
    yaml_document_t doc;
    unsigned long line = 0;
    bool more = false;
    if (!load_doc(text, n, &doc, &line, &more)) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_CORRUPT, name, WH_NO_OFFSET, "the Sigma mapping is not valid YAML (line %lu)", line);
        return false;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc), *list = get(&doc, root, "logsources");
    bool ok = list && list->type == YAML_SEQUENCE_NODE;
    size_t nl = ok ? (size_t)(list->data.sequence.items.top - list->data.sequence.items.start) : 0;
    s->ls = wh_arena_calloc(s->a, nl ? nl : 1, sizeof(sg_logsrc));
    for (size_t i = 0; ok && s->ls && i < nl; i++) {
        yaml_node_t *e = yaml_document_get_node(&doc, list->data.sequence.items.start[i]);
        yaml_node_t *m = get(&doc, e, "match"), *srcs = get(&doc, e, "sources");
        if (!m || !srcs || srcs->type != YAML_SEQUENCE_NODE) {
            ok = false;
            break;
        }
        sg_logsrc *l = &s->ls[s->nls++];
        l->category = str(s->a, get(&doc, m, "category"));
        l->product = str(s->a, get(&doc, m, "product"));
        l->service = str(s->a, get(&doc, m, "service"));
        size_t ns = (size_t)(srcs->data.sequence.items.top - srcs->data.sequence.items.start);
        l->srcs = wh_arena_calloc(s->a, ns ? ns : 1, sizeof(sg_src));
        for (size_t k = 0; l->srcs && k < ns; k++) {
            yaml_node_t *sn = yaml_document_get_node(&doc, srcs->data.sequence.items.start[k]);
            sg_src *x = &l->srcs[l->n++];
            x->channel = str(s->a, get(&doc, sn, "channel"));
            x->provider = str(s->a, get(&doc, sn, "provider"));
            yaml_node_t *ids = get(&doc, sn, "event_ids"), *fm = get(&doc, sn, "fields");
            if (ids && ids->type == YAML_SEQUENCE_NODE) {
                size_t ni = (size_t)(ids->data.sequence.items.top - ids->data.sequence.items.start);
                x->eids = wh_arena_calloc(s->a, ni ? ni : 1, sizeof(uint32_t));
                for (size_t j = 0; x->eids && j < ni; j++) {
                    const char *v = str(s->a, yaml_document_get_node(&doc, ids->data.sequence.items.start[j]));
                    if (v) x->eids[x->neids++] = (uint32_t)strtoul(v, NULL, 10);
                }
            }
            if (fm && fm->type == YAML_MAPPING_NODE) {
                size_t nf = (size_t)(fm->data.mapping.pairs.top - fm->data.mapping.pairs.start);
                x->from = wh_arena_calloc(s->a, nf ? nf : 1, sizeof(char *));
                x->to = wh_arena_calloc(s->a, nf ? nf : 1, sizeof(char *));
                for (size_t j = 0; x->from && x->to && j < nf; j++) {
                    yaml_node_pair_t *p = &fm->data.mapping.pairs.start[j];
                    x->from[x->nf] = str(s->a, yaml_document_get_node(&doc, p->key));
                    x->to[x->nf] = str(s->a, yaml_document_get_node(&doc, p->value));
                    if (x->from[x->nf] && x->to[x->nf]) x->nf++;
                }
            }
        }
    }
    yaml_document_delete(&doc);
    if (!ok || !s->ls)
        wh_diagf(diags, WH_SEV_ERROR, WH_E_CORRUPT, name, WH_NO_OFFSET,
                 "the Sigma mapping has no usable 'logsources' list of {match, sources}");
    return ok && s->ls;
}

wh_status wh_sigma_load(const char *const *paths, size_t n, const char *map_path, wh_diag_sink *diags, wh_sigma **out)
{
    *out = NULL;
    wh_sigma *s = calloc(1, sizeof(*s));
    if (!s || !(s->a = wh_arena_new(0))) {
        free(s);
        return WH_E_NOMEM;
    }
    s->mctx = pcre2_match_context_create(NULL);
    if (s->mctx) {
        pcre2_set_match_limit(s->mctx, SG_RE_MATCH_LIMIT);
        pcre2_set_depth_limit(s->mctx, 1000);
    }
    bool ok;
    if (map_path) {
        FILE *f = wh_fopen(map_path, "rb");
        unsigned char *buf = f ? malloc(SG_FILE_MAX) : NULL;
        size_t len = buf ? fread(buf, 1, SG_FILE_MAX, f) : 0;
        if (f) fclose(f);
        ok = buf && load_mapping(s, buf, len, map_path, diags);
        if (!buf) wh_diagf(diags, WH_SEV_ERROR, WH_E_IO, map_path, WH_NO_OFFSET, "the Sigma mapping cannot be read");
        free(buf);
    } else {
        ok = load_mapping(s, wh_sigma_map_yml, wh_sigma_map_yml_len, "rules/sigma-map.yml", diags);
    }
    if (!ok) {
        wh_sigma_free(s);
        return WH_E_CORRUPT;
    }
    for (size_t i = 0; i < n; i++) load_tree(s, diags, paths[i], 0);
    sg_index(s);
    *out = s;
    return WH_OK;
}

void wh_sigma_free(wh_sigma *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->ncodes; i++) pcre2_code_free(s->codes[i]); // outside the arena
    pcre2_match_context_free(s->mctx);
    wh_arena_free(s->ia);
    wh_arena_free(s->a);
    free(s);
}

size_t wh_sigma_count(const wh_sigma *s) { return s ? s->n : 0; }
const wh_sigma_rule_info *wh_sigma_rule(const wh_sigma *s, size_t i) { return s && i < s->n ? &s->rules[i].info : NULL; }
size_t wh_sigma_rejected(const wh_sigma *s) { return s ? s->nrej : 0; }

void wh_sigma_reject(const wh_sigma *s, size_t i, const char **path, const char **why)
{
    *path = s && i < s->nrej ? s->rej[i].path : NULL;
    *why = s && i < s->nrej ? s->rej[i].why : NULL;
}

void wh_sigma_add_text(wh_sigma *s, const char *name, const void *text, size_t n, wh_diag_sink *diags)
{
    if (!s) return;
    load_text(s, diags, name ? name : "-", text, n);
    sg_index(s);
}
