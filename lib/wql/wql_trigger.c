/* The trigger in words: which kind of event the filter waits for, said as
 * one short sentence. Only conditions that must hold (not negated, not one
 * side of an OR, except where an OR lists alternatives of one property)
 * are put into words; anything the sentence cannot say exactly falls back
 * to the generic "when an instance of X is created (checked every N s)". */
#include <stdio.h>
#include <string.h>

#include "core/sbuf.h"
#include "wql/wql_int.h"

typedef enum verb { V_NONE = 0, V_CREATE, V_MODIFY, V_DELETE, V_ANY } verb;

typedef struct desc {
    wh_wql *w;
    wh_sbuf b;
    verb vb;
    const char *target; // the ISA class of an intrinsic event, else the event class
} desc;

static const char *const KIND_NAMES[WH_WQL_KIND_COUNT] = {"other",        "timer",    "uptime",   "process_start",
                                                          "process_stop", "logon",    "shutdown", "volume",
                                                          "service",      "registry", "file",     "eventlog"};

const char *wh_wql_kind_name(wh_wql_kind kind)
{
    return (unsigned)kind < WH_WQL_KIND_COUNT ? KIND_NAMES[kind] : "other";
}

static verb intrinsic(const char *ec)
{
    if (wql_ieq(ec, "__InstanceCreationEvent")) return V_CREATE;
    if (wql_ieq(ec, "__InstanceModificationEvent")) return V_MODIFY;
    if (wql_ieq(ec, "__InstanceDeletionEvent")) return V_DELETE;
    if (wql_ieq(ec, "__InstanceOperationEvent")) return V_ANY;
    return V_NONE;
}

static bool is_any(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (wql_ieq(s, *list)) return true;
    return false;
}

// The property a comparison tests on the event's object: "TargetInstance.X"
// and a bare "X" (extrinsic events) both give "X"; other paths give NULL.
static const char *own_prop(const char *p)
{
    static const char ti[] = "TargetInstance.";
    size_t n = sizeof(ti) - 1;
    if (strlen(p) > n) {
        bool same = true;
        for (size_t i = 0; i < n && same; i++) {
            char c = p[i];
            if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            char d = ti[i];
            if (d >= 'A' && d <= 'Z') d = (char)(d + 32);
            same = c == d;
        }
        if (same) return strchr(p + n, '.') ? NULL : p + n;
    }
    return strchr(p, '.') ? NULL : p;
}

static bool prop_is(const wh_wql_cmp *c, const char *name)
{
    const char *p = own_prop(c->prop);
    return p && wql_ieq(p, name);
}

// The value of the one comparison "name op v" that must hold, or NULL.
static const wh_wql_cmp *must(const wh_wql *w, const char *name, wh_wql_op op)
{
    for (size_t i = 0; i < w->ncmp; i++) {
        const wh_wql_cmp *c = &w->cmps[i];
        if (c->op == op && !c->negated && !c->in_or && !c->having && prop_is(c, name)) return c;
    }
    return NULL;
}

// Every "name = v" that is not negated (alternatives joined by OR included).
static size_t alternatives(const wh_wql *w, const char *name, wh_wql_op op, const wh_wql_cmp **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < w->ncmp && n < max; i++) {
        const wh_wql_cmp *c = &w->cmps[i];
        if (c->op == op && !c->negated && !c->having && c->type != WH_WQL_V_PROP && prop_is(c, name)) out[n++] = c;
    }
    return n;
}

// v is a whole number in [lo, hi] (the range is checked before any cast:
// converting an out-of-range double is undefined)
static bool whole(double v, double lo, double hi) { return v >= lo && v <= hi && v == (double)(long long)v; }

static void num(wh_sbuf *b, double v)
{
    if (whole(v, -1e15, 1e15))
        wh_sbuf_printf(b, "%lld", (long long)v);
    else
        wh_sbuf_printf(b, "%g", v);
}

static void checked_every(desc *d)
{
    if (d->w->within < 0) return;
    wh_sbuf_puts(&d->b, " (checked every ");
    num(&d->b, d->w->within);
    wh_sbuf_puts(&d->b, " s)");
}

static const char *verb_word(verb v)
{
    switch (v) {
    case V_CREATE: return "created";
    case V_MODIFY: return "modified";
    case V_DELETE: return "deleted";
    default: return "created, modified or deleted";
    }
}

// "a", "a or b", "a, b or c"; at most 6, then "or N more"
static void join(wh_sbuf *b, const wh_wql_cmp **v, size_t n, bool quote)
{
    size_t shown = n > 6 ? 6 : n;
    for (size_t i = 0; i < shown; i++) {
        if (i) wh_sbuf_puts(b, i + 1 == shown && shown == n ? " or " : ", ");
        wh_sbuf_printf(b, quote ? "'%s'" : "%s", v[i]->value);
    }
    if (shown < n) wh_sbuf_printf(b, " or %zu more", n - shown);
}

static void generic(desc *d)
{
    wh_wql *w = d->w;
    if (d->vb != V_NONE) {
        if (!w->isa.n) {
            wh_sbuf_printf(&d->b, "when any instance is %s", verb_word(d->vb));
        } else {
            wh_sbuf_puts(&d->b, "when an instance of ");
            for (size_t i = 0; i < w->isa.n && i < 6; i++) {
                if (i) wh_sbuf_puts(&d->b, i + 1 == w->isa.n ? " or " : ", ");
                wh_sbuf_puts(&d->b, (const char *)w->isa.v[i]);
            }
            if (w->isa.n > 6) wh_sbuf_printf(&d->b, " or %zu more", w->isa.n - 6);
            wh_sbuf_printf(&d->b, " is %s", verb_word(d->vb));
        }
    } else {
        wh_sbuf_printf(&d->b, "when a %s event occurs", w->event_class);
    }
    checked_every(d);
}

/* ---- timers and clocks ---- */

static void every(wh_sbuf *b, double s)
{
    static const struct {
        double unit;
        const char *one, *many;
    } U[] = {{86400, "day", "days"}, {3600, "hour", "hours"}, {60, "minute", "minutes"}, {1, "second", "s"}};
    for (size_t i = 0; i < sizeof(U) / sizeof(U[0]); i++) {
        double k = s / U[i].unit;
        if (!whole(k, 1, 1e15)) continue;
        if (k == 1)
            wh_sbuf_printf(b, "every %s", U[i].one);
        else
            wh_sbuf_printf(b, "every %lld %s", (long long)k, U[i].many);
        return;
    }
    wh_sbuf_puts(b, "every ");
    num(b, s);
    wh_sbuf_puts(b, " s");
}

static void timer_event(desc *d)
{
    wh_wql *w = d->w;
    const wh_wql_cmp *id = must(w, "TimerID", WH_WQL_EQ);
    if (id) w->timer_id = id->value;
    if (id)
        wh_sbuf_printf(&d->b, "when timer '%s' fires (its interval or time is in the repository)", id->value);
    else
        wh_sbuf_puts(&d->b, "when any WMI timer fires");
}

// An integral clock field in [lo, hi] that must hold, else -1 (absent) or
// -2 (present in a form the sentence cannot say).
static long clock_field(const wh_wql *w, const char *name, long lo, long hi)
{
    long v = -1;
    for (size_t i = 0; i < w->ncmp; i++) {
        const wh_wql_cmp *c = &w->cmps[i];
        if (c->having || !prop_is(c, name)) continue;
        if (c->op != WH_WQL_EQ || c->negated || c->in_or || c->type != WH_WQL_V_NUMBER) return -2;
        if (!whole(c->num, (double)lo, (double)hi) || v >= 0) return -2;
        v = (long)c->num;
    }
    return v;
}

/* DayOfWeek as a set of days: one "= n", or an OR of "= n" when the ORs of
 * the query are all of that kind ("Monday to Friday"). Bit n for day n;
 * 0 when absent, -1 in a form the sentence cannot say. */
static long day_set(const wh_wql *w)
{
    long mask = 0;
    for (size_t i = 0; i < w->ncmp; i++) {
        const wh_wql_cmp *c = &w->cmps[i];
        if (c->having) continue;
        if (!prop_is(c, "DayOfWeek")) {
            if (c->in_or) return -1; // another OR: not only days
            continue;
        }
        if (c->op != WH_WQL_EQ || c->negated || c->type != WH_WQL_V_NUMBER || !whole(c->num, 0, 6)) return -1;
        mask |= 1L << (long)c->num;
    }
    return mask;
}

static void clock_time(desc *d, bool utc)
{
    static const char *const DAYS[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    static const char *const MONTHS[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    wh_wql *w = d->w;
    long h = clock_field(w, "Hour", 0, 23), m = clock_field(w, "Minute", 0, 59);
    long s = clock_field(w, "Second", 0, 59), dow = clock_field(w, "DayOfWeek", 0, 6);
    long days = day_set(w);
    if (dow == -2 && days > 0) dow = -3; // several days, said below
    long day = clock_field(w, "Day", 1, 31), mon = clock_field(w, "Month", 1, 12);
    long year = clock_field(w, "Year", 1601, 30827);
    if (h == -2 || m == -2 || s == -2 || dow == -2 || day == -2 || mon == -2 || year == -2 || days < 0) {
        wh_sbuf_printf(&d->b, "when the %s clock changes (conditions on its fields; see the query)",
                       utc ? "UTC" : "local");
        return;
    }
    wh_sbuf *b = &d->b;
    // which days
    char when[64];
    if (year >= 0 && mon >= 0 && day >= 0)
        snprintf(when, sizeof(when), "on %04ld-%02ld-%02ld", year, mon, day);
    else if (mon >= 0 && day >= 0)
        snprintf(when, sizeof(when), "every year on %s %ld", MONTHS[mon - 1], day);
    else if (day >= 0)
        snprintf(when, sizeof(when), "on day %ld of every month", day);
    else if (dow >= 0)
        snprintf(when, sizeof(when), "every %s", DAYS[dow]);
    else if (dow == -3 && days == 0x3e) // bits 1..5
        snprintf(when, sizeof(when), "every Monday to Friday");
    else if (dow == -3 && days == 0x41)
        snprintf(when, sizeof(when), "every Saturday and Sunday");
    else if (dow == -3) {
        size_t k = (size_t)snprintf(when, sizeof(when), "every");
        for (int i = 0; i < 7 && k < sizeof(when); i++)
            if (days & (1L << i)) k += (size_t)snprintf(when + k, sizeof(when) - k, "%s%s", k > 5 ? ", " : " ", DAYS[i]);
    }
    else
        snprintf(when, sizeof(when), "every day");
    bool daily = year < 0 && mon < 0 && day < 0 && dow == -1;
    if (h >= 0 && m >= 0) {
        wh_sbuf_printf(b, "%s at %02ld:%02ld", when, h, m);
        if (s >= 0) wh_sbuf_printf(b, ":%02ld", s);
    } else if (h >= 0) {
        wh_sbuf_printf(b, "%s, every minute from %02ld:00 to %02ld:59", when, h, h);
        if (s >= 0) wh_sbuf_printf(b, " at second %ld", s);
    } else if (m >= 0) {
        wh_sbuf_printf(b, "every hour at minute %ld", m);
        if (s >= 0) wh_sbuf_printf(b, ", second %ld", s);
        if (!daily) wh_sbuf_printf(b, ", %s", when);
    } else if (s >= 0) {
        wh_sbuf_printf(b, "every minute at second %ld", s);
        if (!daily) wh_sbuf_printf(b, ", %s", when);
    } else if (!daily) {
        wh_sbuf_printf(b, "%s, at every check all day", when);
    } else {
        wh_sbuf_puts(b, "at every check of the clock");
        checked_every(d);
        return;
    }
    if (utc) wh_sbuf_puts(b, " UTC");
}

/* ---- uptime ---- */

static void minutes_after_boot(wh_sbuf *b, double lo, double hi)
{
    // callers pass 0 <= lo < hi; a window past a year is said in minutes too
    if (hi > 1e9) hi = 1e9;
    if (lo > hi) lo = hi;
    long lm = (long)(lo / 60 + 0.5), hm = (long)(hi / 60 + 0.5);
    if (hm == 0)
        wh_sbuf_puts(b, " (right after each boot)");
    else if (lm == hm)
        wh_sbuf_printf(b, " (about %ld minute%s after each boot)", lm, lm == 1 ? "" : "s");
    else if (lm == 0)
        wh_sbuf_printf(b, " (in the first %ld minute%s after each boot)", hm, hm == 1 ? "" : "s");
    else
        wh_sbuf_printf(b, " (about %ld-%ld minutes after each boot)", lm, hm);
}

static void uptime(desc *d)
{
    wh_wql *w = d->w;
    const wh_wql_cmp *lo = must(w, "SystemUpTime", WH_WQL_GE), *hi = must(w, "SystemUpTime", WH_WQL_LT);
    if (!lo) lo = must(w, "SystemUpTime", WH_WQL_GT);
    if (!hi) hi = must(w, "SystemUpTime", WH_WQL_LE);
    if (lo && lo->type != WH_WQL_V_NUMBER) lo = NULL;
    if (hi && hi->type != WH_WQL_V_NUMBER) hi = NULL;
    wh_sbuf *b = &d->b;
    if (w->within >= 0) {
        wh_sbuf_puts(b, "every ");
        num(b, w->within);
        wh_sbuf_puts(b, " s: ");
    }
    if (lo && hi && lo->num < hi->num && lo->num >= 0) {
        wh_sbuf_puts(b, "when the system has been up between ");
        num(b, lo->num);
        wh_sbuf_puts(b, " and ");
        num(b, hi->num);
        wh_sbuf_puts(b, " s");
        minutes_after_boot(b, lo->num, hi->num);
    } else if (lo && hi) {
        wh_sbuf_puts(b, "when the system uptime is in an empty window (never fires)");
    } else if (lo) {
        wh_sbuf_puts(b, "when the system has been up at least ");
        num(b, lo->num);
        wh_sbuf_puts(b, " s (again at every check after that)");
    } else if (hi && hi->num > 0) {
        wh_sbuf_puts(b, "when the system has been up less than ");
        num(b, hi->num);
        wh_sbuf_puts(b, " s");
        minutes_after_boot(b, 0, hi->num);
    } else {
        wh_sbuf_puts(b, "whenever the system performance counters change (repeatedly)");
    }
}

/* ---- processes ---- */

static void process(desc *d, bool start, const char *name_prop)
{
    wh_wql *w = d->w;
    wh_sbuf *b = &d->b;
    const wh_wql_cmp *v[64];
    size_t n = alternatives(w, name_prop, WH_WQL_EQ, v, 64);
    if (!n) n = alternatives(w, "ExecutablePath", WH_WQL_EQ, v, 64);
    const char *ends = start ? "starts" : "exits";
    if (n) {
        wh_sbuf_puts(b, "when ");
        join(b, v, n, false);
        wh_sbuf_printf(b, " %s", ends);
        // which of them are analysis tools (each tool named once)
        const char *tools[8];
        size_t nt = 0;
        for (size_t i = 0; i < n && nt < 8; i++) {
            const char *t = wh_wql_analysis_tool(v[i]->value);
            if (!t) continue;
            bool seen = false;
            for (size_t k = 0; k < nt; k++)
                seen |= tools[k] == t;
            if (!seen) tools[nt++] = t;
        }
        if (nt) {
            w->tool = tools[0];
            wh_sbuf_puts(b, n == 1 ? " (an analysis tool: " : " (analysis tools: ");
            for (size_t k = 0; k < nt; k++)
                wh_sbuf_printf(b, "%s%s", k ? ", " : "", tools[k]);
            wh_sbuf_putc(b, ')');
        }
        return;
    }
    n = alternatives(w, name_prop, WH_WQL_LIKE, v, 64);
    if (n) {
        wh_sbuf_puts(b, "when a process named like ");
        join(b, v, n, true);
        wh_sbuf_printf(b, " %s", ends);
        return;
    }
    wh_sbuf_printf(b, "when any process %s", ends);
}

/* ---- logons, services, devices ---- */

static void logon(desc *d, bool logged_on_user)
{
    static const char *const TYPES[] = {NULL,
                                        NULL,
                                        "interactive",
                                        "network",
                                        "batch",
                                        "service",
                                        NULL,
                                        "unlock",
                                        "network cleartext",
                                        "new credentials",
                                        "remote interactive (RDP)",
                                        "cached interactive"};
    wh_sbuf *b = &d->b;
    if (d->vb == V_DELETE) {
        wh_sbuf_puts(b, "when a user logs off (a logon session ends)");
        return;
    }
    if (d->vb == V_MODIFY) {
        wh_sbuf_puts(b, "when a logon session changes");
        return;
    }
    wh_sbuf_puts(b, "when a user logs on");
    const wh_wql_cmp *t = logged_on_user ? NULL : must(d->w, "LogonType", WH_WQL_EQ);
    if (t && t->type == WH_WQL_V_NUMBER && whole(t->num, 0, 11) && TYPES[(int)t->num])
        wh_sbuf_printf(b, " (%s logon, type %d)", TYPES[(int)t->num], (int)t->num);
}

static void service(desc *d)
{
    wh_sbuf *b = &d->b;
    const wh_wql_cmp *name = must(d->w, "Name", WH_WQL_EQ);
    if (!name) name = must(d->w, "DisplayName", WH_WQL_EQ);
    if (name)
        wh_sbuf_printf(b, "when service '%s'", name->value);
    else
        wh_sbuf_puts(b, "when a service");
    const wh_wql_cmp *st = must(d->w, "State", WH_WQL_EQ);
    switch (d->vb) {
    case V_CREATE: wh_sbuf_puts(b, " is installed"); break;
    case V_DELETE: wh_sbuf_puts(b, " is removed"); break;
    case V_MODIFY:
        if (st && wql_ieq(st->value, "Stopped"))
            wh_sbuf_puts(b, " stops");
        else if (st && wql_ieq(st->value, "Running"))
            wh_sbuf_puts(b, " starts");
        else
            wh_sbuf_puts(b, " changes (started, stopped or reconfigured)");
        break;
    default: wh_sbuf_puts(b, " is installed, changed or removed"); break;
    }
}

static void device(desc *d, const char *noun)
{
    static const char *const V[] = {"", "is connected", "changes", "is removed", "is connected, changed or removed"};
    wh_sbuf_printf(&d->b, "when %s %s", noun, V[d->vb]);
    checked_every(d);
}

static void volume_event(desc *d, bool device_event)
{
    wh_sbuf *b = &d->b;
    const wh_wql_cmp *t = must(d->w, "EventType", WH_WQL_EQ);
    long type = t && t->type == WH_WQL_V_NUMBER && whole(t->num, 0, 100) ? (long)t->num : 0;
    const char *what = device_event ? "a device" : "a volume";
    const wh_wql_cmp *drive = device_event ? NULL : must(d->w, "DriveName", WH_WQL_EQ);
    if (type == 2)
        wh_sbuf_printf(b, "when %s is %s", what, device_event ? "connected" : "mounted");
    else if (type == 3)
        wh_sbuf_printf(b, "when %s is removed", what);
    else if (type == 1)
        wh_sbuf_printf(b, "when the %s configuration changes", device_event ? "device" : "volume");
    else if (type == 4)
        wh_sbuf_puts(b, "when the computer is docked or undocked");
    else
        wh_sbuf_printf(b, "when %s is added or removed", what);
    if (drive && type != 1 && type != 4) wh_sbuf_printf(b, " as drive %s", drive->value);
    if (type == 2) wh_sbuf_puts(b, " (e.g. a USB drive plugged in)");
}

/* ---- registry, files, event logs ---- */

static void registry(desc *d)
{
    wh_wql *w = d->w;
    wh_sbuf *b = &d->b;
    const char *ec = w->event_class;
    const wh_wql_cmp *hive = must(w, "Hive", WH_WQL_EQ), *key = must(w, "KeyPath", WH_WQL_EQ);
    const wh_wql_cmp *root = must(w, "RootPath", WH_WQL_EQ), *val = must(w, "ValueName", WH_WQL_EQ);
    if (!key) key = root;
    if (!hive) {
        wh_sbuf_puts(b, "when the registry changes (no hive named)");
        return;
    }
    bool value = wql_ieq(ec, "RegistryValueChangeEvent") && val;
    if (value)
        wh_sbuf_puts(b, "when registry value ");
    else if (wql_ieq(ec, "RegistryValueChangeEvent") || wql_ieq(ec, "RegistryKeyChangeEvent"))
        wh_sbuf_puts(b, "when a value of registry key ");
    else
        wh_sbuf_puts(b, "when anything under registry key ");
    wh_sbuf_puts(b, hive->value);
    if (key && key->value[0]) wh_sbuf_printf(b, "\\%s", key->value);
    if (value) wh_sbuf_printf(b, "\\%s", val->value);
    wh_sbuf_puts(b, " changes");
}

// GroupComponent is an object path: Win32_Directory.Name="C:\\Temp", with
// the backslashes of the path doubled once more; said as folder C:\Temp.
static void folder_path(wh_sbuf *b, const char *v)
{
    const char *eq = strchr(v, '=');
    size_t n = eq ? strlen(eq + 1) : 0;
    if (!eq || n < 2 || eq[1] != '"' || eq[n] != '"') {
        wh_sbuf_puts(b, v);
        return;
    }
    wh_sbuf_puts(b, "folder ");
    for (const char *p = eq + 2; p < eq + n; p++) {
        if (*p == '\\' && p + 1 < eq + n && p[1] == '\\') p++;
        wh_sbuf_putc(b, *p);
    }
}

static void file(desc *d, bool dir_contains, bool folder)
{
    wh_wql *w = d->w;
    wh_sbuf *b = &d->b;
    const char *what = verb_word(d->vb);
    if (dir_contains) {
        const wh_wql_cmp *g[8];
        size_t n = alternatives(w, "GroupComponent", WH_WQL_EQ, g, 8);
        const char *act = d->vb == V_CREATE ? "added to" : d->vb == V_DELETE ? "removed from" : "changed in";
        wh_sbuf_printf(b, "when a file is %s ", act);
        if (!n) wh_sbuf_puts(b, "any folder");
        for (size_t i = 0; i < n; i++) {
            if (i) wh_sbuf_puts(b, i + 1 == n ? " or " : ", ");
            folder_path(b, g[i]->value);
        }
        checked_every(d);
        return;
    }
    const char *noun = folder ? "folder" : "file";
    const wh_wql_cmp *name = must(w, "Name", WH_WQL_EQ);
    const wh_wql_cmp *drive = must(w, "Drive", WH_WQL_EQ), *path = must(w, "Path", WH_WQL_EQ);
    const wh_wql_cmp *fname = must(w, "FileName", WH_WQL_EQ), *ext = must(w, "Extension", WH_WQL_EQ);
    if (name) {
        wh_sbuf_printf(b, "when %s %s is %s", noun, name->value, what);
    } else if (fname || ext || drive || path) {
        wh_sbuf_puts(b, "when a ");
        if (ext && !fname) wh_sbuf_printf(b, ".%s ", ext->value);
        wh_sbuf_puts(b, noun);
        if (fname) wh_sbuf_printf(b, " named %s%s%s", fname->value, ext ? "." : "", ext ? ext->value : "");
        if (drive || path) wh_sbuf_printf(b, " in %s%s", drive ? drive->value : "", path ? path->value : "");
        wh_sbuf_printf(b, " is %s", what);
    } else {
        wh_sbuf_printf(b, "when any %s is %s", noun, what);
    }
    checked_every(d);
}

static void eventlog(desc *d)
{
    wh_wql *w = d->w;
    wh_sbuf *b = &d->b;
    const wh_wql_cmp *v[64];
    size_t n = alternatives(w, "EventCode", WH_WQL_EQ, v, 64);
    if (!n) n = alternatives(w, "EventIdentifier", WH_WQL_EQ, v, 64);
    const wh_wql_cmp *log = must(w, "Logfile", WH_WQL_EQ), *src = must(w, "SourceName", WH_WQL_EQ);
    if (d->vb != V_CREATE && d->vb != V_ANY) {
        generic(d);
        return;
    }
    if (n) {
        wh_sbuf_printf(b, "when event%s ", n > 1 ? "s" : "");
        join(b, v, n, false);
    } else {
        wh_sbuf_puts(b, "when any event");
    }
    if (src) wh_sbuf_printf(b, " from source '%s'", src->value);
    const wh_wql_cmp *msg = must(w, "Message", WH_WQL_LIKE);
    if (msg) wh_sbuf_printf(b, " with a message like '%s'", msg->value);
    const char *is = n > 1 ? "are" : "is";
    if (log)
        wh_sbuf_printf(b, " %s written to the %s log", is, log->value);
    else
        wh_sbuf_printf(b, " %s written to an event log", is);
}

/* ---- dispatch ---- */

static const char *const CLOCKS[] = {"Win32_LocalTime", "Win32_UTCTime", "Win32_CurrentTime", NULL};
static const char *const TIMERS[] = {"__IntervalTimerInstruction", "__AbsoluteTimerInstruction", "__TimerInstruction",
                                     NULL};
static const char *const PERF[] = {"Win32_PerfFormattedData_PerfOS_System", "Win32_PerfRawData_PerfOS_System", NULL};
static const char *const PROCS[] = {"Win32_Process", "CIM_Process", NULL};
static const char *const LOGONS[] = {"Win32_LogonSession", "Win32_LoggedOnUser", NULL};
static const char *const SERVICES[] = {"Win32_Service", "Win32_BaseService", NULL};
static const char *const REGS[] = {"RegistryKeyChangeEvent", "RegistryValueChangeEvent", "RegistryTreeChangeEvent",
                                   "RegistryEvent", NULL};
static const char *const FILES[] = {"CIM_DataFile", "CIM_LogicalFile", "Win32_ShortcutFile", NULL};
static const char *const DIRS[] = {"Win32_Directory", "CIM_Directory", NULL};

static const struct {
    const char *cls, *noun;
} DEVICES[] = {
    {"Win32_USBControllerDevice", "a USB device"},
    {"Win32_USBHub", "a USB hub"},
    {"Win32_DiskDrive", "a disk drive"},
    {"Win32_LogicalDisk", "a drive"},
    {"Win32_Volume", "a volume"},
    {"Win32_PnPEntity", "a Plug and Play device"},
    {"Win32_CDROMDrive", "a CD/DVD drive"},
};

static wh_wql_kind classify(desc *d)
{
    wh_wql *w = d->w;
    const char *ec = w->event_class, *t = d->target;
    if (wql_ieq(ec, "__TimerEvent")) return timer_event(d), WH_WQL_TIMER;
    if (!t) return generic(d), WH_WQL_OTHER;
    if (is_any(t, CLOCKS)) return clock_time(d, wql_ieq(t, "Win32_UTCTime")), WH_WQL_TIMER;
    if (is_any(t, TIMERS)) return generic(d), WH_WQL_TIMER;
    if (is_any(t, PERF)) return uptime(d), WH_WQL_UPTIME;
    if (wql_ieq(t, "Win32_ProcessStartTrace") || wql_ieq(t, "Win32_ProcessTrace"))
        return process(d, true, "ProcessName"), WH_WQL_PROCESS_START;
    if (wql_ieq(t, "Win32_ProcessStopTrace")) return process(d, false, "ProcessName"), WH_WQL_PROCESS_STOP;
    if (is_any(t, PROCS) && d->vb == V_CREATE) return process(d, true, "Name"), WH_WQL_PROCESS_START;
    if (is_any(t, PROCS) && d->vb == V_DELETE) return process(d, false, "Name"), WH_WQL_PROCESS_STOP;
    if (is_any(t, LOGONS) && d->vb != V_NONE) return logon(d, wql_ieq(t, "Win32_LoggedOnUser")), WH_WQL_LOGON;
    if (wql_ieq(t, "Win32_ComputerShutdownEvent")) {
        wh_sbuf_puts(&d->b, "when the computer shuts down, restarts or the user logs off");
        return WH_WQL_SHUTDOWN;
    }
    if (wql_ieq(t, "MSFT_SCMEventLogEvent")) {
        wh_sbuf_puts(&d->b, "when the Service Control Manager reports a service event (as Windows' own "
                            "SCM Event Log Filter)");
        return WH_WQL_SERVICE;
    }
    if (is_any(t, SERVICES) && d->vb != V_NONE) return service(d), WH_WQL_SERVICE;
    if (wql_ieq(t, "Win32_VolumeChangeEvent")) return volume_event(d, false), WH_WQL_VOLUME;
    if (wql_ieq(t, "Win32_DeviceChangeEvent")) return volume_event(d, true), WH_WQL_VOLUME;
    if (d->vb != V_NONE) {
        for (size_t i = 0; i < sizeof(DEVICES) / sizeof(DEVICES[0]); i++) {
            if (!wql_ieq(t, DEVICES[i].cls)) continue;
            const char *noun = DEVICES[i].noun;
            const wh_wql_cmp *c;
            // DriveType 2 is a removable disk (Win32_LogicalDisk docs)
            if (wql_ieq(t, "Win32_LogicalDisk") && (c = must(w, "DriveType", WH_WQL_EQ)) && c->num == 2)
                noun = "a removable drive";
            if (wql_ieq(t, "Win32_DiskDrive") && (c = must(w, "InterfaceType", WH_WQL_EQ)) && wql_ieq(c->value, "USB"))
                noun = "a USB disk";
            return device(d, noun), WH_WQL_VOLUME;
        }
    }
    if (is_any(t, REGS)) return registry(d), WH_WQL_REGISTRY;
    if (d->vb != V_NONE && wql_ieq(t, "CIM_DirectoryContainsFile")) return file(d, true, false), WH_WQL_FILE;
    if (d->vb != V_NONE && is_any(t, FILES)) return file(d, false, false), WH_WQL_FILE;
    if (d->vb != V_NONE && is_any(t, DIRS)) return file(d, false, true), WH_WQL_FILE;
    if (d->vb != V_NONE && wql_ieq(t, "Win32_NTLogEvent")) return eventlog(d), WH_WQL_EVENTLOG;
    return generic(d), WH_WQL_OTHER;
}

bool wql_describe(wh_wql *w)
{
    desc d = {.w = w};
    d.vb = intrinsic(w->event_class);
    d.target = d.vb != V_NONE ? (w->isa.n ? (const char *)w->isa.v[0] : NULL) : w->event_class;
    // ISA classes that are alternatives (OR) of another class: say them
    // all, generically; ISA joined by AND narrows, so the first one stands
    for (size_t i = 0; d.vb != V_NONE && d.target && i < w->ncmp; i++) {
        const wh_wql_cmp *c = &w->cmps[i];
        if (c->op == WH_WQL_ISA && !c->negated && c->in_or && !wql_ieq(c->value, d.target)) d.target = "";
    }
    w->kind = classify(&d);
    // GROUP WITHIN n HAVING NumberOfEvents > k: a burst, not each event
    const wh_wql_cmp *many = NULL;
    for (size_t i = 0; i < w->ncmp && !many; i++)
        if (w->cmps[i].having && wql_ieq(w->cmps[i].prop, "NumberOfEvents") && w->cmps[i].type == WH_WQL_V_NUMBER &&
            (w->cmps[i].op == WH_WQL_GT || w->cmps[i].op == WH_WQL_GE) && !w->cmps[i].negated)
            many = &w->cmps[i];
    if (many && w->group_within >= 0) {
        wh_sbuf_printf(&d.b, ", %s ", many->op == WH_WQL_GT ? "more than" : "at least");
        num(&d.b, many->num);
        wh_sbuf_puts(&d.b, " times within ");
        num(&d.b, w->group_within);
        wh_sbuf_puts(&d.b, " s");
    }
    w->sentence = wh_arena_strndup(w->a, wh_sbuf_cstr(&d.b), d.b.n);
    bool ok = !d.b.oom && w->sentence;
    wh_sbuf_free(&d.b);
    return ok;
}

const char *wh_wql_timer_trigger(wh_wql *w, double interval_s, const char *absolute)
{
    if (!w || w->failed || w->kind != WH_WQL_TIMER || !wql_ieq(w->event_class, "__TimerEvent")) return NULL;
    const char *id = w->timer_id ? w->timer_id : "?";
    wh_sbuf b = {0};
    if (interval_s > 0) {
        every(&b, interval_s);
        wh_sbuf_printf(&b, " (interval timer '%s')", id);
    } else if (absolute) {
        wh_sbuf_printf(&b, "once, at %s (absolute timer '%s')", absolute, id);
    } else {
        wh_sbuf_puts(&b, w->sentence);
    }
    const char *s = b.oom ? NULL : wh_arena_strndup(w->a, wh_sbuf_cstr(&b), b.n);
    wh_sbuf_free(&b);
    return s;
}
