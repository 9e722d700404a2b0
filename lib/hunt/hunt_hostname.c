/* The host's name from the SYSTEM hive beside a SOFTWARE hive: the name the
 * machine gives itself, before the event logs' Computer field or the
 * folder's name. Read with the public regf API only.
 *
 * The SYSTEM hive is optional evidence, read for the name and for the few
 * values WMI classes read and write there (reg.system_value, below). What
 * its reader says goes on as notes (info); when a SYSTEM hive is there but
 * gives no name (unreadable, damaged, or without the keys), one warning
 * says so, for the host is then named by weaker evidence. A missing SYSTEM
 * hive is a note only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/recbuild.h"
#include "core/sbuf.h"
#include "hunt/hunt_int.h"
#include "wmihunt/regf.h"

/* Longest name taken from the hive: a DNS name is at most 253 bytes. */
#define HN_MAX 255

/* ---- the reader's diagnostics, as notes on the caller's sink ---- */

static void as_note(void *ud, const wh_diag *d)
{
    wh_diagf(ud, WH_SEV_INFO, d->code, d->source, d->offset, "%s", d->msg);
}

/* ---- keys and values by name (the regf reader's own lookups) ---- */

/* The key at set\rel (rel alone when set is NULL), any case. */
static bool key_at(wh_regf *g, const char *set, const char *rel, wh_regf_key *out)
{
    char path[256];
    int n = set ? snprintf(path, sizeof(path), "%s\\%s", set, rel) : snprintf(path, sizeof(path), "%s", rel);
    return n > 0 && (size_t)n < sizeof(path) && wh_regf_find(g, path, out) == WH_OK;
}

/* A value name (n bytes, not NUL-ended) equals want, any case. */
static bool name_is(const char *s, size_t n, const char *want)
{
    size_t w = strlen(want);
    if (!s || n != w) return false;
    for (size_t i = 0; i < n; i++) {
        char a = s[i], b = want[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
        if (a != b) return false;
    }
    return true;
}

/* A DWORD (or the first 4 bytes of a binary value) named name in k. */
static bool value_dword(wh_regf *g, const wh_regf_key *k, const char *name, uint32_t *out)
{
    wh_regf_value v;
    if (wh_regf_get_value(g, k, name, &v) != WH_OK) return false;
    if (!((v.type == WH_REG_DWORD || v.type == WH_REG_BINARY) && v.data && v.size >= 4)) return false;
    *out = (uint32_t)v.data[0] | (uint32_t)v.data[1] << 8 | (uint32_t)v.data[2] << 16 | (uint32_t)v.data[3] << 24;
    return true;
}

/* A string named name in k, copied into a: a name to print and compare (no
 * control characters, no broken UTF-16, not absurdly long). */
static bool value_str(wh_regf *g, const wh_regf_key *k, const char *name, wh_arena *a, const char **out)
{
    wh_regf_value v;
    if (wh_regf_get_value(g, k, name, &v) != WH_OK) return false;
    if (!((v.type == WH_REG_SZ || v.type == WH_REG_EXPAND_SZ) && v.data)) return false;
    size_t len = 0;
    bool lossy = false;
    const char *s = wh_regf_value_str(g, &v, &len, &lossy);
    bool ok = s && len > 0 && len <= HN_MAX && !lossy;
    for (size_t i = 0; ok && i < len; i++) ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    return ok && (*out = wh_arena_strndup(a, s, len)) != NULL;
}

/* ---- the control set and the name ---- */

/* The control set the machine last booted with (Select\Current; Default
 * when that is gone), or false with *why set. */
static bool control_set(wh_regf *g, char set[16], const char **why)
{
    wh_regf_key root, sel, cs;
    uint32_t n = 0;
    if (wh_regf_root(g, &root) != WH_OK) {
        *why = "its root key cannot be read";
        return false;
    }
    if (!key_at(g, NULL, "Select", &sel)) {
        *why = "it has no Select key (is it a SYSTEM hive?)";
        return false;
    }
    if ((!value_dword(g, &sel, "Current", &n) || n == 0 || n > 999) &&
        (!value_dword(g, &sel, "Default", &n) || n == 0 || n > 999)) {
        *why = "Select has no usable Current value";
        return false;
    }
    snprintf(set, 16, "ControlSet%03u", (unsigned)n);
    if (!key_at(g, NULL, set, &cs)) {
        *why = "the control set Select\\Current names is not there";
        return false;
    }
    return true;
}

/* The name in control set `set`, or NULL with *why set. */
static const char *name_in(wh_regf *g, const char *set, wh_arena *a, const char **why)
{
    wh_regf_key k;
    const char *host = NULL, *domain = NULL, *computer = NULL;
    if (key_at(g, set, "Services\\Tcpip\\Parameters", &k) && value_str(g, &k, "Hostname", a, &host) &&
        value_str(g, &k, "Domain", a, &domain))
        return wh_arena_printf(a, "%s.%s", host, domain);
    if (key_at(g, set, "Control\\ComputerName\\ComputerName", &k) && value_str(g, &k, "ComputerName", a, &computer))
        return computer;
    *why = "neither Control\\ComputerName\\ComputerName nor Services\\Tcpip\\Parameters names the host";
    return NULL;
}

/* ---- values WMI classes read and write: where tools hide data ----
 *
 * Win32_OSRecoveryConfiguration maps DebugFilePath to CrashControl\DumpFile
 * and MiniDumpDirectory to CrashControl\MiniDumpDir (its MappingStrings:
 * MicrosoftDocs/win32 desktop-src/CIMWin32Prov/win32-osrecoveryconfiguration.md
 * at 0f5c32f961152335e1589cf9e3b785324ce751fe); Win32_Environment's system
 * variables are Session Manager\Environment (win32-environment.md, same
 * repository at 3387bbf776ec62f3d8d96022e343cd28d6b5795e). WMImplant stores
 * command output and files in DebugFilePath as comma-separated character
 * codes, and its -ObfuscateWithEnvVar puts the PowerShell it runs in a
 * Win32_Environment variable (RedSiege/WMImplant WMImplant.ps1 at
 * 0ed3c3cba9c5e96d0947c3e73288d450ac8d8702); "Covert Data Storage" in
 * Ballenthin, Graeber, Teodorescu, "Windows Management Instrumentation (WMI)
 * Offense, Defense, and Forensics" (FireEye, 2015) describes the idea.
 * Every string value of the two keys is sent, so a rule sees a value a tool
 * added under another name too. User variables (NTUSER.DAT) are not read. */

#define SV_MAX_VALUES 512 /* per key: Windows has about 20 in each */

static const struct {
    const char *key, *wmi_class;
} SV_KEYS[] = {
    {"Control\\CrashControl", "Win32_OSRecoveryConfiguration"},
    {"Control\\Session Manager\\Environment", "Win32_Environment"},
};

typedef struct svrun {
    wh_regf *g;
    wh_arena *a;
    const char *src, *set, *key, *wmi_class;
    uint64_t written;
    unsigned n;
    bool capped;
    wh_record_fn fn;
    void *ud;
} svrun;

static const char *sv_property(const char *wmi_class, const char *name, size_t n)
{
    if (!strcmp(wmi_class, "Win32_Environment")) return "VariableValue"; // every value is a variable
    if (name_is(name, n, "DumpFile")) return "DebugFilePath";
    if (name_is(name, n, "MiniDumpDir")) return "MiniDumpDirectory";
    return NULL;
}

static int on_sysval(void *ud, const wh_regf_value *v)
{
    svrun *r = ud;
    if (v->type != WH_REG_SZ && v->type != WH_REG_EXPAND_SZ && v->type != WH_REG_MULTI_SZ) return 0;
    if (++r->n > SV_MAX_VALUES) {
        r->capped = true;
        return 1;
    }
    const char *data = NULL;
    size_t len = 0;
    bool lossy = false;
    if (v->data && v->type == WH_REG_MULTI_SZ) { // one entry a line, as a rule reads text
        const char **list = NULL;
        size_t k = wh_regf_value_multi(r->g, v, &list);
        wh_sbuf sb = {0};
        for (size_t i = 0; i < k; i++) {
            if (i) wh_sbuf_putc(&sb, '\n');
            wh_sbuf_puts(&sb, list[i]);
        }
        data = sb.oom ? NULL : wh_arena_strndup(r->a, sb.p ? sb.p : "", sb.n);
        len = sb.n;
        wh_sbuf_free(&sb);
    } else if (v->data) {
        const char *s = wh_regf_value_str(r->g, v, &len, &lossy);
        data = s ? wh_arena_strndup(r->a, s, len) : NULL;
    }
    char tb[24];
    const char *name = wh_arena_strndup(r->a, v->name, v->name_len);
    const char *prop = sv_property(r->wmi_class, v->name, v->name_len);
    wh_recb b;
    wh_recb_start(&b, r->a, "reg.system_value", r->src, v->abs_off);
    wh_recb_str(&b, "key", r->key);
    wh_recb_str(&b, "control_set", r->set);
    wh_recb_str(&b, "name", name);
    wh_recb_str(&b, "type", wh_arena_strdup(r->a, wh_regf_type_name(v->type, tb)));
    wh_recb_add(&b, "data", data ? (wh_value){.type = WH_V_STR, .as.str = {data, len, lossy}} : wh_v_null());
    wh_recb_add(&b, "length", data ? wh_v_uint(len) : wh_v_null());
    wh_recb_add(&b, "data_size", wh_v_uint(v->size));
    wh_recb_str(&b, "wmi_class", r->wmi_class);
    wh_recb_str(&b, "wmi_property", prop);
    wh_recb_add(&b, "key_written", r->written ? wh_v_time(r->written) : wh_v_null());
    if (r->written) wh_recb_ts(&b, r->written, "key_written");
    b.rec.summary = wh_arena_printf(r->a, "SYSTEM %s value %s (%s.%s), %zu bytes", r->key, name ? name : "?",
                                    r->wmi_class, prop ? prop : "?", len);
    const wh_record *rec = wh_recb_done(&b);
    return rec && r->fn(r->ud, rec) != 0;
}

/* reg.system_value for every string value of the keys above in set. */
static void system_values(wh_regf *g, const char *set, const char *src, wh_arena *a,
                          wh_diag_sink *diags, wh_record_fn fn, void *ud)
{
    for (size_t i = 0; i < sizeof(SV_KEYS) / sizeof(SV_KEYS[0]); i++) {
        wh_regf_key k;
        if (wh_diag_expired(diags, src, WH_NO_OFFSET)) return;
        if (!key_at(g, set, SV_KEYS[i].key, &k)) continue; // a hive without it has nothing there to hide
        svrun r = {.g = g, .a = a, .src = src, .set = set, .wmi_class = SV_KEYS[i].wmi_class,
                   .written = k.written, .fn = fn, .ud = ud};
        r.key = wh_arena_printf(a, "%s\\%s", set, SV_KEYS[i].key);
        if (!r.key) return;
        (void)wh_regf_values(g, &k, on_sysval, &r);
        if (r.capped)
            wh_diagf(diags, WH_SEV_WARN, WH_E_LIMIT, src, k.abs_off,
                     "%s holds more than %d string values: only the first %d were read", r.key, SV_MAX_VALUES,
                     SV_MAX_VALUES);
    }
}

const char *hh_system_computer_name(const char *software_path, wh_arena *a, size_t max_memory, wh_diag_sink *diags,
                                    char **system_path_out, wh_record_fn fn, void *ud)
{
    if (system_path_out) *system_path_out = NULL;
    if (!software_path || !a) return NULL;
    const char *slash = strrchr(software_path, '/');
    char *dir = slash ? wh_arena_strndup(a, software_path, slash == software_path ? 1 : (size_t)(slash - software_path))
                      : wh_arena_strdup(a, ".");
    char *sys = dir ? wh_find_icase(dir, "SYSTEM", false) : NULL;
    if (!sys) {
        wh_diagf(diags, WH_SEV_INFO, WH_E_NOTFOUND, software_path, WH_NO_OFFSET,
                 "no SYSTEM hive beside this SOFTWARE hive: the host is named from the event logs or the folder");
        return NULL;
    }
    // The reader's own diagnostics become notes; the caller's time budget holds.
    wh_diag_sink notes = {.fn = as_note, .ud = diags};
    if (diags) {
        notes.deadline_ns = diags->deadline_ns;
        notes.budget_s = diags->budget_s;
    }
    wh_regf_opts o = {.size = sizeof(o), .max_memory = max_memory};
    wh_regf *g = NULL;
    const char *name = NULL, *why = NULL;
    if (wh_regf_open(sys, &o, &notes, &g) != WH_OK) {
        why = "it cannot be read";
    } else {
        if (system_path_out) *system_path_out = wh_arena_strdup(a, sys);
        char set[16];
        if (control_set(g, set, &why)) {
            name = name_in(g, set, a, &why);
            const char *src = wh_arena_strdup(a, sys);
            if (fn && src) system_values(g, set, src, a, diags, fn, ud);
        }
        if (!name && !why) why = "out of memory";
        if (!name && wh_regf_get_info(g)->truncated) why = "the file is cut short";
        wh_regf_close(g);
    }
    bool more = notes.count[WH_SEV_WARN] || notes.count[WH_SEV_ERROR];
    if (!name)
        wh_diagf(diags, WH_SEV_WARN, WH_E_NOTFOUND, sys, WH_NO_OFFSET,
                 "SYSTEM hive gives no computer name: %s%s; the host is named from the event logs or the folder",
                 why, more ? " (-v shows what its reader found)" : "");
    else
        wh_diagf(diags, WH_SEV_INFO, WH_OK, sys, WH_NO_OFFSET, "computer name %s", name);
    free(sys);
    return name;
}
