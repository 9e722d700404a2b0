/* Matching a Sigma rule against one event: identifiers (any of their maps,
 * all of a map's items, any of an item's values unless |all), values as
 * case-insensitive wildcard patterns, regexes with a match limit, CIDR,
 * numbers, existence, another field's value. */
#ifdef _WIN32
#include <ws2tcpip.h> /* inet_pton */
#else
#include <arpa/inet.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "sigma/sigma_int.h"

#define VALUE_MAX 65536 /* bytes of one field read (a 4104 script block is at most 32 KiB of UTF-16) */

static inline unsigned char fold(unsigned char c, bool cased)
{
    return !cased && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool sg_glob(const char *p, const char *s, bool cased)
{
    // The iterative wildcard match: one backtrack point, linear in practice.
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*p == SG_ONE || (*p && *p != SG_WILD && fold((unsigned char)*p, cased) == fold((unsigned char)*s, cased))) {
            p++, s++;
        } else if (*p == SG_WILD) {
            star = p++;
            mark = s;
        } else if (star) {
            p = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*p == SG_WILD) p++;
    return !*p;
}

static bool cidr_match(const sg_val *v, const char *s)
{
    uint8_t a[16];
    int af = strchr(s, ':') ? AF_INET6 : AF_INET;
    if (af != v->af || inet_pton(af, s, a) != 1) return false;
    int bits = v->bits, i = 0;
    for (; bits >= 8; bits -= 8, i++)
        if (a[i] != v->net[i]) return false;
    return !bits || ((a[i] ^ v->net[i]) & (uint8_t)(0xFF << (8 - bits))) == 0;
}

static bool one(const wh_sigma *sg, const sg_item *it, const sg_val *v, const char *s, const wh_sigma_event *ev,
                const sg_src *src)
{
    switch (it->op) {
    case SG_GLOB: return s && sg_glob(v->pat, s, it->cased);
    case SG_RE: {
        if (!s) return false;
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        if (!md) return false;
        int rc = pcre2_match(v->re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, sg->mctx);
        pcre2_match_data_free(md);
        return rc >= 0; // a match limit reached is no match
    }
    case SG_CIDR: return s && cidr_match(v, s);
    case SG_EXISTS: return (s != NULL) == v->yes;
    case SG_NULL: return !s || !*s;
    case SG_GT:
    case SG_GTE:
    case SG_LT:
    case SG_LTE: {
        char *end;
        double d = s ? strtod(s, &end) : 0;
        if (!s || end == s) return false;
        return it->op == SG_GT ? d > v->num : it->op == SG_GTE ? d >= v->num : it->op == SG_LT ? d < v->num : d <= v->num;
    }
    case SG_FIELDREF: {
        static _Thread_local char buf[VALUE_MAX];
        const char *name = v->pat;
        for (size_t i = 0; src && i < src->nf; i++)
            if (!strcmp(src->from[i], name)) name = src->to[i];
        const char *o = ev->field(ev->ud, name, buf, sizeof(buf));
        return s && o && (it->cased ? !strcmp(s, o) : !strcasecmp(s, o));
    }
    }
    return false;
}

static bool item(const wh_sigma *sg, const sg_item *it, const wh_sigma_event *ev, const sg_src *src)
{
    const char *s = NULL;
    static _Thread_local char buf[VALUE_MAX]; // items do not nest: one buffer per thread

    if (!it->field) { // a keyword: anywhere in the event
        s = ev->text ? ev->text(ev->ud) : NULL;
    } else {
        const char *name = it->field;
        for (size_t i = 0; src && i < src->nf; i++)
            if (!strcmp(src->from[i], name)) name = src->to[i];
        // System fields a rule may name.
        if (!strcmp(name, "EventID")) {
            snprintf(buf, VALUE_MAX, "%u", ev->event_id);
            s = buf;
        } else if (!strcmp(name, "Channel")) {
            s = ev->channel;
        } else if (!strcmp(name, "Provider_Name")) {
            s = ev->provider;
        } else {
            s = ev->field(ev->ud, name, buf, VALUE_MAX);
        }
    }
    bool ok = it->all;
    for (size_t i = 0; i < it->nv; i++) {
        bool m = one(sg, it, &it->v[i], s, ev, src);
        if (it->all && !m) {
            ok = false;
            break;
        }
        if (!it->all && m) {
            ok = true;
            break;
        }
    }
    return ok;
}

static bool ident(const wh_sigma *sg, const sg_ident *id, const wh_sigma_event *ev, const sg_src *src)
{
    for (size_t m = 0; m < id->n; m++) {
        bool all = true;
        for (size_t i = 0; i < id->maps[m].n && all; i++) all = item(sg, &id->maps[m].items[i], ev, src);
        if (all) return true;
    }
    return false;
}

bool sg_cond_eval(const wh_sigma *s, const sg_rule *r, const sg_cond *c, const sg_src *src, const wh_sigma_event *ev)
{
    switch (c->k) {
    case SG_C_ID: return ident(s, &r->ids[c->ids[0]], ev, src);
    case SG_C_AND: return sg_cond_eval(s, r, c->a, src, ev) && sg_cond_eval(s, r, c->b, src, ev);
    case SG_C_OR: return sg_cond_eval(s, r, c->a, src, ev) || sg_cond_eval(s, r, c->b, src, ev);
    case SG_C_NOT: return !sg_cond_eval(s, r, c->a, src, ev);
    case SG_C_ONE:
        for (size_t i = 0; i < c->nids; i++)
            if (ident(s, &r->ids[c->ids[i]], ev, src)) return true;
        return false;
    case SG_C_ALL:
        for (size_t i = 0; i < c->nids; i++)
            if (!ident(s, &r->ids[c->ids[i]], ev, src)) return false;
        return true;
    }
    return false;
}

/* The source of r's logsource this event comes from, or NULL. */
static const sg_src *source_of(const sg_rule *r, const char *channel, const char *provider, uint32_t eid)
{
    if (!r->ls) return NULL;
    for (size_t i = 0; i < r->ls->n; i++) {
        const sg_src *s = &r->ls->srcs[i];
        if (s->channel && (!channel || strcasecmp(s->channel, channel) != 0)) continue;
        if (s->provider && (!provider || strcasecmp(s->provider, provider) != 0)) continue;
        bool eid_ok = !s->neids;
        for (size_t k = 0; k < s->neids && !eid_ok; k++) eid_ok = s->eids[k] == eid;
        if (eid_ok) return s;
    }
    return NULL;
}

/* ---- the index: the rules an event's channel or provider and id select ---- */

static char *index_key(char *buf, size_t n, char kind, const char *name, const uint32_t *eid)
{
    size_t k = (size_t)snprintf(buf, n, "%c:", kind);
    for (const char *p = name; *p && k + 12 < n; p++) buf[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (eid) snprintf(buf + k, n - k, "|%u", *eid);
    else snprintf(buf + k, n - k, "|*");
    return buf;
}

void sg_index(wh_sigma *s)
{
    wh_arena_free(s->ia);
    s->index = NULL;
    if (!(s->ia = wh_arena_new(0)) || !(s->index = wh_arena_calloc(s->ia, 1, sizeof(wh_strmap)))) return;
    wh_strmap_init(s->index, s->ia);
    char buf[512];
    for (size_t i = 0; i < s->n; i++) {
        const sg_logsrc *ls = s->rules[i].ls;
        for (size_t k = 0; ls && k < ls->n; k++) {
            const sg_src *src = &ls->srcs[k];
            const char *name = src->channel ? src->channel : src->provider;
            char kind = src->channel ? 'c' : 'p';
            if (!name) continue;
            for (size_t e = 0; e < (src->neids ? src->neids : 1); e++) {
                index_key(buf, sizeof(buf), kind, name, src->neids ? &src->eids[e] : NULL);
                wh_ptrvec *v = wh_strmap_get(s->index, buf);
                if (!v) {
                    const char *key = wh_arena_strdup(s->ia, buf);
                    v = wh_arena_calloc(s->ia, 1, sizeof(*v));
                    if (!key || !v || wh_strmap_put(s->index, key, v)) continue;
                }
                (void)wh_ptrvec_push(s->ia, v, (void *)(uintptr_t)(i + 1));
            }
        }
    }
}

/* The rules an event selects, in rule order, each once (out: room for s->n). */
static size_t candidates(const wh_sigma *s, const char *channel, const char *provider, uint32_t eid, size_t *out)
{
    size_t n = 0;
    char buf[512];
    const char *names[2] = {channel, provider};
    for (int w = 0; w < 2 && s->index; w++)
        for (int any = 0; names[w] && any < 2; any++) {
            const wh_ptrvec *v = wh_strmap_get(s->index, index_key(buf, sizeof(buf), w ? 'p' : 'c', names[w], any ? NULL : &eid));
            for (size_t i = 0; v && i < v->n; i++) out[n++] = (size_t)(uintptr_t)v->v[i] - 1;
        }
    // Sorted and each once: a rule may be named under two keys.
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            size_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || out[u - 1] != out[i]) out[u++] = out[i];
    return u;
}

bool wh_sigma_wants(const wh_sigma *s, const char *channel, const char *provider, uint32_t event_id)
{
    if (!s || !s->index) return false;
    char buf[512];
    const char *names[2] = {channel, provider};
    for (int w = 0; w < 2; w++)
        for (int any = 0; names[w] && any < 2; any++)
            if (wh_strmap_get(s->index, index_key(buf, sizeof(buf), w ? 'p' : 'c', names[w], any ? NULL : &event_id)))
                return true;
    return false;
}

size_t wh_sigma_match(const wh_sigma *s, const wh_sigma_event *ev,
                      int (*fn)(void *ud, const wh_sigma_rule_info *rule), void *ud)
{
    size_t n = 0;
    if (!s || !s->n) return 0;
    size_t *cand = malloc(s->n * 4 * sizeof(size_t)), nc = cand ? candidates(s, ev->channel, ev->provider, ev->event_id, cand) : 0;
    for (size_t c = 0; c < nc; c++) {
        const sg_rule *r = &s->rules[cand[c]];
        const sg_src *src = source_of(r, ev->channel, ev->provider, ev->event_id);
        if (!src) continue;
        bool hit = false;
        for (size_t k = 0; k < r->nconds && !hit; k++) hit = sg_cond_eval(s, r, r->conds[k], src, ev);
        if (!hit) continue;
        n++;
        if (fn && fn(ud, &r->info)) break;
    }
    free(cand);
    return n;
}
