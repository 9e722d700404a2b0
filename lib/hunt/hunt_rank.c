/* Each case's story fields, its one severity, and the order a responder
 * reads them in. Rules give reasons and a floor; the case decides:
 *   - known-good content (a known_good rule matched) is inventory;
 *   - a case whose reasons are all informational is inventory;
 *   - critical: a live or recently fired persistence whose payload
 *     downloads, decodes, or runs a script host or LOLBin;
 *   - order: severity, then live before logged, MOF-only and removed, then
 *     the most recent first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/text.h"
#include "core/sort.h"
#include "hunt/hunt_int.h"

/* Fired this close to the newest evidence of the host counts as recent. */
#define RECENT_FT (30ull * 24 * 3600 * 10000000)

const char *hk_kind_name(hkind k)
{
    static const char *const n[] = {"subscription", "filter", "consumer", "mof", "autorecover", "wmi_execution", "event",
                                    "stored_payload", "provider"};
    return n[k];
}

const char *hk_state_name(hstate s)
{
    static const char *const n[] = {"live", "logged", "mof_only", "removed", "activity"};
    return n[s];
}

/* What makes a payload worth a page at 3 a.m.: it fetches, decodes, or
 * hands over to a script host or a living-off-the-land binary. A script
 * that starts some program (WScript.Shell.Run) counts by what it starts
 * (its behaviour, lib/payload), not by the object it uses. */
static const char *const DANGER[] = {
    // downloads
    "http://", "https://", "ftp://", "downloadstring", "downloadfile", "downloaddata", "net.webclient",
    "invoke-webrequest", "invoke-restmethod", "iwr ", "irm ", "start-bitstransfer", "bitsadmin", "xmlhttp",
    "winhttp", "urldownloadtofile", "-urlcache", "system.net.", "curl ", "wget ",
    // decoding
    " -e ", " -ec ", " -en ", " -enc", " -encodedcommand", " /enc", "frombase64string", "-decode", "[convert]::",
    "gzipstream", "deflatestream",
    // script hosts and LOLBins
    "powershell", "pwsh", "cmd.exe", "cmd /c", "cmd /k", "wscript", "cscript", "mshta", "rundll32", "regsvr32",
    "certutil", "msiexec", "installutil", "regasm", "regsvcs", "msbuild", "wmic", "forfiles", "schtasks"};

static bool dangerous(const char *payload)
{
    if (!payload) return false;
    for (size_t i = 0; i < sizeof(DANGER) / sizeof(DANGER[0]); i++)
        // "wscript" alone, not the WScript.Shell object a script uses to start something
        if (hr_icontains(payload, DANGER[i]) && !(!strcmp(DANGER[i], "wscript") && hr_icontains(payload, "wscript.shell") &&
                                                 !hr_icontains(payload, "wscript.exe")))
            return true;
    return false;
}

/* What its script does, said by lib/payload: fetching, running code it
 * builds or downloads, or starting a script host or LOLBin. */
static bool dangerous_behaviour(const wh_value *b)
{
    for (size_t i = 0; b && i < b->as.arr.n; i++) {
        const wh_value *v = &b->as.arr.items[i];
        if (v->type != WH_V_STR) continue;
        const char *s = v->as.str.s;
        if (!strncmp(s, "downloads", 9) || !strncmp(s, "makes HTTP", 10) || !strncmp(s, "runs code", 9)) return true;
        if (!strncmp(s, "starts a program: ", 18) && dangerous(s + 18)) return true;
    }
    return false;
}

static void finish_times(hcase *c)
{
    for (size_t i = 0; i < c->life.n; i++) {
        const hlife *l = c->life.v[i];
        if (!l->t) continue;
        if (!strcmp(l->event, "created") || !strcmp(l->event, "registered")) {
            if (!c->created || l->t < c->created) c->created = l->t;
        } else if (!strcmp(l->event, "changed")) {
            if (l->t > c->changed) c->changed = l->t;
        } else if (!strcmp(l->event, "removed")) {
            if (l->t > c->removed) c->removed = l->t;
        }
    }
}

static void decide_state(const wh_hunt_host *hh, hcase *c)
{
    if (c->kind == K_EXEC || c->kind == K_EVENT) {
        c->state = S_ACTIVITY;
        return;
    }
    if (c->kind == K_STASH || c->kind == K_PROVIDER) { // read from the live repository
        c->state = S_LIVE;
        return;
    }
    // In the live repository now is live, whatever the logs said before
    // (removed and made again is still there).
    if (c->live) c->state = S_LIVE;
    else if (c->removal_seen) c->state = S_REMOVED;
    // It existed (logged, carved, or in an older copy), and the repository no longer has it.
    else if (hh->repo_read && (c->logged || c->recovered || c->in_older)) c->state = S_REMOVED;
    else if (c->logged) c->state = S_LOGGED;
    else c->state = S_MOF_ONLY;
}

static void make_title(wh_hunt_host *hh, hcase *c)
{
    switch (c->kind) {
    case K_SUBSCRIPTION:
        c->title = wh_arena_printf(hh->a, "subscription %s -> %s%s%s", c->fname ? c->fname : "?",
                                   c->cclass ? c->cclass : "", c->cclass ? "." : "", c->cname ? c->cname : "?");
        break;
    case K_FILTER:
        c->title = wh_arena_printf(hh->a, "filter %s, bound to no consumer", c->fname ? c->fname : "?");
        break;
    case K_CONSUMER:
        c->title = wh_arena_printf(hh->a, "consumer %s%s%s, bound to no filter", c->cclass ? c->cclass : "",
                                   c->cclass ? "." : "", c->cname ? c->cname : "?");
        break;
    case K_MOF:
        c->title = wh_arena_printf(hh->a, "MOF file %s", c->mofs.n ? (const char *)c->mofs.v[0] : "?");
        break;
    case K_AUTORECOVER:
        c->title = wh_arena_printf(hh->a, "autorecover entry %s", c->autorecs.n ? (const char *)c->autorecs.v[0] : "?");
        break;
    case K_EXEC: {
        size_t nproc = 0, nps = 0;
        for (size_t i = 0; i < c->recs.n; i++) {
            const char *a = ((hrec *)c->recs.v[i])->r->artifact;
            nproc += !strcmp(a, "evtx.process");
            nps += !strcmp(a, "evtx.powershell");
        }
        size_t commands = 0; // a process seen in Sysmon 1 and 4688 is one command
        for (size_t i = 0; i < c->life.n; i++) commands += !strcmp(((hlife *)c->life.v[i])->event, "command");
        if (nps && !nproc)
            c->title = wh_arena_printf(hh->a, "PowerShell WMI use: %zu event(s)", nps);
        else
            c->title = wh_arena_printf(hh->a, "WMI execution: %zu command(s)%s%s%s%s", commands,
                                       c->b_parent ? " from " : "", c->b_parent ? c->b_parent : "",
                                       c->b_user ? " by " : "", c->b_user ? c->b_user : "");
        break;
    }
    case K_EVENT:
        if (!c->title) c->title = "WMI event";
        break;
    case K_STASH:
    case K_PROVIDER:
        break; // titled when made (hunt_case.c)
    }
}

static void lower_into(wh_sha256 *h, const char *s)
{
    for (; s && *s; s++) {
        char ch = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        wh_sha256_update(h, &ch, 1);
    }
    wh_sha256_update(h, "|", 1);
}

/* A path as the evidence knows it, not as this machine holds it: from the
 * Windows folders down (…/C/Windows/System32/x.evtx -> /Windows/System32/
 * x.evtx), the member of an archive, else the file name; so the same
 * evidence gives the same ids wherever it was copied or unpacked. */
static const char *evidence_path(const char *p)
{
    if (!p) return NULL;
    const char *bang = strrchr(p, '!');
    if (bang) p = bang + 1;
    static const char *const roots[] = {"/windows/", "/users/", "/programdata/", "/program files", "/documents and settings/"};
    for (const char *q = p; *q; q++)
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
            size_t n = strlen(roots[i]), k = 0;
            while (k < n && q[k] && (q[k] >= 'A' && q[k] <= 'Z' ? q[k] + 32 : q[k]) == roots[i][k]) k++;
            if (k == n) return q;
        }
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

/* The same entity in the same evidence gets the same id on every run. */
static void make_id(const wh_hunt_host *hh, hcase *c)
{
    wh_sha256 h;
    uint8_t d[32];
    wh_sha256_init(&h);
    lower_into(&h, hh->name);
    lower_into(&h, hk_kind_name(c->kind));
    switch (c->kind) {
    case K_SUBSCRIPTION:
    case K_FILTER:
    case K_CONSUMER:
        lower_into(&h, c->ns);
        lower_into(&h, c->fname);
        lower_into(&h, c->cclass);
        lower_into(&h, c->cname);
        lower_into(&h, c->fquery);
        lower_into(&h, c->payload);
        break;
    case K_MOF:
        lower_into(&h, c->mofs.n ? evidence_path(c->mofs.v[0]) : NULL);
        break;
    case K_AUTORECOVER:
        lower_into(&h, c->autorecs.n ? c->autorecs.v[0] : NULL);
        break;
    case K_STASH:
    case K_PROVIDER:
        lower_into(&h, c->ns);
        lower_into(&h, c->title);
        break;
    default: {
        const hrec *k = c->recs.n ? c->recs.v[0] : NULL;
        lower_into(&h, c->title);
        lower_into(&h, k ? k->r->artifact : NULL);
        lower_into(&h, k ? evidence_path(k->r->source) : NULL);
        char off[32];
        snprintf(off, sizeof(off), "%llu", k ? (unsigned long long)k->r->offset : 0ULL);
        lower_into(&h, off);
        break;
    }
    }
    wh_sha256_final(&h, d);
    memcpy(c->id, "c-", 2);
    wh_hex(d, 6, c->id + 2, 0);
}

static int cmp_case(const void *x, const void *y)
{
    const hcase *a = *(hcase *const *)x, *b = *(hcase *const *)y;
    if (a->inventory != b->inventory) return a->inventory ? 1 : -1;
    if (a->sev != b->sev) return b->sev - a->sev;
    if (a->state != b->state) return (int)a->state - (int)b->state;
    uint64_t la = a->fired_last > a->last ? a->fired_last : a->last;
    uint64_t lb = b->fired_last > b->last ? b->fired_last : b->last;
    if (la != lb) return la > lb ? -1 : 1;
    return strcmp(a->id, b->id);
}

const hfind *hk_rule_next(const hcase *c, size_t *it, size_t *times)
{
    size_t n = c->finds.n;
    // *it walks severity 4 down to 0, and within each the findings in order
    for (; *it < 5 * n; ++*it) {
        size_t i = *it % n;
        const hfind *f = c->finds.v[i];
        if (f->sev != 4 - (int)(*it / n)) continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(((const hfind *)c->finds.v[j])->rule, f->rule);
        if (dup) continue;
        *times = 0;
        for (size_t j = 0; j < n; j++) *times += !strcmp(((const hfind *)c->finds.v[j])->rule, f->rule);
        ++*it;
        return f;
    }
    return NULL;
}

void hk_rank(wh_hunt_host *hh)
{
    for (size_t i = 0; i < hh->finds.n; i++) {
        hfind *f = hh->finds.v[i];
        if (f->cs < 0 || (size_t)f->cs >= hh->ncases) continue;
        hcase *c = hh->cases[f->cs];
        (void)wh_ptrvec_push(hh->a, &c->finds, f);
        if (f->known_good) {
            if (!c->known_good) c->known_good = f->title;
        } else if (f->sev > c->floor) {
            c->floor = f->sev;
        }
    }
    for (size_t i = 0; i < hh->ncases; i++) {
        hcase *c = hh->cases[i];
        finish_times(c);
        if (c->payload) {
            wh_sha256 h;
            uint8_t d[32];
            wh_sha256_init(&h);
            wh_sha256_update(&h, c->payload, strlen(c->payload));
            wh_sha256_final(&h, d);
            wh_hex(d, 32, c->payload_sha256, 0);
        }
        decide_state(hh, c);
        if (c->kind == K_SUBSCRIPTION || c->kind == K_FILTER) ht_trigger(hh, c);
        he_case(hh, c);
        make_title(hh, c);
        make_id(hh, c);
        bool reasons = false;
        for (size_t j = 0; j < c->finds.n; j++) reasons |= !((hfind *)c->finds.v[j])->known_good;
        c->sev = c->floor;
        c->inventory = c->known_good || !reasons || c->floor <= WH_FSEV_INFO;
        if (c->inventory) {
            c->sev = WH_FSEV_INFO;
            continue;
        }
        bool persistence = c->kind == K_SUBSCRIPTION || c->kind == K_CONSUMER;
        bool recent = c->fired_last && hh->newest && hh->newest - c->fired_last <= RECENT_FT;
        bool fetches = false; // a URL among what it runs, once decoded
        for (size_t j = 0; j + 1 < c->iocs.n && !fetches; j += 2) fetches = !strcmp(c->iocs.v[j], "url");
        if (persistence && (c->state == S_LIVE || recent) &&
            (dangerous(c->payload) || dangerous(c->decoded) || dangerous_behaviour(c->behaviour) || fetches) &&
            c->sev >= WH_FSEV_MEDIUM)
            c->sev = WH_FSEV_CRITICAL;
    }
    if (hh->ncases > 1) wh_sort(hh->cases, hh->ncases, sizeof(hcase *), cmp_case);
    // Indices moved: findings and records follow their case by pointer.
    for (size_t i = 0; i < hh->ncases; i++) {
        hcase *c = hh->cases[i];
        c->rank = (int)i + 1;
        c->ix = (int)i;
        for (size_t j = 0; j < c->finds.n; j++) ((hfind *)c->finds.v[j])->cs = (int)i;
        for (size_t j = 0; j < c->recs.n; j++) ((hrec *)c->recs.v[j])->cs = (int)i;
    }
}
