/* The hunt's detection: every record goes to the rule engine (lib/detect);
 * findings are copied out (the engine's records are borrowed) into the
 * run's list for the report. Normalized wmi.subscription records the
 * engine makes go to the timeline and inventory too. */
#include <stdlib.h>
#include <string.h>

#include "hunt.h"
#include "wmihunt/detect.h"

typedef struct engine {
    wh_rules *rules;
    wh_detect *d;
} engine;

hunt_finding *hunt_finding_add(hunt_run *h)
{
    if (h->nfindings == h->capfindings) {
        size_t nc = h->capfindings ? h->capfindings * 2 : 32;
        hunt_finding *nf = realloc(h->findings, nc * sizeof(*nf));
        if (!nf) return NULL;
        h->findings = nf;
        h->capfindings = nc;
    }
    hunt_finding *x = &h->findings[h->nfindings++];
    memset(x, 0, sizeof(*x));
    return x;
}

static int on_finding(void *ud, const wh_finding *f)
{
    hunt_run *h = ud;
    hunt_finding *x = hunt_finding_add(h);
    if (!x) return 0;
    snprintf(x->rule, sizeof(x->rule), "%s", f->rule_id ? f->rule_id : "?");
    snprintf(x->title, sizeof(x->title), "%s", f->title ? f->title : "");
    x->sev = (int)f->severity;
    size_t n = 0;
    for (size_t i = 0; i < f->nattack && n < sizeof(x->attack) - 1; i++)
        n += (size_t)snprintf(x->attack + n, sizeof(x->attack) - n, "%s%s", i ? ", " : "", f->attack[i]);
    snprintf(x->why, sizeof(x->why), "%s", f->why ? f->why : (f->description ? f->description : ""));
    const wh_record *r = f->evidence;
    if (r) {
        snprintf(x->artifact, sizeof(x->artifact), "%s", r->artifact);
        snprintf(x->summary, sizeof(x->summary), "%s", r->summary ? r->summary : r->artifact);
        snprintf(x->source, sizeof(x->source), "%s", r->source ? r->source : "");
        x->offset = r->offset == WH_NO_OFFSET ? 0 : r->offset;
        x->time = r->nts ? r->ts[0].ft : 0;
        // What the evidence runs, so the analyst sees the script or command
        // beside the finding, not only in the inventory.
        static const char *const what[] = {"payload", "command_line", "script_block_text", "destination", "path"};
        for (size_t i = 0; i < sizeof(what) / sizeof(what[0]) && !x->detail; i++) {
            const wh_field *fd = wh_record_field(r, what[i]);
            if (fd && fd->v.type == WH_V_STR && fd->v.as.str.s && fd->v.as.str.s[0])
                x->detail = strdup(fd->v.as.str.s); // whole: jsonl carries it all, text cuts and hashes
        }
    }
    return 0;
}

static int on_subscription(void *ud, const wh_record *r)
{
    hunt_run *h = ud;
    if (h->tl) hunt_timeline_write(h, r);
    return 0;
}

bool hunt_detect_init(hunt_run *h, const char *rules_path)
{
    engine *e = calloc(1, sizeof(*e));
    if (!e) return false;
    wh_status st = rules_path ? wh_rules_load_file(rules_path, &h->diag->sink, &e->rules)
                              : wh_rules_load_builtin(&h->diag->sink, &e->rules);
    if (st != WH_OK || wh_detect_new(e->rules, &e->d) != WH_OK) {
        fprintf(stderr, "wmihunt: cannot load the rules%s%s (%s)\n", rules_path ? " from " : "",
                rules_path ? cli_vis(rules_path) : "", wh_status_str(st));
        wh_rules_free(e->rules);
        free(e);
        return false;
    }
    // Said with -v: a rule file cut between two rules is still valid YAML.
    if (rules_path)
        wh_diagf(&h->diag->sink, WH_SEV_INFO, WH_OK, rules_path, WH_NO_OFFSET, "%zu rule(s) loaded",
                 wh_rules_count(e->rules));
    wh_detect_on_subscription(e->d, on_subscription, h);
    h->engine = e;
    return true;
}

void hunt_detect_record(hunt_run *h, const wh_record *r)
{
    engine *e = h->engine;
    if (e) (void)wh_detect_record(e->d, r, on_finding, h);
}

void hunt_detect_finish(hunt_run *h)
{
    engine *e = h->engine;
    if (e) (void)wh_detect_finish(e->d, on_finding, h);
}

void hunt_detect_free(hunt_run *h)
{
    engine *e = h->engine;
    if (e) {
        wh_detect_free(e->d);
        wh_rules_free(e->rules);
        free(e);
    }
    h->engine = NULL;
    for (size_t i = 0; i < h->nfindings; i++) free(h->findings[i].detail);
    free(h->findings);
    h->findings = NULL;
    h->nfindings = h->capfindings = 0;
}
