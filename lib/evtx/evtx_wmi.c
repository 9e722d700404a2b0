/* The WMI evidence in event logs: which events matter and the fields an
 * analyst needs from each, as normalized records. See docs/output.md. */
#include <stdio.h>
#include <string.h>

#include "core/recbuild.h"
#include "core/text.h"
#include "evtx/evtx_int.h"

#define CH_WMI "Microsoft-Windows-WMI-Activity/Operational"
#define CH_SYSMON "Microsoft-Windows-Sysmon/Operational"
#define CH_SECURITY "Security"

static bool ieq(const char *a, const char *b) { return a && b && wh_strcasecmp(a, b) == 0; }

static bool is_powershell_channel(const char *ch)
{
    return ieq(ch, "Microsoft-Windows-PowerShell/Operational") || ieq(ch, "PowerShellCore/Operational") ||
           ieq(ch, "Windows PowerShell");
}

bool wh_evtx_wmi_candidate(const wh_evtx_event *ev)
{
    if (!ev->has_event_id) return false;
    uint32_t id = ev->event_id;
    if (ieq(ev->channel, CH_WMI)) return id >= 5857 && id <= 5861;
    if (ieq(ev->channel, CH_SYSMON)) return id == 1 || id == 19 || id == 20 || id == 21;
    // 4672 (special privileges at logon), 4648 (explicit credentials) and
    // 4662 (object access) are the context of WMI execution.
    if (ieq(ev->channel, CH_SECURITY)) return id == 4688 || id == 4672 || id == 4662 || id == 4648;
    if (is_powershell_channel(ev->channel)) return id == 4103 || id == 4104 || id == 800;
    return false;
}

/* Basename of a Windows path, compared without case. */
static const char *base(const char *p)
{
    const char *b = p;
    for (const char *s = p; *s; s++)
        if (*s == '\\' || *s == '/') b = s + 1;
    return b;
}

static const char *const WMI_BINARIES[] = {"wmic.exe", "wmiprvse.exe", "scrcons.exe", "mofcomp.exe", "wsmprovhost.exe"};

static const char *wmi_binary(const char *path)
{
    if (!path) return NULL;
    const char *b = base(path);
    for (size_t i = 0; i < sizeof(WMI_BINARIES) / sizeof(WMI_BINARIES[0]); i++)
        if (wh_strcasecmp(b, WMI_BINARIES[i]) == 0) return WMI_BINARIES[i];
    return NULL;
}

static const char *const WMI_WORDS[] = {
    "Invoke-WmiMethod", "Invoke-CimMethod", "Get-WmiObject", "Set-WmiInstance", "Register-WmiEvent",
    "Remove-WmiObject", "Get-CimInstance", "New-CimInstance", "Set-CimInstance", "Remove-CimInstance",
    "Register-CimIndicationEvent", "New-CimSession", "__EventFilter", "__EventConsumer", "__FilterToConsumerBinding",
    "CommandLineEventConsumer", "ActiveScriptEventConsumer", "[wmiclass]", "[wmi]", "Win32_Process"};

/* Case-insensitive substring search. */
static bool icontains(const char *h, size_t hn, const char *n)
{
    size_t nn = strlen(n);
    if (nn > hn) return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn) {
            char a = h[i + k], b = n[k];
            if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
            if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
            if (a != b) break;
            k++;
        }
        if (k == nn) return true;
    }
    return false;
}

typedef struct ex {
    ev_ctx *c;
    const ev_node *doc;
    wh_sbuf sb, tmp;
} ex;

/* A data field copied into the chunk arena; NULL when absent. */
static const char *field(ex *x, const char *name)
{
    wh_sbuf_reset(&x->sb);
    if (!ev_data(x->doc, name, &x->sb, &x->tmp)) return NULL;
    return wh_arena_strndup(x->c->arena, x->sb.p ? x->sb.p : "", x->sb.n);
}

typedef struct leafobj { wh_arena *a; wh_field *f; size_t n, cap; } leafobj;

static void add_leaf(void *ud, const char *name, const char *v, size_t n)
{
    leafobj *o = ud;
    wh_field *nf = wh_arena_grow(o->a, o->f, o->n, &o->cap, sizeof(*nf), 32);
    if (!nf) return;
    o->f = nf;
    wh_value val = {.type = WH_V_STR};
    val.as.str.s = wh_arena_strndup(o->a, v, n);
    val.as.str.len = n;
    o->f[o->n].name = wh_arena_strdup(o->a, name);
    o->f[o->n].v = val.as.str.s ? val : wh_v_null();
    if (o->f[o->n].name) o->n++;
}

static void common(ex *x, wh_recb *b, const wh_evtx_event *ev)
{
    wh_recb_add(b, "time", ev->time_created_ft ? wh_v_time(ev->time_created_ft) : wh_v_null());
    wh_recb_add(b, "event_id", wh_v_uint(ev->event_id));
    wh_recb_str(b, "channel", ev->channel);
    wh_recb_str(b, "provider", ev->provider);
    wh_recb_str(b, "computer", ev->computer);
    wh_recb_str(b, "user_sid", ev->user_sid);
    wh_recb_add(b, "event_record_id", ev->has_event_record_id ? wh_v_uint(ev->event_record_id) : wh_v_null());
    wh_recb_add(b, "record_id", wh_v_uint(ev->record_id));
    wh_recb_add(b, "recovered", wh_v_bool(ev->recovered));
    wh_recb_ts(b, ev->time_created_ft, "event_logged");
    (void)x;
}

/* Every leaf of EventData/UserData as one object field named key. */
static void all_data_as(ex *x, wh_recb *b, const char *key)
{
    leafobj o = {x->c->arena, NULL, 0, 0};
    ev_leaves(x->doc, add_leaf, &o, &x->sb, &x->tmp);
    wh_recb_add(b, key, wh_v_object(x->c->arena, o.f, o.n));
}

static void all_data(ex *x, wh_recb *b) { all_data_as(x, b, "data"); }

/* Sysmon 19-21 values look like ` "name"`, escaped inside. */
static const char *sysmon_norm(ex *x, const char *v)
{
    if (!v) return NULL;
    size_t n = strlen(v);
    while (n && *v == ' ') v++, n--;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') v++, n -= 2;
    char *o = wh_arena_alloc(x->c->arena, n + 1);
    if (!o) return v;
    size_t k = 0;
    // Inside, backslashes are doubled and quotes escaped: \\ and \".
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '\\' || v[i + 1] == '"')) i++;
        o[k++] = v[i];
    }
    o[k] = 0;
    return o;
}

/* "instance of CLASS\n{\n\tName = \"x\";\n...};" as written by WMI in
 * 5861's PossibleCause: class name and properties. */
static const char *mof_instance(ex *x, const char *text, const char *marker, wh_field *props, size_t *nprops,
                                size_t max)
{
    *nprops = 0;
    const char *p = strstr(text, marker);
    if (!p) return NULL;
    p = strstr(p, "instance of ");
    if (!p) return NULL;
    p += 12;
    const char *e = p;
    while (*e && *e != '\n' && *e != '\r' && *e != '{' && *e != ' ') e++;
    const char *cls = wh_arena_strndup(x->c->arena, p, (size_t)(e - p));
    const char *open = strchr(e, '{');
    if (!open) return cls;
    const char *q = open + 1;
    while (*q && *nprops < max) {
        while (*q == '\n' || *q == '\r' || *q == '\t' || *q == ' ') q++;
        if (*q == '}' || !*q) break;
        const char *k = q;
        while (*q && *q != '=' && *q != '\n') q++;
        if (*q != '=') break;
        const char *ke = q;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
        q++;
        while (*q == ' ') q++;
        wh_sbuf_reset(&x->sb);
        if (*q == '"') { // a MOF string: WMI writes control characters as \r \n \t ...
            q++;
            while (*q && *q != '"') {
                if (*q == '\\' && q[1]) {
                    q++;
                    char c = *q == 'n' ? '\n' : *q == 'r' ? '\r' : *q == 't' ? '\t' : *q == 'b' ? '\b'
                             : *q == 'f' ? '\f' : *q;
                    wh_sbuf_putc(&x->sb, c);
                    q++;
                    continue;
                }
                wh_sbuf_putc(&x->sb, *q++);
            }
            if (*q == '"') q++;
        } else {
            const char *vs = q;
            int depth = 0;
            while (*q && (depth || *q != ';')) {
                if (*q == '{') depth++;
                if (*q == '}') depth--;
                q++;
            }
            wh_sbuf_put(&x->sb, vs, (size_t)(q - vs));
        }
        while (*q && *q != ';' && *q != '\n') q++;
        if (*q == ';') q++;
        props[*nprops].name = wh_arena_strndup(x->c->arena, k, (size_t)(ke - k));
        props[*nprops].v = wh_v_str(wh_arena_strndup(x->c->arena, x->sb.p ? x->sb.p : "", x->sb.n));
        if (props[*nprops].name) (*nprops)++;
    }
    return cls;
}

static const char *prop_of(const wh_field *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (wh_strcasecmp(f[i].name, name) == 0 && f[i].v.type == WH_V_STR) return f[i].v.as.str.s;
    return NULL;
}

/* 1: a record went out; -1: the consumer said stop; 0: none (no memory). */
static int emit(wh_recb *b, wh_record_fn fn, void *ud)
{
    const wh_record *r = wh_recb_done(b);
    if (!r) return 0;
    return fn(ud, r) ? -1 : 1;
}

static int wmi_activity(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.wmi_activity", src, ev->offset);
    common(x, &b, ev);
    const char *ns = field(x, "Namespace");
    if (!ns) ns = field(x, "NamespaceName");
    wh_recb_str(&b, "namespace", ns);
    const char *op = field(x, "Operation");
    wh_recb_str(&b, "operation", op);
    const char *cause = field(x, "PossibleCause");
    wh_recb_str(&b, "possible_cause", cause);
    const char *summary = NULL;
    if (ev->event_id == 5861) {
        const char *ess = field(x, "ESS"), *cons = field(x, "CONSUMER");
        wh_recb_str(&b, "filter_name", ess);
        wh_recb_str(&b, "consumer", cons);
        wh_field fp[64], cp[64];
        size_t nf = 0, nc = 0;
        if (cause) {
            mof_instance(x, cause, "EventFilter", fp, &nf, 64);
            const char *ccls = mof_instance(x, cause, "Consumer:", cp, &nc, 64);
            wh_recb_str(&b, "filter_query", prop_of(fp, nf, "Query"));
            wh_recb_str(&b, "filter_query_language", prop_of(fp, nf, "QueryLanguage"));
            wh_recb_str(&b, "filter_event_namespace", prop_of(fp, nf, "EventNamespace"));
            wh_recb_str(&b, "consumer_class", ccls);
            wh_recb_str(&b, "consumer_name", prop_of(cp, nc, "Name"));
            const char *what = prop_of(cp, nc, "CommandLineTemplate");
            if (!what) what = prop_of(cp, nc, "ScriptText");
            if (!what) what = prop_of(cp, nc, "ScriptFileName");
            if (!what) what = prop_of(cp, nc, "ExecutablePath");
            wh_recb_str(&b, "consumer_action", what);
            wh_recb_add(&b, "filter", wh_v_object(x->c->arena, fp, nf));
            wh_recb_add(&b, "consumer_properties", wh_v_object(x->c->arena, cp, nc));
            summary = wh_arena_printf(x->c->arena, "5861 permanent subscription %s -> %s", ess ? ess : "?",
                                      cons ? cons : "?");
        }
    } else if (ev->event_id == 5860) {
        wh_recb_str(&b, "query", field(x, "Query"));
        summary = "5860 temporary event consumer registered";
    } else if (ev->event_id == 5857) {
        wh_recb_str(&b, "wmi_provider", field(x, "ProviderName"));
        wh_recb_str(&b, "host_process", field(x, "HostProcess"));
        wh_recb_str(&b, "provider_path", field(x, "ProviderPath"));
        summary = "5857 WMI provider started";
    } else if (ev->event_id == 5858) {
        wh_recb_str(&b, "client_machine", field(x, "ClientMachine"));
        wh_recb_str(&b, "user", field(x, "User"));
        wh_recb_str(&b, "result_code", field(x, "ResultCode"));
        summary = "5858 WMI operation error";
    }
    all_data(x, &b);
    b.rec.summary = summary;
    return emit(&b, fn, ud);
}

static int sysmon_wmi(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.sysmon_wmi", src, ev->offset);
    common(x, &b, ev);
    static const char *const kind[] = {"filter", "consumer", "binding"};
    wh_recb_str(&b, "kind", kind[ev->event_id - 19]);
    wh_recb_str(&b, "operation", field(x, "Operation"));
    wh_recb_str(&b, "user", field(x, "User"));
    const char *name = sysmon_norm(x, field(x, "Name"));
    wh_recb_str(&b, "name", name);
    wh_recb_str(&b, "event_namespace", sysmon_norm(x, field(x, "EventNamespace")));
    wh_recb_str(&b, "query", sysmon_norm(x, field(x, "Query")));
    wh_recb_str(&b, "consumer_type", sysmon_norm(x, field(x, "Type")));
    wh_recb_str(&b, "destination", sysmon_norm(x, field(x, "Destination")));
    wh_recb_str(&b, "consumer", sysmon_norm(x, field(x, "Consumer")));
    wh_recb_str(&b, "filter", sysmon_norm(x, field(x, "Filter")));
    all_data(x, &b);
    b.rec.summary = wh_arena_printf(x->c->arena, "Sysmon %u WMI %s %s", ev->event_id, kind[ev->event_id - 19],
                                    name ? name : "");
    return emit(&b, fn, ud);
}

static int process(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    bool sysmon = ev->event_id == 1;
    const char *image = field(x, sysmon ? "Image" : "NewProcessName");
    const char *parent = field(x, sysmon ? "ParentImage" : "ParentProcessName");
    const char *wi = wmi_binary(image), *wp = wmi_binary(parent);
    if (!wi && !wp) return 0;
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.process", src, ev->offset);
    common(x, &b, ev);
    wh_recb_str(&b, "image", image);
    wh_recb_str(&b, "command_line", field(x, "CommandLine"));
    wh_recb_str(&b, "parent_image", parent);
    wh_recb_str(&b, "parent_command_line", sysmon ? field(x, "ParentCommandLine") : NULL);
    wh_recb_str(&b, "user", sysmon ? field(x, "User") : field(x, "SubjectUserName"));
    wh_recb_str(&b, "logon_id", field(x, sysmon ? "LogonId" : "SubjectLogonId"));
    wh_recb_str(&b, "process_id", field(x, sysmon ? "ProcessId" : "NewProcessId"));
    wh_recb_str(&b, "parent_process_id", field(x, sysmon ? "ParentProcessId" : "ProcessId"));
    wh_recb_str(&b, "wmi_image", wi);
    wh_recb_str(&b, "wmi_parent", wp);
    all_data(x, &b);
    b.rec.summary = wh_arena_printf(x->c->arena, "%s %s <- %s", sysmon ? "Sysmon 1" : "4688", image ? base(image) : "?",
                                    parent ? base(parent) : "?");
    return emit(&b, fn, ud);
}

static int powershell(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    const char *sb = ev->event_id == 4104 ? field(x, "ScriptBlockText") : NULL;
    const char *payload = ev->event_id == 4103 ? field(x, "Payload") : NULL;
    const char *ctx = ev->event_id == 4103 ? field(x, "ContextInfo") : NULL;
    // 800 (classic channel): the text is in unnamed Data items: take them all.
    wh_sbuf all = {0};
    if (sb) wh_sbuf_puts(&all, sb);
    if (payload) wh_sbuf_puts(&all, payload);
    if (ctx) wh_sbuf_puts(&all, ctx);
    if (ev->event_id == 800) {
        leafobj o = {x->c->arena, NULL, 0, 0};
        ev_leaves(x->doc, add_leaf, &o, &x->sb, &x->tmp);
        for (size_t i = 0; i < o.n; i++)
            if (o.f[i].v.type == WH_V_STR) {
                wh_sbuf_put(&all, o.f[i].v.as.str.s, o.f[i].v.as.str.len);
                wh_sbuf_putc(&all, '\n');
            }
    }
    wh_value found[sizeof(WMI_WORDS) / sizeof(WMI_WORDS[0])];
    size_t nfound = 0;
    for (size_t i = 0; i < sizeof(WMI_WORDS) / sizeof(WMI_WORDS[0]); i++)
        if (all.p && icontains(all.p, all.n, WMI_WORDS[i])) found[nfound++] = wh_v_str(WMI_WORDS[i]);
    wh_sbuf_free(&all);
    if (!nfound) return 0;
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.powershell", src, ev->offset);
    common(x, &b, ev);
    wh_recb_str(&b, "script_block_text", sb);
    wh_recb_str(&b, "script_block_id", ev->event_id == 4104 ? field(x, "ScriptBlockId") : NULL);
    wh_recb_str(&b, "path", ev->event_id == 4104 ? field(x, "Path") : NULL);
    wh_recb_str(&b, "payload", payload);
    wh_recb_str(&b, "context_info", ctx);
    wh_value *arr = wh_arena_alloc(x->c->arena, nfound * sizeof(wh_value));
    if (arr) {
        memcpy(arr, found, nfound * sizeof(wh_value));
        wh_value v = {.type = WH_V_ARRAY};
        v.as.arr.items = arr;
        v.as.arr.n = nfound;
        wh_recb_add(&b, "wmi_terms", v);
    }
    all_data(x, &b);
    b.rec.summary = wh_arena_printf(x->c->arena, "PowerShell %u mentions %s", ev->event_id, found[0].as.str.s);
    return emit(&b, fn, ud);
}

/* Security 4672 / 4648 / 4662 as "evtx.record" with its EventData (the
 * shape of `wmihunt evtx --all`), kept only when it can matter for WMI:
 * privileges given to an account other than the service accounts, explicit
 * credentials used by a WMI binary, object access whose object server is WMI. A busy Security log holds millions of others. */
static const char *ns(const char *s) { return s ? s : "?"; }

static int security_context(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    if (ev->event_id == 4672) {
        const char *sid = field(x, "SubjectUserSid");
        if (sid && (!strcmp(sid, "S-1-5-18") || !strcmp(sid, "S-1-5-19") || !strcmp(sid, "S-1-5-20"))) return 0;
    } else if (ev->event_id == 4648) {
        // Explicit credentials: only when a WMI binary used them (wmic /node:
        // /user:), the lateral-movement case.
        if (!wmi_binary(field(x, "ProcessName"))) return 0;
    } else {
        const char *server = field(x, "ObjectServer"), *type = field(x, "ObjectType");
        bool wmi = (server && ieq(server, "WMI")) || (type && icontains(type, strlen(type), "WMI"));
        if (!wmi) return 0;
    }
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.record", src, ev->offset);
    common(x, &b, ev);
    all_data_as(x, &b, "event_data"); // the name `evtx --all` uses
    if (ev->event_id == 4648) {
        const char *img = field(x, "ProcessName");
        b.rec.summary = wh_arena_printf(x->c->arena, "Security 4648: %s used the credentials of %s\\%s for %s",
                                        img ? base(img) : "?", ns(field(x, "TargetDomainName")),
                                        ns(field(x, "TargetUserName")), ns(field(x, "TargetServerName")));
    } else if (ev->event_id == 4672) {
        b.rec.summary = wh_arena_printf(x->c->arena, "Security 4672: special privileges for %s\\%s (logon %s)",
                                        ns(field(x, "SubjectDomainName")), ns(field(x, "SubjectUserName")),
                                        ns(field(x, "SubjectLogonId")));
    } else {
        b.rec.summary = wh_arena_printf(x->c->arena, "Security 4662: WMI object access to %s by %s",
                                        ns(field(x, "ObjectName")), ns(field(x, "SubjectUserName")));
    }
    return emit(&b, fn, ud);
}

int wh_evtx_wmi_records(const wh_evtx_event *ev0, const char *source, wh_record_fn fn, void *ud)
{
    if (!wh_evtx_wmi_candidate(ev0)) return 0;
    // From a system-only walk: parse this one record in full now.
    wh_evtx_event full;
    wh_sbuf sb = {0};
    bool ok = ev_full(ev0, &full, &sb);
    wh_sbuf_free(&sb);
    if (!ok) return 0;
    const wh_evtx_event *ev = &full;
    ex x = {.c = ev->ctx, .doc = ev->doc};
    int rc;
    uint32_t id = ev->event_id;
    if (ieq(ev->channel, CH_WMI)) rc = wmi_activity(&x, ev, source, fn, ud);
    else if (ieq(ev->channel, CH_SYSMON) && id >= 19) rc = sysmon_wmi(&x, ev, source, fn, ud);
    else if (ieq(ev->channel, CH_SECURITY) && id != 4688) rc = security_context(&x, ev, source, fn, ud);
    else if (ieq(ev->channel, CH_SYSMON) || ieq(ev->channel, CH_SECURITY)) rc = process(&x, ev, source, fn, ud);
    else rc = powershell(&x, ev, source, fn, ud);
    wh_sbuf_free(&x.sb);
    wh_sbuf_free(&x.tmp);
    return rc;
}

const char *wh_evtx_data(const wh_evtx_event *ev, const char *name, char *buf, size_t bufsize)
{
    if (!ev->doc || !bufsize) return NULL;
    wh_sbuf sb = {0}, tmp = {0};
    bool ok = ev_data(ev->doc, name, &sb, &tmp);
    if (ok) {
        size_t n = sb.n < bufsize - 1 ? sb.n : bufsize - 1;
        if (n) memcpy(buf, sb.p, n);
        buf[n] = 0;
    }
    wh_sbuf_free(&sb);
    wh_sbuf_free(&tmp);
    return ok ? buf : NULL;
}
