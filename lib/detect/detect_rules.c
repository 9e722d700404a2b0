/* Rule files: YAML (libyaml's document API, which keeps the line and
 * column of every node) compiled into conditions; regexes compiled once
 * with PCRE2. Format: docs/rules.md. A broken rule is reported with file,
 * line and column and skipped; the rest of the file still loads. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/text.h"
#include "core/port.h"
#include "detect/detect_int.h"

extern const unsigned char wh_builtin_rules_yml[];
extern const size_t wh_builtin_rules_yml_len;

typedef struct loader {
    yaml_document_t *doc;
    const char *name;
    wh_diag_sink *diags;
    wh_arena *a;
    const char *rule_id;
    bool failed; /* this rule has an error */
    wh_rules *rs; /* owns the compiled regexes */
} loader;

static const char *const OPS[OP_COUNT] = {
    "equals", "iequals", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
    "matches", "exists", "in", "gt", "gte", "lt", "lte", "length_gt", "length_lt", "base64of", "entropy_gt"};

static const char *const SEV[] = {"info", "low", "medium", "high", "critical"};

const char *wh_fsev_str(wh_fsev s) { return (unsigned)s < 5 ? SEV[s] : "?"; }

static void err(loader *ld, const yaml_node_t *n, const char *fmt, ...) WH_PRINTF(3, 4);
static void err(loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    // Only the first error of a rule: later ones are usually its echoes.
    if (ld->failed) return;
    ld->failed = true;
    size_t line = n ? n->start_mark.line + 1 : 0, col = n ? n->start_mark.column + 1 : 0;
    wh_diagf(ld->diags, WH_SEV_ERROR, WH_E_CORRUPT, ld->name, n ? n->start_mark.index : WH_NO_OFFSET,
             "%s:%zu:%zu: rule %s: %s; rule skipped", ld->name, line, col, ld->rule_id ? ld->rule_id : "?", msg);
}

static yaml_node_t *node(loader *ld, int i) { return yaml_document_get_node(ld->doc, i); }

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Value of key in a mapping node; NULL when absent. */
static yaml_node_t *get(loader *ld, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(ld, p->key));
        if (k && strcmp(k, key) == 0) return node(ld, p->value);
    }
    return NULL;
}

static char *dup_scalar(loader *ld, const yaml_node_t *n)
{
    const char *s = scalar(n);
    return s ? wh_arena_strndup(ld->a, s, n->data.scalar.length) : NULL;
}

/* A scalar or a list of scalars as strings. */
static char **str_list(loader *ld, const yaml_node_t *n, size_t *count, const char *what)
{
    *count = 0;
    if (!n) return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        char **v = wh_arena_alloc(ld->a, sizeof(char *));
        if (!v || !(v[0] = dup_scalar(ld, n))) return NULL;
        *count = 1;
        return v;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        err(ld, n, "%s: expected a string or a list of strings", what);
        return NULL;
    }
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **v = wh_arena_calloc(ld->a, k ? k : 1, sizeof(char *));
    if (!v) return NULL;
    for (size_t i = 0; i < k; i++) {
        yaml_node_t *it = node(ld, n->data.sequence.items.start[i]);
        if (!scalar(it)) {
            err(ld, it, "%s: list items must be strings", what);
            return NULL;
        }
        v[i] = dup_scalar(ld, it);
    }
    *count = k;
    return v;
}

static bool parse_num(const char *s, double *out)
{
    if (!s || !*s) return false;
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || !end || *end) return false;
    *out = d;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!s) return false;
    if (!wh_strcasecmp(s, "true") || !wh_strcasecmp(s, "yes")) return (*out = true), true;
    if (!wh_strcasecmp(s, "false") || !wh_strcasecmp(s, "no")) return (*out = false), true;
    return false;
}

/* The three base64 encodings of s at byte offsets 0, 1, 2, with the
 * characters that depend on the neighbouring bytes cut (Sigma's
 * base64offset). */
static void base64_offsets(loader *ld, const char *s, size_t n, char **out)
{
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const size_t start_cut[3] = {0, 2, 3};
    for (size_t off = 0; off < 3; off++) {
        size_t tot = off + n;
        uint8_t *buf = wh_arena_calloc(ld->a, tot + 3, 1);
        char *enc = wh_arena_alloc(ld->a, (tot + 2) / 3 * 4 + 1);
        out[off] = NULL;
        if (!buf || !enc) return;
        memcpy(buf + off, s, n);
        size_t k = 0;
        for (size_t i = 0; i < tot; i += 3) {
            uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
            enc[k++] = tb[v >> 18 & 63];
            enc[k++] = tb[v >> 12 & 63];
            enc[k++] = i + 1 < tot ? tb[v >> 6 & 63] : '=';
            enc[k++] = i + 2 < tot ? tb[v & 63] : '=';
        }
        enc[k] = 0;
        // Cut the tail: characters that also encode bytes after s.
        size_t end_cut = tot % 3 == 0 ? 0 : tot % 3 == 1 ? 3 : 2;
        size_t len = k - end_cut;
        if (start_cut[off] >= len) continue;
        out[off] = wh_arena_strndup(ld->a, enc + start_cut[off], len - start_cut[off]);
    }
}

static cond *parse_cond(loader *ld, yaml_node_t *n, int depth);

static cond *parse_list(loader *ld, yaml_node_t *n, cond_kind kind, int depth)
{
    if (!n || n->type != YAML_SEQUENCE_NODE) {
        err(ld, n, "%s: expected a list of conditions", kind == C_ALL ? "all" : "any");
        return NULL;
    }
    cond *c = wh_arena_calloc(ld->a, 1, sizeof(cond));
    size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (!c || !(c->kids = wh_arena_calloc(ld->a, k ? k : 1, sizeof(cond *)))) return NULL;
    c->kind = kind;
    for (size_t i = 0; i < k; i++) {
        cond *kid = parse_cond(ld, node(ld, n->data.sequence.items.start[i]), depth + 1);
        if (!kid) return NULL;
        c->kids[c->nkids++] = kid;
    }
    return c;
}

static bool compile_re(loader *ld, yaml_node_t *at, cond *c)
{
    c->re = wh_arena_calloc(ld->a, c->nvals ? c->nvals : 1, sizeof(pcre2_code *));
    if (!c->re) return false;
    for (size_t i = 0; i < c->nvals; i++) {
        int ec = 0;
        PCRE2_SIZE eo = 0;
        // MATCH_INVALID_UTF: evidence strings may hold bytes that are not UTF-8.
        c->re[i] = pcre2_compile((PCRE2_SPTR)c->vals[i], c->vlens[i], PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo,
                                 NULL);
        if (c->re[i]) {
            wh_rules *rs = ld->rs;
            if (rs->nre == rs->capre) {
                size_t nc = rs->capre ? rs->capre * 2 : 64;
                pcre2_code **nv = realloc(rs->re, nc * sizeof(*nv));
                if (!nv) {
                    pcre2_code_free(c->re[i]);
                    c->re[i] = NULL;
                    err(ld, at, "out of memory");
                    return false;
                }
                rs->re = nv;
                rs->capre = nc;
            }
            rs->re[rs->nre++] = c->re[i];
        }
        if (!c->re[i]) {
            char msg[256];
            pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
            err(ld, at, "bad regular expression '%s' at offset %zu: %s", c->vals[i], (size_t)eo, msg);
            return false;
        }
    }
    return true;
}

static cond *parse_leaf(loader *ld, yaml_node_t *n)
{
    cond *c = wh_arena_calloc(ld->a, 1, sizeof(cond));
    if (!c) return NULL;
    c->kind = C_LEAF;
    yaml_node_t *opnode = NULL;
    int op = -1;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(ld, p->key);
        const char *k = scalar(kn);
        if (!k) {
            err(ld, kn, "condition keys must be strings");
            return NULL;
        }
        if (!strcmp(k, "field")) continue;
        int found = -1;
        for (int i = 0; i < OP_COUNT; i++)
            if (!strcmp(k, OPS[i])) found = i;
        if (found < 0) {
            err(ld, kn, "unknown operator '%s'", k);
            return NULL;
        }
        if (op >= 0) {
            err(ld, kn, "one operator per condition ('%s' and '%s'); use all:", OPS[op], k);
            return NULL;
        }
        op = found;
        opnode = node(ld, p->value);
    }
    yaml_node_t *fn = get(ld, n, "field");
    const char *path = scalar(fn);
    if (!path || !*path) {
        err(ld, fn ? fn : n, "condition without 'field'");
        return NULL;
    }
    if (op < 0) {
        err(ld, n, "condition on '%s' without an operator", path);
        return NULL;
    }
    c->op = (op_kind)op;
    c->path_text = dup_scalar(ld, fn);
    // Split the dotted path (names never hold dots in our records).
    size_t parts = 1;
    for (const char *s = path; *s; s++) parts += *s == '.';
    c->path = wh_arena_calloc(ld->a, parts, sizeof(char *));
    if (!c->path || !c->path_text) return NULL;
    const char *s = path;
    for (;;) {
        const char *e = strchr(s, '.');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (!len) {
            err(ld, fn, "empty part in field path '%s'", path);
            return NULL;
        }
        c->path[c->npath++] = wh_arena_strndup(ld->a, s, len);
        if (!e) break;
        s = e + 1;
    }
    const char *sv = scalar(opnode);
    switch (c->op) {
    case OP_EXISTS:
        if (!parse_bool(sv, &c->flag)) {
            err(ld, opnode, "exists: expected true or false");
            return NULL;
        }
        return c;
    case OP_GT: case OP_GTE: case OP_LT: case OP_LTE: case OP_LENGTH_GT: case OP_LENGTH_LT: case OP_ENTROPY_GT:
        if (!parse_num(sv, &c->num)) {
            err(ld, opnode, "%s: expected a number", OPS[c->op]);
            return NULL;
        }
        return c;
    default: break;
    }
    c->vals = str_list(ld, opnode, &c->nvals, OPS[c->op]);
    if (ld->failed || !c->vals) return NULL;
    if (!c->nvals) {
        err(ld, opnode, "%s: empty list", OPS[c->op]);
        return NULL;
    }
    if (c->op == OP_BASE64OF) {
        // Each string becomes its three encodings: matched with contains.
        char **v = wh_arena_calloc(ld->a, c->nvals * 3, sizeof(char *));
        if (!v) return NULL;
        size_t k = 0;
        for (size_t i = 0; i < c->nvals; i++) {
            char *enc[3];
            base64_offsets(ld, c->vals[i], strlen(c->vals[i]), enc);
            for (int j = 0; j < 3; j++)
                if (enc[j]) v[k++] = enc[j];
        }
        c->vals = v;
        c->nvals = k;
    }
    c->vlens = wh_arena_calloc(ld->a, c->nvals ? c->nvals : 1, sizeof(size_t));
    if (!c->vlens) return NULL;
    for (size_t i = 0; i < c->nvals; i++) c->vlens[i] = strlen(c->vals[i]);
    if (c->op == OP_MATCHES && !compile_re(ld, opnode, c)) return NULL;
    return c;
}

static cond *parse_cond(loader *ld, yaml_node_t *n, int depth)
{
    if (!n) {
        err(ld, NULL, "missing condition");
        return NULL;
    }
    if (depth > (int)WH_LIMIT_RULES_COND_DEPTH) {
        err(ld, n, "conditions nested deeper than %u", WH_LIMIT_RULES_COND_DEPTH);
        return NULL;
    }
    if (n->type == YAML_SEQUENCE_NODE) return parse_list(ld, n, C_ALL, depth);
    if (n->type != YAML_MAPPING_NODE) {
        err(ld, n, "a condition is a mapping (field + operator, or all/any/not)");
        return NULL;
    }
    yaml_node_t *x;
    size_t npairs = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    bool combinator = get(ld, n, "all") || get(ld, n, "any") || get(ld, n, "not");
    if (combinator && npairs != 1) {
        err(ld, n, "all/any/not must be the only key of their condition");
        return NULL;
    }
    if ((x = get(ld, n, "all"))) return parse_list(ld, x, C_ALL, depth);
    if ((x = get(ld, n, "any"))) return parse_list(ld, x, C_ANY, depth);
    if ((x = get(ld, n, "not"))) {
        cond *c = wh_arena_calloc(ld->a, 1, sizeof(cond));
        if (!c || !(c->kids = wh_arena_alloc(ld->a, sizeof(cond *)))) return NULL;
        c->kind = C_NOT;
        if (!(c->kids[0] = parse_cond(ld, x, depth + 1))) return NULL;
        c->nkids = 1;
        return c;
    }
    return parse_leaf(ld, n);
}

static bool parse_side(loader *ld, yaml_node_t *map, side *s, bool need_artifact)
{
    yaml_node_t *an = get(ld, map, "artifact");
    if (!an && need_artifact) {
        err(ld, map, "missing 'artifact'");
        return false;
    }
    if (an) {
        s->artifact = str_list(ld, an, &s->nartifact, "artifact");
        if (ld->failed) return false;
    }
    yaml_node_t *wn = get(ld, map, "where");
    if (wn && !(s->where = parse_cond(ld, wn, 0))) {
        if (!ld->failed) err(ld, wn, "out of memory");
        return false;
    }
    return true;
}

/* "30s", "10m", "2h", or plain seconds, as FILETIME ticks. */
static bool parse_window(const char *s, uint64_t *ft)
{
    if (!s || !*s) return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || v > 1000000000ull) return false;
    uint64_t mul = 1;
    if (!*end || !strcmp(end, "s")) mul = 1;
    else if (!strcmp(end, "m")) mul = 60;
    else if (!strcmp(end, "h")) mul = 3600;
    else return false;
    *ft = (uint64_t)v * mul * 10000000ull;
    return true;
}

static const char *const RULE_KEYS[] = {"id", "title", "severity", "attack", "description", "artifact", "where",
                                        "kind", "then", "within", "key", "group_by", "distinct", "min",
                                        "references", "author", "tags", "known_good"};

static rule *parse_rule(loader *ld, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        err(ld, n, "a rule is a mapping");
        return NULL;
    }
    ld->rule_id = scalar(get(ld, n, "id"));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(ld, p->key);
        const char *k = scalar(kn);
        bool known = false;
        for (size_t i = 0; k && i < sizeof(RULE_KEYS) / sizeof(RULE_KEYS[0]); i++) known |= !strcmp(k, RULE_KEYS[i]);
        if (!known) {
            err(ld, kn, "unknown key '%s'", k ? k : "?");
            return NULL;
        }
    }
    rule *r = wh_arena_calloc(ld->a, 1, sizeof(rule));
    if (!r) return NULL;
    if (!ld->rule_id || !*ld->rule_id) {
        err(ld, n, "missing 'id'");
        return NULL;
    }
    r->id = dup_scalar(ld, get(ld, n, "id"));
    r->title = dup_scalar(ld, get(ld, n, "title"));
    if (!r->title) {
        err(ld, n, "missing 'title'");
        return NULL;
    }
    r->description = dup_scalar(ld, get(ld, n, "description"));
    yaml_node_t *sn = get(ld, n, "severity");
    const char *sv = scalar(sn);
    int sev = -1;
    for (int i = 0; sv && i < 5; i++)
        if (!wh_strcasecmp(sv, SEV[i])) sev = i;
    if (sev < 0) {
        err(ld, sn ? sn : n, "severity must be info, low, medium, high or critical");
        return NULL;
    }
    r->sev = (wh_fsev)sev;
    // known_good: a match names content Windows or a vendor ships; the hunt
    // files the entity under inventory. Only info, so a rule file cannot
    // hide a finding by declaring it known-good at a higher severity.
    yaml_node_t *kg = get(ld, n, "known_good");
    if (kg) {
        const char *v = scalar(kg);
        if (!v || (strcmp(v, "true") && strcmp(v, "false"))) {
            err(ld, kg, "known_good must be true or false");
            return NULL;
        }
        r->known_good = !strcmp(v, "true");
        if (r->known_good && r->sev != WH_FSEV_INFO) {
            err(ld, kg, "a known_good rule must have severity info");
            return NULL;
        }
    }
    yaml_node_t *at = get(ld, n, "attack");
    if (at) {
        r->attack = (const char **)str_list(ld, at, &r->nattack, "attack");
        if (ld->failed) return NULL;
    }
    yaml_node_t *kn = get(ld, n, "kind");
    const char *kind = kn ? scalar(kn) : "match";
    if (!kind) kind = "";
    if (!strcmp(kind, "match")) r->kind = R_MATCH;
    else if (!strcmp(kind, "sequence")) r->kind = R_SEQUENCE;
    else if (!strcmp(kind, "orphan")) r->kind = R_ORPHAN;
    else if (!strcmp(kind, "group")) r->kind = R_GROUP;
    else {
        err(ld, kn, "unknown kind '%s' (match, sequence, orphan, group)", kind);
        return NULL;
    }
    if (!parse_side(ld, n, &r->m, r->kind != R_ORPHAN)) return NULL;
    if (r->kind == R_MATCH && !r->m.where) {
        err(ld, n, "missing 'where'");
        return NULL;
    }
    if (r->kind == R_SEQUENCE) {
        yaml_node_t *tn = get(ld, n, "then");
        if (!tn || tn->type != YAML_MAPPING_NODE) {
            err(ld, tn ? tn : n, "sequence: 'then' must be a mapping with artifact and where");
            return NULL;
        }
        if (!parse_side(ld, tn, &r->then, true)) return NULL;
        yaml_node_t *wn = get(ld, n, "within");
        if (!parse_window(scalar(wn), &r->within_ft)) {
            err(ld, wn ? wn : n, "sequence: 'within' must be a duration such as 10m, 30s, 1h");
            return NULL;
        }
        yaml_node_t *keyn = get(ld, n, "key");
        if (keyn) {
            size_t nk = 0;
            char **k = str_list(ld, keyn, &nk, "key");
            if (ld->failed) return NULL;
            if (nk < 1 || nk > 2) {
                err(ld, keyn, "key: one field, or [field of the first, field of the then]");
                return NULL;
            }
            r->key_first = k[0];
            r->key_then = nk == 2 ? k[1] : k[0];
        }
    }
    if (r->kind == R_GROUP) {
        r->group_by = dup_scalar(ld, get(ld, n, "group_by"));
        r->distinct = dup_scalar(ld, get(ld, n, "distinct"));
        yaml_node_t *mn = get(ld, n, "min");
        double m = 2;
        if (mn && (!parse_num(scalar(mn), &m) || m < 1 || m > 1e9)) {
            err(ld, mn, "min: expected a positive number");
            return NULL;
        }
        r->min = (uint64_t)m;
        if (!r->group_by || !r->distinct) {
            err(ld, n, "group: needs group_by and distinct");
            return NULL;
        }
    }
    return ld->failed ? NULL : r;
}

static wh_status rules_push(wh_rules *rs, rule *r)
{
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 64;
        rule **nv = realloc(rs->v, nc * sizeof(rule *));
        if (!nv) return WH_E_NOMEM;
        rs->v = nv;
        rs->cap = nc;
    }
    rs->v[rs->n++] = r;
    return WH_OK;
}

static void free_regexes(wh_rules *rs)
{
    for (size_t i = 0; i < rs->nre; i++) pcre2_code_free(rs->re[i]);
    free(rs->re);
}

void wh_rules_free(wh_rules *rs)
{
    if (!rs) return;
    free_regexes(rs);
    free(rs->v);
    wh_arena_free(rs->a);
    free(rs);
}

static bool has_id(const wh_rules *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->v[i]->id, id)) return true;
    return false;
}

wh_status wh_rules_load_mem(const char *text, size_t len, const char *name, wh_diag_sink *diags, wh_rules **out)
{
    if (!out || (!text && len)) return WH_E_ARG;
    *out = NULL;
    if (!name) name = "-";
    if (len > WH_LIMIT_RULES_FILE) { // rule files are written by people, not evidence: a cap is enough
        wh_diagf(diags, WH_SEV_ERROR, WH_E_LIMIT, name, WH_NO_OFFSET, "%s: rule file larger than %u bytes", name,
                 WH_LIMIT_RULES_FILE);
        return WH_E_LIMIT;
    }
    wh_rules *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->a = wh_arena_new(64u << 20))) {
        free(rs);
        return WH_E_NOMEM;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    wh_status st = WH_OK;
    if (!yaml_parser_initialize(&p)) {
        wh_rules_free(rs);
        return WH_E_NOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""), len);
    if (!yaml_parser_load(&p, &doc)) {
        // A reader error (bad bytes) has an offset but no mark: find its line.
        size_t at = p.problem_mark.index, line = p.problem_mark.line + 1, col = p.problem_mark.column + 1;
        if (p.error == YAML_READER_ERROR && p.problem_offset <= len) {
            at = p.problem_offset, line = 1, col = 1;
            for (size_t i = 0; i < at; i++) text[i] == '\n' ? (line++, col = 1) : col++;
        }
        wh_diagf(diags, WH_SEV_ERROR, WH_E_CORRUPT, name, at, "%s:%zu:%zu: YAML error: %s%s%s", name, line, col,
                 p.problem ? p.problem : "syntax error", p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        wh_rules_free(rs);
        return WH_E_CORRUPT;
    }
    loader ld = {.doc = &doc, .name = name, .diags = diags, .a = rs->a, .rs = rs};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE) root = get(&ld, root, "rules");
    if (!root) {
        // An empty file is an empty rule set, not an error.
        goto done;
    }
    if (root->type != YAML_SEQUENCE_NODE) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_CORRUPT, name, root->start_mark.index,
                 "%s:%zu:%zu: a rule file is a list of rules (or a mapping with 'rules:')", name,
                 root->start_mark.line + 1, root->start_mark.column + 1);
        st = WH_E_CORRUPT;
        goto done;
    }
    for (yaml_node_item_t *it = root->data.sequence.items.start; it < root->data.sequence.items.top; it++) {
        yaml_node_t *rn = node(&ld, *it);
        ld.failed = false;
        ld.rule_id = NULL;
        rule *r = parse_rule(&ld, rn);
        if (r && has_id(rs, r->id)) {
            err(&ld, rn, "duplicate id");
            r = NULL;
        }
        if (!r) {
            if (!ld.failed) err(&ld, rn, "out of memory");
            continue;
        }
        if ((st = rules_push(rs, r)) != WH_OK) goto done; // its regexes are freed with rs
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    if (st != WH_OK) {
        wh_rules_free(rs);
        return st;
    }
    *out = rs;
    return WH_OK;
}

wh_status wh_rules_load_file(const char *path, wh_diag_sink *diags, wh_rules **out)
{
    if (!path || !out) return WH_E_ARG;
    *out = NULL;
    FILE *f = wh_fopen(path, "rb");
    if (!f) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_IO, path, WH_NO_OFFSET, "%s: cannot open: %s", path, strerror(errno));
        return WH_E_IO;
    }
    wh_sbuf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && b.n <= WH_LIMIT_RULES_FILE) wh_sbuf_put(&b, chunk, got);
    bool ioerr = ferror(f);
    fclose(f);
    if (ioerr || b.oom) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_IO, path, WH_NO_OFFSET, "%s: read error", path);
        wh_sbuf_free(&b);
        return WH_E_IO;
    }
    wh_status st = wh_rules_load_mem(b.p ? b.p : "", b.n, path, diags, out);
    wh_sbuf_free(&b);
    return st;
}

const char *wh_rules_builtin_text(size_t *len)
{
    if (len) *len = wh_builtin_rules_yml_len;
    return (const char *)wh_builtin_rules_yml;
}

wh_status wh_rules_load_builtin(wh_diag_sink *diags, wh_rules **out)
{
    return wh_rules_load_mem((const char *)wh_builtin_rules_yml, wh_builtin_rules_yml_len, "builtin.yml", diags,
                             out);
}

size_t wh_rules_count(const wh_rules *r) { return r ? r->n : 0; }

const char *wh_rules_id(const wh_rules *r, size_t i) { return r && i < r->n ? r->v[i]->id : NULL; }
