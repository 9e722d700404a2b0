/* The host's name from the SYSTEM hive beside a SOFTWARE hive: the name the
 * machine gives itself, before the event logs' Computer field or the
 * folder's name. Read with the public regf API only.
 *
 * The SYSTEM hive is optional evidence, read for nothing but the name. What
 * its reader says goes on as notes (info); when a SYSTEM hive is there but
 * gives no name (unreadable, damaged, or without the keys), one warning
 * says so, for the host is then named by weaker evidence. A missing SYSTEM
 * hive is a note only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "hunt/hunt_int.h"
#include "wmihunt/regf.h"

/* Longest name taken from the hive: a DNS name is at most 253 bytes. */
#define HN_MAX 255

/* ---- the reader's diagnostics, as notes on the caller's sink ---- */

static void as_note(void *ud, const wh_diag *d)
{
    wh_diagf(ud, WH_SEV_INFO, d->code, d->source, d->offset, "%s", d->msg);
}

/* ---- keys and values by name ---- */

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

typedef struct subfind {
    const char *name;
    wh_regf_key key;
    bool found;
} subfind;

static int on_subkey(void *ud, const wh_regf_key *k)
{
    subfind *f = ud;
    if (!name_is(k->name, k->name_len, f->name)) return 0;
    f->key = *k; // its name points into scratch memory; only the offsets are used later
    f->found = true;
    return 1;
}

/* The direct subkey of k named name (any case). */
static bool subkey(wh_regf *g, const wh_regf_key *k, const char *name, wh_regf_key *out)
{
    subfind f = {.name = name};
    (void)wh_regf_subkeys(g, k, on_subkey, &f);
    if (f.found) *out = f.key;
    return f.found;
}

/* The key at a backslash-separated path below k. */
static bool path_key(wh_regf *g, const wh_regf_key *k, const char *path, wh_regf_key *out)
{
    wh_regf_key cur = *k;
    char part[64];
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, "\\");
        if (n == 0 || n >= sizeof(part)) return false;
        memcpy(part, p, n);
        part[n] = 0;
        if (!subkey(g, &cur, part, &cur)) return false;
        p += n;
        if (*p == '\\') p++;
    }
    *out = cur;
    return true;
}

typedef struct valfind {
    const char *name;
    wh_arena *a;
    const char *str; /* REG_SZ / REG_EXPAND_SZ, copied into a */
    uint32_t dword;
    bool found, is_dword;
    wh_regf *g;
} valfind;

static int on_value(void *ud, const wh_regf_value *v)
{
    valfind *f = ud;
    if (!name_is(v->name, v->name_len, f->name)) return 0;
    if ((v->type == WH_REG_DWORD || v->type == WH_REG_BINARY) && v->data && v->size >= 4) {
        f->dword = (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 |
                   (uint32_t)v->data[3] << 24;
        f->is_dword = f->found = true;
    } else if ((v->type == WH_REG_SZ || v->type == WH_REG_EXPAND_SZ) && v->data && f->a) {
        size_t len = 0;
        bool lossy = false;
        const char *s = wh_regf_value_str(f->g, v, &len, &lossy);
        // A name to print and compare: no control characters, no broken
        // UTF-16, not absurdly long.
        bool ok = s && len > 0 && len <= HN_MAX && !lossy;
        for (size_t i = 0; ok && i < len; i++) ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
        if (ok && (f->str = wh_arena_strndup(f->a, s, len))) f->found = true;
    }
    return 1; // the first value of that name decides
}

static bool value_str(wh_regf *g, const wh_regf_key *k, const char *name, wh_arena *a, const char **out)
{
    valfind f = {.name = name, .a = a, .g = g};
    (void)wh_regf_values(g, k, on_value, &f);
    if (!f.found || f.is_dword) return false;
    *out = f.str;
    return true;
}

static bool value_dword(wh_regf *g, const wh_regf_key *k, const char *name, uint32_t *out)
{
    valfind f = {.name = name, .g = g};
    (void)wh_regf_values(g, k, on_value, &f);
    if (!f.found || !f.is_dword) return false;
    *out = f.dword;
    return true;
}

/* ---- the name ---- */

/* The name in an open SYSTEM hive, or NULL with *why set. */
static const char *name_in(wh_regf *g, wh_arena *a, const char **why)
{
    wh_regf_key root, sel, cs, k;
    uint32_t n = 0;
    if (wh_regf_root(g, &root) != WH_OK) {
        *why = "its root key cannot be read";
        return NULL;
    }
    if (!subkey(g, &root, "Select", &sel)) {
        *why = "it has no Select key (is it a SYSTEM hive?)";
        return NULL;
    }
    // Current is the set the machine last booted with; Default when that is gone.
    if ((!value_dword(g, &sel, "Current", &n) || n == 0 || n > 999) &&
        (!value_dword(g, &sel, "Default", &n) || n == 0 || n > 999)) {
        *why = "Select has no usable Current value";
        return NULL;
    }
    char set[16];
    snprintf(set, sizeof(set), "ControlSet%03u", (unsigned)n);
    if (!subkey(g, &root, set, &cs)) {
        *why = "the control set Select\\Current names is not there";
        return NULL;
    }
    const char *host = NULL, *domain = NULL, *computer = NULL;
    if (path_key(g, &cs, "Services\\Tcpip\\Parameters", &k) && value_str(g, &k, "Hostname", a, &host) &&
        value_str(g, &k, "Domain", a, &domain))
        return wh_arena_printf(a, "%s.%s", host, domain);
    if (path_key(g, &cs, "Control\\ComputerName\\ComputerName", &k) && value_str(g, &k, "ComputerName", a, &computer))
        return computer;
    *why = "neither Control\\ComputerName\\ComputerName nor Services\\Tcpip\\Parameters names the host";
    return NULL;
}

const char *hh_system_computer_name(const char *software_path, wh_arena *a, size_t max_memory, wh_diag_sink *diags,
                                    char **system_path_out)
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
        name = name_in(g, a, &why);
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
