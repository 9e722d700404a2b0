/* Enrichment: what a record runs, decoded (lib/payload), added as fields
 * before the rules read it, so that a rule matches the decoded text as well
 * as the raw one and the case can show both, decoded first.
 *   decoded          the most decoded text (when some layer was peeled off)
 *   decoded_layers   how each layer was obtained ("powershell -EncodedCommand", ...)
 *   indicators       [{kind, value}]: urls, domains, ips, unc, paths, registry keys
 *   urls             the url indicators alone (for simple rules)
 *   program          the program that actually runs (8.3 names expanded)
 *   behaviour        what a script does, in short phrases
 *   decode_limited   true when a bound stopped the decoding (said on the sink)
 * The enriched record lives in a scratch arena until the next call of the
 * same kind (raw records, subscription records). */
#include <string.h>

#include "hunt/hunt_int.h"
#include "wmihunt/payload.h"

/* The field that holds what a record of this kind runs. */
static const char *text_field(const wh_record *r)
{
    const char *a = r->artifact;
    if (!strcmp(a, "wmi.subscription")) return "payload";
    if (!strcmp(a, "evtx.process")) return "command_line";
    if (!strcmp(a, "evtx.powershell")) return hr_str(r, "script_block_text") ? "script_block_text" : "payload";
    if (!strcmp(a, "evtx.sysmon_wmi")) return "destination";
    if (!strcmp(a, "evtx.wmi_activity")) return "consumer_action";
    return NULL;
}

const wh_record *he_enrich(wh_hunt_host *hh, wh_arena *scratch, const wh_record *r)
{
    const char *fname = text_field(r);
    const char *text = fname ? hr_str(r, fname) : NULL;
    if (!text || !*text) return r;
    wh_payload *p = NULL;
    wh_payload_opts o = {.size = sizeof(o)};
    const char *src = r->source ? r->source : hh->path;
    if (wh_payload_analyze(text, strlen(text), &o, &hh->sink, src, &p) != WH_OK || !p) return r;
    size_t nl = wh_payload_layer_count(p), ni = wh_payload_indicator_count(p);
    const char *prog = wh_payload_program(p);
    bool limited = wh_payload_limited(p);
    size_t nb = wh_payload_behaviour_count(p);
    if (nl <= 1 && !ni && !prog && !limited && !nb) {
        wh_payload_free(p);
        return r;
    }
    wh_arena_reset(scratch);
    wh_recb b;
    wh_recb_start(&b, scratch, r->artifact, r->source, r->offset);
    b.rec.host = r->host;
    b.rec.summary = r->summary;
    for (size_t i = 0; i < r->nts; i++) wh_recb_ts(&b, r->ts[i].ft, r->ts[i].desc);
    for (size_t i = 0; i < r->nfields; i++) wh_recb_add(&b, r->fields[i].name, r->fields[i].v);
    if (nl > 1) {
        wh_recb_str(&b, "decoded", wh_arena_strdup(scratch, wh_payload_decoded(p)));
        wh_value *lv = wh_arena_calloc(scratch, nl - 1, sizeof(wh_value));
        for (size_t i = 1; lv && i < nl; i++) {
            const char *how = NULL;
            (void)wh_payload_layer(p, i, &how);
            lv[i - 1] = wh_v_str(wh_arena_strdup(scratch, how ? how : "?"));
        }
        wh_value arr = {.type = WH_V_ARRAY};
        arr.as.arr.items = lv;
        arr.as.arr.n = lv ? nl - 1 : 0;
        wh_recb_add(&b, "decoded_layers", arr);
    }
    if (ni) {
        wh_value *iv = wh_arena_calloc(scratch, ni, sizeof(wh_value));
        wh_value *uv = wh_arena_calloc(scratch, ni, sizeof(wh_value));
        size_t nu = 0;
        for (size_t i = 0; iv && uv && i < ni; i++) {
            const char *kind = NULL, *v = wh_payload_indicator(p, i, &kind);
            const char *vc = wh_arena_strdup(scratch, v ? v : ""), *kc = wh_arena_strdup(scratch, kind ? kind : "?");
            wh_field f[2] = {{"kind", wh_v_str(kc)}, {"value", wh_v_str(vc)}};
            iv[i] = wh_v_object(scratch, f, 2);
            if (kind && !strcmp(kind, "url")) uv[nu++] = wh_v_str(vc);
        }
        wh_value a1 = {.type = WH_V_ARRAY}, a2 = {.type = WH_V_ARRAY};
        a1.as.arr.items = iv;
        a1.as.arr.n = iv ? ni : 0;
        a2.as.arr.items = uv;
        a2.as.arr.n = uv ? nu : 0;
        wh_recb_add(&b, "indicators", a1);
        if (nu) wh_recb_add(&b, "urls", a2);
    }
    if (prog) wh_recb_str(&b, "program", wh_arena_strdup(scratch, prog));
    if (nb) {
        wh_value *bv = wh_arena_calloc(scratch, nb, sizeof(wh_value));
        for (size_t i = 0; bv && i < nb; i++) bv[i] = wh_v_str(wh_arena_strdup(scratch, wh_payload_behaviour(p, i)));
        wh_value arr = {.type = WH_V_ARRAY};
        arr.as.arr.items = bv;
        arr.as.arr.n = bv ? nb : 0;
        wh_recb_add(&b, "behaviour", arr);
    }
    if (limited) wh_recb_add(&b, "decode_limited", wh_v_bool(true));
    wh_payload_free(p);
    const wh_record *e = wh_recb_done(&b);
    return e ? e : r;
}

/* The case's decoded payload, indicators and program: from its subscription
 * records first (they carry the consumer's whole payload), else from the
 * first record that has them. Indicators of every record, deduplicated. */
void he_case(wh_hunt_host *hh, hcase *c)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->recs.n; i++) {
            const hrec *k = c->recs.v[i];
            if (pass == 0 && !k->sub) continue;
            if (!c->decoded) c->decoded = hr_str(k->r, "decoded");
            if (!c->behaviour) {
                const wh_field *bf = wh_record_field(k->r, "behaviour");
                if (bf && bf->v.type == WH_V_ARRAY && bf->v.as.arr.n) c->behaviour = &bf->v;
            }
            if (!c->program && (k->sub || c->kind == K_EXEC || c->kind == K_EVENT)) c->program = hr_str(k->r, "program");
            if (!c->decode_how && c->decoded == hr_str(k->r, "decoded")) {
                const wh_field *f = wh_record_field(k->r, "decoded_layers");
                if (f && f->v.type == WH_V_ARRAY) c->decode_how = &f->v;
            }
            const wh_field *ind = wh_record_field(k->r, "indicators");
            if (!ind || ind->v.type != WH_V_ARRAY) continue;
            for (size_t j = 0; j < ind->v.as.arr.n; j++) {
                const wh_value *o = &ind->v.as.arr.items[j];
                if (o->type != WH_V_OBJECT || o->as.obj.n < 2) continue;
                const char *kind = o->as.obj.fields[0].v.type == WH_V_STR ? o->as.obj.fields[0].v.as.str.s : NULL;
                const char *val = o->as.obj.fields[1].v.type == WH_V_STR ? o->as.obj.fields[1].v.as.str.s : NULL;
                if (!kind || !val) continue;
                bool seen = false;
                for (size_t m = 0; m + 1 < c->iocs.n && !seen; m += 2)
                    seen = hr_ieq(c->iocs.v[m], kind) && hr_ieq(c->iocs.v[m + 1], val);
                if (seen) continue;
                (void)wh_ptrvec_push(hh->a, &c->iocs, (void *)kind);
                (void)wh_ptrvec_push(hh->a, &c->iocs, (void *)val);
            }
        }
}
