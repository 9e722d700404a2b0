/* WMI providers: every __Win32Provider registration (and its subclasses:
 * .NET's WMI_extension, Win32_ProviderEx) in every namespace of the live
 * repositories, with the COM server its CLSID names in the SOFTWARE hive.
 * A provider is a DLL that WMI loads into WmiPrvSE.exe (or its own host)
 * whenever one of its classes is used, so registering one is persistence
 * ("Malicious WMI Providers" in Ballenthin, Graeber, Teodorescu, "Windows
 * Management Instrumentation (WMI) Offense, Defense, and Forensics",
 * FireEye 2015; ATT&CK T1546.003 names providers among what WMI installs).
 *
 * The repository and the hive may be read in either order, so this runs
 * after collection: hunt_collect.c remembers the live repositories and the
 * SOFTWARE hives, and both are opened again here. Their diagnostics were
 * said when they were first read; here only what is new is said.
 *
 * One wmi.provider record per registration (docs/rules.md). dll is the
 * InprocServer32 default value as the hive spells it (%systemroot%\... is
 * kept), which is how WMI-Activity 5857 spells ProviderPath: the case stage
 * joins 5857 to these by wmi_provider = name and provider_path = dll, both
 * compared without case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/recbuild.h"
#include "core/text.h"
#include "hunt/hunt_int.h"
#include "wmihunt/cim.h"
#include "wmihunt/regf.h"

/* Providers read per host: Windows 10 registers about 160; the bound keeps
 * a repository built to hold millions from making as many lookups. */
#define HP_MAX 8192

typedef struct hprov {
    const char *ns, *cls, *name, *clsid, *hosting, *asm_name, *asm_path;
    const char *objects, *repo; /* OBJECTS.DATA and its folder */
    uint64_t offset, written;
    unsigned long ns_subs;
    /* from the hive */
    const char *dll, *threading, *local_server, *hive, *clsid_key;
    uint64_t clsid_written;
    bool looked, found;
} hprov;

typedef struct hpv {
    hprov *v;
    size_t n, cap;
    bool capped;
} hpv;

static const char *prop_str(wh_arena *a, const wh_cim_instance *in, const char *name)
{
    const wh_cim_propval *pv = wh_cim_instance_get(in, name);
    if (!pv || pv->state == WH_CIM_VAL_NULL || pv->value.type != WH_V_STR) return NULL;
    return wh_arena_strndup(a, pv->value.as.str.s, pv->value.as.str.len);
}

/* Subscription objects (bindings, unbound filters and consumers) in ns. */
static unsigned long subs_in(const wh_cim_persistence *p, const char *ns)
{
    unsigned long n = 0;
    if (!p || !ns) return 0;
    for (size_t i = 0; i < p->nbindings; i++) n += p->bindings[i].ns && !wh_strcasecmp(p->bindings[i].ns, ns);
    for (size_t i = 0; i < p->norphan_filters; i++) n += !wh_strcasecmp(p->orphan_filters[i]->ns, ns);
    for (size_t i = 0; i < p->norphan_consumers; i++) n += !wh_strcasecmp(p->orphan_consumers[i]->ns, ns);
    return n;
}

/* The providers of one repository, appended to out; read while the
 * repository is open for the hunt (a second open decoded it all again:
 * 13% of a hunt on the corpus). */
static void from_repository(wh_cim *cim, const char *dir, wh_arena *a, wh_diag_sink *sink, double budget, hpv *out)
{
    wh_diag_sink quiet = {0}; // said when the repository was read
    wh_diag_budget(&quiet, budget);
    char *objects = wh_find_icase(wh_cim_dir(cim), "OBJECTS.DATA", false);
    const char *src = wh_arena_strdup(a, objects ? objects : dir), *repo = wh_arena_strdup(a, dir);
    free(objects);
    const wh_cim_persistence *pers = NULL;
    if (wh_cim_get_persistence(cim, &pers) != WH_OK) pers = NULL;
    size_t nns = wh_cim_namespace_count(cim), before = out->n;
    for (size_t i = 0; i < nns && !out->capped; i++) {
        const char *ns = wh_cim_namespace(cim, i);
        if (wh_diag_expired(&quiet, dir, WH_NO_OFFSET)) {
            wh_diagf(sink, WH_SEV_ERROR, WH_E_LIMIT, dir, WH_NO_OFFSET,
                     "the time budget (--time-budget) ran out listing providers: namespaces from %s on are not "
                     "listed", ns ? ns : "?");
            break;
        }
        if (!ns || !strcmp(ns, "__SystemClass")) continue;
        const wh_cim_instance *const *ins = NULL;
        size_t k = 0;
        if (wh_cim_instances(cim, ns, "__Win32Provider", true, &ins, &k) != WH_OK) continue;
        unsigned long subs = k ? subs_in(pers, ns) : 0;
        for (size_t j = 0; j < k; j++) {
            if (out->n >= HP_MAX) {
                out->capped = true;
                break;
            }
            hprov *nv = wh_arena_grow(a, out->v, out->n, &out->cap, sizeof(hprov), 64);
            if (!nv) break;
            out->v = nv;
            hprov *p = &out->v[out->n];
            memset(p, 0, sizeof(*p));
            const wh_cim_instance *in = ins[j];
            p->ns = wh_arena_strdup(a, ns);
            p->cls = wh_arena_strdup(a, in->class_name);
            p->name = prop_str(a, in, "Name");
            p->clsid = prop_str(a, in, "CLSID");
            p->hosting = prop_str(a, in, "HostingModel");
            p->asm_name = prop_str(a, in, "AssemblyName"); // WMI_extension: the .NET code mscoree loads
            p->asm_path = prop_str(a, in, "AssemblyPath");
            p->objects = src;
            p->repo = repo; // the triage path dies with the triage
            p->offset = in->loc.offset;
            p->written = in->ts_written;
            p->ns_subs = subs;
            out->n++;
        }
    }
    wh_diagf(sink, WH_SEV_INFO, WH_OK, dir, WH_NO_OFFSET, "%zu WMI provider registration(s)", out->n - before);
}

void hp_collect(wh_hunt_host *hh, struct wh_cim *cim, const char *dir)
{
    if (!hh->provs && !(hh->provs = wh_arena_calloc(hh->a, 1, sizeof(hpv)))) return;
    if (!hh->provs->capped) from_repository(cim, dir, hh->a, &hh->sink, hh->hunt->o.file_seconds, hh->provs);
}

struct hpv *hp_read(struct wh_cim *cim, const char *dir, wh_arena *a, wh_diag_sink *sink, double budget)
{
    hpv *pv = wh_arena_calloc(a, 1, sizeof(*pv));
    if (pv) from_repository(cim, dir, a, sink, budget, pv);
    return pv;
}

void hp_merge(wh_hunt_host *hh, const struct hpv *from)
{
    if (!from || (!hh->provs && !(hh->provs = wh_arena_calloc(hh->a, 1, sizeof(hpv))))) return;
    hpv *out = hh->provs;
    for (size_t i = 0; i < from->n && !out->capped; i++) {
        if (out->n >= HP_MAX) { // as from_repository stops
            out->capped = true;
            break;
        }
        hprov *nv = wh_arena_grow(hh->a, out->v, out->n, &out->cap, sizeof(hprov), 64);
        if (!nv) break;
        out->v = nv;
        hprov *p = &out->v[out->n++];
        *p = from->v[i]; // its strings live with the read-ahead: copied
        const char **s[] = {&p->ns, &p->cls, &p->name, &p->clsid, &p->hosting, &p->asm_name, &p->asm_path,
                            &p->objects, &p->repo};
        for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++)
            if (*s[k]) *s[k] = wh_arena_strdup(hh->a, *s[k]);
    }
    if (from->capped) out->capped = true;
}

/* ---- the CLSID in the SOFTWARE hive ---- */

/* "{8-4-4-4-12}" (braces added when missing), or NULL: anything else could
 * walk elsewhere in the hive once put into a key path. */
static bool clsid_norm(const char *s, char out[39])
{
    size_t n = s ? strlen(s) : 0;
    if (n == 38 && s[0] == '{' && s[37] == '}') {
        s++;
        n = 36;
    }
    if (n != 36) return false;
    out[0] = '{';
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f');
        if (dash ? c != '-' : !hex) return false;
        out[1 + i] = c;
    }
    out[37] = '}';
    out[38] = 0;
    return true;
}

/* A string value of the key at path, copied into a; NULL when absent. The
 * regf handle reuses its scratch memory on the next lookup. */
static const char *hive_str(wh_regf *g, const char *path, const char *value, wh_arena *a)
{
    wh_regf_key k;
    wh_regf_value v;
    if (wh_regf_find(g, path, &k) != WH_OK || wh_regf_get_value(g, &k, value, &v) != WH_OK) return NULL;
    if ((v.type != WH_REG_SZ && v.type != WH_REG_EXPAND_SZ) || !v.data) return NULL;
    size_t len = 0;
    bool lossy = false;
    const char *s = wh_regf_value_str(g, &v, &len, &lossy);
    return s ? wh_arena_strndup(a, s, len) : NULL;
}

/* Where a 64-bit SOFTWARE hive keeps COM classes: native first, then the
 * 32-bit view (both spellings of it). */
static const char *const CLSID_ROOTS[] = {"Classes\\CLSID", "Classes\\Wow6432Node\\CLSID",
                                          "Wow6432Node\\Classes\\CLSID"};

static void resolve(wh_hunt_host *hh, wh_regf *g, const char *hive, hprov *p)
{
    char id[39];
    if (!p->clsid) return;
    p->looked = true;
    if (!p->hive) p->hive = hive;
    if (!clsid_norm(p->clsid, id)) return;
    for (size_t r = 0; r < sizeof(CLSID_ROOTS) / sizeof(CLSID_ROOTS[0]); r++) {
        char *key = wh_arena_printf(hh->a, "%s\\%s", CLSID_ROOTS[r], id);
        wh_regf_key k;
        if (!key || wh_regf_find(g, key, &k) != WH_OK) continue;
        p->found = true;
        p->hive = hive;
        p->clsid_key = key;
        p->clsid_written = k.written;
        char *sub = wh_arena_printf(hh->a, "%s\\InprocServer32", key);
        if (sub) {
            p->dll = hive_str(g, sub, "", hh->a);
            p->threading = hive_str(g, sub, "ThreadingModel", hh->a);
        }
        sub = wh_arena_printf(hh->a, "%s\\LocalServer32", key);
        if (sub) p->local_server = hive_str(g, sub, "", hh->a);
        return;
    }
}

static void from_hive(wh_hunt_host *hh, const char *path, hpv *pv)
{
    wh_diag_sink quiet = {0}; // said when the hive was read
    wh_diag_budget(&quiet, hh->hunt->o.file_seconds);
    wh_regf_opts o = {.size = sizeof(o), .max_memory = hh->hunt->o.max_memory};
    wh_regf *g = NULL;
    if (wh_regf_open(path, &o, &quiet, &g) != WH_OK) {
        wh_diagf(&hh->sink, WH_SEV_WARN, WH_E_IO, path, WH_NO_OFFSET,
                 "the SOFTWARE hive could not be opened again to look up provider CLSIDs");
        return;
    }
    // A hive without COM classes at all (cut short, or a fixture) cannot say
    // a CLSID is missing: its providers stay "not looked up".
    bool classes = false;
    for (size_t r = 0; r < sizeof(CLSID_ROOTS) / sizeof(CLSID_ROOTS[0]) && !classes; r++) {
        wh_regf_key k;
        classes = wh_regf_find(g, CLSID_ROOTS[r], &k) == WH_OK;
    }
    if (!classes) {
        wh_diagf(&hh->sink, WH_SEV_INFO, WH_E_NOTFOUND, path, WH_NO_OFFSET,
                 "no Classes\\CLSID key: the DLLs of WMI providers are not looked up in this hive");
        wh_regf_close(g);
        return;
    }
    for (size_t i = 0; i < pv->n; i++) {
        if (pv->v[i].found) continue; // an earlier hive knew it
        if (wh_diag_expired(&quiet, path, WH_NO_OFFSET)) {
            wh_diagf(&hh->sink, WH_SEV_ERROR, WH_E_LIMIT, path, WH_NO_OFFSET,
                     "the time budget (--time-budget) ran out looking up provider CLSIDs: %zu of %zu looked up",
                     i, pv->n);
            break;
        }
        resolve(hh, g, path, &pv->v[i]);
    }
    wh_regf_close(g);
}

/* ---- the record ---- */

/* s starts with pre (lower case), ASCII case-insensitive. */
static bool iprefix(const char *s, const char *pre)
{
    for (; *pre; s++, pre++) {
        char a = *s, b = *pre;
        if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
        if (a != b) return false; // pre is lower case; the NUL of a short s stops here
    }
    return true;
}

/* Under the Windows system folders, in any spelling Windows writes them:
 * %SystemRoot%, %windir%, \SystemRoot, or a drive's \Windows, then
 * System32, SysWOW64 or Sysnative (wbem lies below). A path that climbs
 * back out ("..") is not. */
static bool in_windows(const char *dll)
{
    while (*dll == ' ' || *dll == '"') dll++;
    if (strstr(dll, "..")) return false;
    static const char *const roots[] = {"%systemroot%\\", "%windir%\\", "\\systemroot\\", "%systemdrive%\\windows\\"};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]) && !rest; i++)
        if (iprefix(dll, roots[i])) rest = dll + strlen(roots[i]);
    if (!rest && ((dll[0] | 32) >= 'a' && (dll[0] | 32) <= 'z') && dll[1] == ':' && iprefix(dll + 2, "\\windows\\"))
        rest = dll + 11;
    return rest && (iprefix(rest, "system32\\") || iprefix(rest, "syswow64\\") || iprefix(rest, "sysnative\\"));
}

static void emit(wh_hunt_host *hh, const hprov *p)
{
    wh_recb b;
    wh_recb_start(&b, hh->a, "wmi.provider", p->objects, p->offset);
    wh_recb_str(&b, "namespace", p->ns);
    wh_recb_str(&b, "class", p->cls);
    wh_recb_str(&b, "name", p->name);
    wh_recb_str(&b, "clsid", p->clsid);
    wh_recb_str(&b, "hosting_model", p->hosting);
    wh_recb_str(&b, "dll", p->dll);
    wh_recb_str(&b, "threading_model", p->threading);
    wh_recb_str(&b, "local_server", p->local_server);
    wh_recb_add(&b, "dll_in_windows", p->dll ? wh_v_bool(in_windows(p->dll)) : wh_v_null());
    // null: not asked (no CLSID, no hive with COM classes, or time ran out)
    wh_recb_add(&b, "clsid_found", p->looked ? wh_v_bool(p->found) : wh_v_null());
    wh_recb_add(&b, "registered", p->written ? wh_v_time(p->written) : wh_v_null());
    wh_recb_add(&b, "clsid_written", p->clsid_written ? wh_v_time(p->clsid_written) : wh_v_null());
    wh_recb_add(&b, "namespace_subscriptions", wh_v_uint(p->ns_subs));
    wh_recb_str(&b, "assembly_name", p->asm_name);
    wh_recb_str(&b, "assembly_path", p->asm_path);
    wh_recb_str(&b, "repository", p->repo);
    wh_recb_str(&b, "hive", p->hive);
    wh_recb_str(&b, "clsid_key", p->clsid_key);
    if (p->written) wh_recb_ts(&b, p->written, "instance_written");
    if (p->clsid_written) wh_recb_ts(&b, p->clsid_written, "clsid_key_written");
    b.rec.summary = wh_arena_printf(hh->a, "WMI provider %s in %s: CLSID %s -> %s", p->name ? p->name : "?", p->ns,
                                    p->clsid ? p->clsid : "none",
                                    p->dll            ? p->dll
                                    : p->local_server ? p->local_server
                                    : p->looked       ? "no COM server in the hive"
                                                      : "not looked up in a SOFTWARE hive");
    const wh_record *r = wh_recb_done(&b);
    if (r) (void)hc_on_record(hh, r);
}

void hp_providers(wh_hunt_host *hh)
{
    if (!hh->provs) return;
    hpv pv = *hh->provs;
    if (pv.capped)
        wh_diagf(&hh->sink, WH_SEV_WARN, WH_E_LIMIT, hh->path, WH_NO_OFFSET,
                 "more than %d WMI provider registrations: only the first %d are listed", HP_MAX, HP_MAX);
    if (!pv.n) return;
    size_t nhives = 0;
    for (size_t i = 0; i < hh->softwares.n; i++)
        if (hh->softwares.v[i]) {
            from_hive(hh, hh->softwares.v[i], &pv);
            nhives++;
        }
    if (!nhives)
        wh_diagf(&hh->sink, WH_SEV_INFO, WH_E_NOTFOUND, hh->path, WH_NO_OFFSET,
                 "no SOFTWARE hive was read: %zu WMI provider(s) listed without the DLL their CLSID names", pv.n);
    for (size_t i = 0; i < pv.n; i++) emit(hh, &pv.v[i]);
}
