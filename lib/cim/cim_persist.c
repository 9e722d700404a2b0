/* The persistence triad: __FilterToConsumerBinding instances in every
 * namespace, resolved to their __EventFilter and __EventConsumer (any
 * subclass), plus filters and consumers no binding uses. */
#include <string.h>

#include "cim/cim_int.h"
#include "core/text.h"

/* Splits an object path into namespace (may be NULL), class and key part.
 * Accepts "Cls.Key=\"v\"", "\\\\.\\root\\x:Cls.Key=\"v\"", "root\\x:Cls..." */
static bool split_ref(wh_cim *cim, const char *ref, const char **ns, const char **cls, const char **key)
{
    *ns = NULL;
    const char *colon = NULL;
    // The namespace part ends at the first ':' before any '"'.
    for (const char *p = ref; *p && *p != '"'; p++)
        if (*p == ':') { colon = p; break; }
    const char *rest = ref;
    if (colon) {
        const char *s = ref;
        if (s[0] == '\\' && s[1] == '\\') { // \\host\ns
            s += 2;
            while (s < colon && *s != '\\') s++;
            if (s < colon) s++;
        }
        *ns = wh_arena_strndup(cim->arena, s, (size_t)(colon - s));
        rest = colon + 1;
    }
    const char *dot = strchr(rest, '.');
    const char *eq = strchr(rest, '=');
    if (dot && (!eq || dot < eq)) {
        *cls = wh_arena_strndup(cim->arena, rest, (size_t)(dot - rest));
        *key = dot + 1;
    } else if (eq) { // Cls="v": single unnamed key
        *cls = wh_arena_strndup(cim->arena, rest, (size_t)(eq - rest));
        *key = eq + 1;
    } else {
        return false;
    }
    return *cls != NULL;
}

static bool key_matches(const wh_cim_instance *in, const char *key)
{
    if (!in->key) return false;
    if (wh_strcasecmp(in->key, key) == 0) return true;
    // Unnamed single key: compare with the value part of ours.
    const char *eq = strchr(in->key, '=');
    return eq && key[0] == '"' && wh_strcasecmp(eq + 1, key) == 0;
}

static const wh_cim_instance *resolve(wh_cim *cim, cim_ns *home, const char *ref, const char *base)
{
    const char *ns, *cls, *key;
    if (!ref || !split_ref(cim, ref, &ns, &cls, &key)) return NULL;
    cim_ns *x = ns ? cim_ns_find(cim, ns) : home;
    if (!x) return NULL;
    cim_ns_subs(cim, x); // every filter and consumer is among them
    for (size_t i = 0; i < x->nsubs; i++) {
        const wh_cim_instance *in = x->subs[i];
        if (!wh_cim_class_is(in->cls, base)) continue;
        if (wh_strcasecmp(in->class_name, cls) != 0) continue;
        if (key_matches(in, key)) return in;
    }
    return NULL;
}

static const char *str_prop(const wh_cim_instance *in, const char *name)
{
    const wh_cim_propval *v = wh_cim_instance_get(in, name);
    return v && v->value.type == WH_V_STR ? v->value.as.str.s : NULL;
}

wh_status wh_cim_get_persistence(wh_cim *cim, const wh_cim_persistence **out)
{
    if (cim->persistence_built) {
        *out = &cim->persist;
        return WH_OK;
    }
    wh_ptrvec binds = {0}, filters = {0}, consumers = {0}, used = {0};
    for (size_t i = 0; i < cim->nss.n; i++) {
        cim_ns *ns = cim->nss.v[i];
        // Only the instances of the subscription classes are decoded.
        cim_ns_subs(cim, ns);
        for (size_t j = 0; j < ns->nsubs; j++) {
            const wh_cim_instance *in = ns->subs[j];
            if (wh_cim_class_is(in->cls, "__EventFilter")) (void)wh_ptrvec_push(cim->arena, &filters, (void *)in);
            else if (wh_cim_class_is(in->cls, "__EventConsumer"))
                (void)wh_ptrvec_push(cim->arena, &consumers, (void *)in);
            else if (wh_cim_class_is(in->cls, "__FilterToConsumerBinding")) {
                wh_cim_binding *b = wh_arena_calloc(cim->arena, 1, sizeof(*b));
                if (!b) return WH_E_NOMEM;
                b->ns = ns->name;
                b->binding = in;
                b->filter_ref = str_prop(in, "Filter");
                b->consumer_ref = str_prop(in, "Consumer");
                b->filter = resolve(cim, ns, b->filter_ref, "__EventFilter");
                b->consumer = resolve(cim, ns, b->consumer_ref, "__EventConsumer");
                if (b->filter) (void)wh_ptrvec_push(cim->arena, &used, (void *)b->filter);
                if (b->consumer) (void)wh_ptrvec_push(cim->arena, &used, (void *)b->consumer);
                (void)wh_ptrvec_push(cim->arena, &binds, b);
            }
        }
    }
    wh_cim_binding *ba = wh_arena_calloc(cim->arena, binds.n ? binds.n : 1, sizeof(*ba));
    const wh_cim_instance **of = wh_arena_calloc(cim->arena, filters.n ? filters.n : 1, sizeof(void *));
    const wh_cim_instance **oc = wh_arena_calloc(cim->arena, consumers.n ? consumers.n : 1, sizeof(void *));
    if (!ba || !of || !oc) return WH_E_NOMEM;
    for (size_t i = 0; i < binds.n; i++) ba[i] = *(wh_cim_binding *)binds.v[i];
    size_t nf = 0, nc = 0;
    for (int pass = 0; pass < 2; pass++) {
        wh_ptrvec *src = pass ? &consumers : &filters;
        for (size_t i = 0; i < src->n; i++) {
            bool u = false;
            for (size_t k = 0; k < used.n && !u; k++) u = used.v[k] == src->v[i];
            if (u) continue;
            if (pass) oc[nc++] = src->v[i];
            else of[nf++] = src->v[i];
        }
    }
    cim->persist.bindings = ba;
    cim->persist.nbindings = binds.n;
    cim->persist.orphan_filters = of;
    cim->persist.norphan_filters = nf;
    cim->persist.orphan_consumers = oc;
    cim->persist.norphan_consumers = nc;
    cim->persistence_built = true;
    *out = &cim->persist;
    return WH_OK;
}
