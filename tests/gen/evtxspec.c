/* evtxspec: the event logs of one host from a text script (evtxspec.h).
 * Field lists and types follow the real records of the corpus, as the
 * scenarios of evtxgen.c do; what differs is that every value, the time
 * and the Computer come from the script. */
#include "evtxspec.h"

#include "evtxgen.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "specline.h"

#include "evtxprov.h"

enum { F_SYSMON, F_SECURITY, F_WMI, F_PS, F_PS_CLASSIC, F_COUNT };
static const char *const file_names[F_COUNT] = {
    "Microsoft-Windows-Sysmon%4Operational.evtx", "Security.evtx",
    "Microsoft-Windows-WMI-Activity%4Operational.evtx", "Microsoft-Windows-PowerShell%4Operational.evtx",
    "Windows PowerShell.evtx"};

enum { MAXF = 64 };

typedef struct spec {
    evtxgen *g[F_COUNT];
    char host[256];
    uint64_t t;      /* this line's time (FILETIME) */
    char **f;        /* this line's fields after KIND and TIME */
    size_t nf;
    char *err;
    size_t errlen;
    unsigned line;
} spec;

static int bad(spec *s, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(s->err, s->errlen, "line %u: %s", s->line, m);
    return -1;
}

static evtxgen *gen(spec *s, int file)
{
    if (!s->g[file]) {
        // Format 3.2 as Windows 10 2004+ writes, chunks filled.
        evtxgen_opts o = {.minor_version = 2, .first_time = s->t};
        s->g[file] = evtxgen_new(&o);
    }
    return s->g[file];
}

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z" to FILETIME; 0 when malformed. */
static uint64_t parse_time(const char *t)
{
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19) return 0;
    if (y < 1601 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return 0;
    const char *p = t + 19;
    uint64_t frac = 0;
    int digits = 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 7) frac = frac * 10 + (uint64_t)(*p - '0'), digits++;
    for (; digits < 7; digits++) frac *= 10;
    if (strcmp(p, "Z")) return 0;
    int64_t unix_s = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    return (uint64_t)(unix_s + 11644473600ll) * 10000000u + frac;
}

/* Sysmon's UtcTime: "YYYY-MM-DD HH:MM:SS.mmm". */
static void sysmon_utc(uint64_t ft, char out[32])
{
    char t[32];
    evtxgen_filetime_str(ft, t);
    snprintf(out, 32, "%.10s %.12s", t, t + 11);
}

/* ---- values ---- */

#define S(x) evtxgen_v_str(g, (x))
#define SZ(x) evtxgen_v_strz(g, (x))
#define U32(x) evtxgen_v_uint(g, EVTXGEN_T_U32, (x))
#define HEX64(x) evtxgen_v_uint(g, EVTXGEN_T_HEX64, (x))
#define HEX32(x) evtxgen_v_uint(g, EVTXGEN_T_HEX32, (x))
#define NDATA(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t num(const char *s) { return strtoull(s, NULL, 0); }

static uint32_t host_hash(const spec *s)
{
    uint32_t h = 2166136261u;
    for (const char *p = s->host; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

/* Sysmon's ProcessGuid: stable per host and pid, as one boot gives. */
static const evtxgen_val *proc_guid(spec *s, evtxgen *g, uint64_t pid)
{
    char t[48];
    uint32_t h = host_hash(s);
    snprintf(t, sizeof t, "{%08X-%04X-6734-%04X-0000000%05X}", h, (unsigned)(pid & 0xFFFF),
             (unsigned)((pid >> 3) & 0xFFFF), (unsigned)(pid & 0xFFFFF));
    return evtxgen_v_guid(g, t);
}

static const evtxgen_val *logon_guid(spec *s, evtxgen *g, uint64_t logon_id)
{
    char t[48];
    snprintf(t, sizeof t, "{%08X-0001-6734-%04X-0000%08X}", host_hash(s), (unsigned)(logon_id & 0xFFFF),
             (unsigned)(logon_id & 0xFFFFFFFF));
    return evtxgen_v_guid(g, t);
}

/* Sysmon 19-21 write the WMI object values with a leading space, quoted,
 * backslashes and quotes escaped (evtx format notes §7). */
static char *sysmon_quote(const char *v)
{
    size_t n = strlen(v);
    char *o = malloc(2 * n + 4), *p = o;
    if (!o) return NULL;
    *p++ = ' ';
    *p++ = '"';
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') *p++ = '\\';
        *p++ = *v;
    }
    *p++ = '"';
    *p = 0;
    return o;
}

/* A MOF string literal's content: backslash, quote and controls escaped,
 * as WMI renders instances in 5861's PossibleCause. */
static void mof_str(char **o, size_t *n, size_t *cap, const char *v);

static void put(char **o, size_t *n, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(*o ? *o + *n : NULL, *o ? *cap - *n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (*o && *n + (size_t)k < *cap) {
            *n += (size_t)k;
            return;
        }
        size_t nc = (*cap ? *cap * 2 : 1024) + (size_t)k;
        char *r = realloc(*o, nc);
        if (!r) return;
        *o = r;
        *cap = nc;
    }
}

static void mof_str(char **o, size_t *n, size_t *cap, const char *v)
{
    put(o, n, cap, "\"");
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') put(o, n, cap, "\\%c", *v);
        else if (*v == '\n') put(o, n, cap, "\\n");
        else if (*v == '\r') put(o, n, cap, "\\r");
        else if (*v == '\t') put(o, n, cap, "\\t");
        else put(o, n, cap, "%c", *v);
    }
    put(o, n, cap, "\"");
}

/* "S-1-5-21-a-b-c-rid" as the byte array WMI prints for CreatorSID. */
static void sid_bytes(char **o, size_t *n, size_t *cap, const char *sid)
{
    unsigned long long auth = 0, sub[15];
    int nsub = 0;
    const char *p = sid + 4; // after "S-1-"
    auth = strtoull(p, (char **)&p, 10);
    while (*p == '-' && nsub < 15) sub[nsub++] = strtoull(p + 1, (char **)&p, 10);
    put(o, n, cap, "{1, %d", nsub);
    for (int i = 5; i >= 0; i--) put(o, n, cap, ", %llu", (auth >> (8 * i)) & 0xFF);
    for (int i = 0; i < nsub; i++)
        for (int b = 0; b < 4; b++) put(o, n, cap, ", %llu", (sub[i] >> (8 * b)) & 0xFF);
    put(o, n, cap, "}");
}

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- events ---- */

static evtxgen_event base(spec *s, const char *prov, const char *guid, const char *channel, uint16_t id,
                          uint8_t version, uint8_t level, uint16_t task, uint8_t opcode, uint64_t kw, uint32_t pid,
                          uint32_t tid, const char *sid)
{
    evtxgen_event e;
    memset(&e, 0, sizeof e);
    e.provider = prov;
    e.provider_guid = guid;
    e.channel = channel;
    e.computer = s->host;
    e.event_id = id;
    e.qualifiers = -1;
    e.version = version;
    e.level = level;
    e.task = task;
    e.opcode = opcode;
    e.keywords = kw;
    e.pid = pid;
    e.tid = tid;
    e.user_sid = sid;
    e.time_created = s->t;
    return e;
}

static int add(spec *s, evtxgen *g, evtxgen_event *e, const evtxgen_data *d, size_t n)
{
    e->data = d;
    e->ndata = n;
    // Written time = creation time: the log is in time order.
    if (!evtxgen_add_frag(g, evtxgen_event_frag(g, e, NULL), s->t)) return bad(s, "%s", evtxgen_error(g));
    return 0;
}

static int need(spec *s, size_t n, const char *kind)
{
    return s->nf < n ? bad(s, "%s needs %zu fields, got %zu", kind, n, s->nf) : 0;
}

static int ev_sysmon1(spec *s)
{
    if (need(s, 11, "sysmon1")) return -1;
    char **f = s->f;
    evtxgen *g = gen(s, F_SYSMON);
    char utc[32], hashes[160], hex[65];
    sysmon_utc(s->t, utc);
    evtxgen_sha256_hex(f[1], strlen(f[1]), hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    snprintf(hashes, sizeof hashes, "SHA256=%s", hex);
    const char *b = strrchr(f[1], '\\') ? strrchr(f[1], '\\') + 1 : f[1];
    uint64_t logon = num(f[5]);
    evtxgen_data d[] = {
        {"RuleName", S("-"), false},
        {"UtcTime", S(utc), false},
        {"ProcessGuid", proc_guid(s, g, num(f[0])), false},
        {"ProcessId", U32(num(f[0])), false},
        {"Image", S(f[1]), false},
        {"FileVersion", S("10.0.19041.3636 (WinBuild.160101.0800)"), false},
        {"Description", S(b), false},
        {"Product", S("Microsoft\xc2\xae Windows\xc2\xae Operating System"), false},
        {"Company", S("Microsoft Corporation"), false},
        {"OriginalFileName", S(b), false},
        {"CommandLine", S(f[2]), false},
        {"CurrentDirectory", S(f[3]), false},
        {"User", S(f[4]), false},
        {"LogonGuid", logon_guid(s, g, logon), false},
        {"LogonId", HEX64(logon), false},
        {"TerminalSessionId", U32(logon == 0x3e7 ? 0 : 2), false},
        {"IntegrityLevel", S(f[6]), false},
        {"Hashes", S(hashes), false},
        {"ParentProcessGuid", proc_guid(s, g, num(f[7])), false},
        {"ParentProcessId", U32(num(f[7])), false},
        {"ParentImage", S(f[8]), false},
        {"ParentCommandLine", S(f[9]), false},
        {"ParentUser", S(f[10]), false}};
    evtxgen_event e = base(s, PROV_SYSMON, GUID_SYSMON, CH_SYSMON, 1, 5, 4, 1, 0, 0x8000000000000000ull, 3164, 4012,
                           "S-1-5-18");
    return add(s, g, &e, d, NDATA(d));
}

static int ev_sysmon_wmi(spec *s, uint16_t id)
{
    static const char *const types[3] = {"WmiFilterEvent", "WmiConsumerEvent", "WmiBindingEvent"};
    static const char *const names[3][3] = {{"EventNamespace", "Name", "Query"},
                                            {"Name", "Type", "Destination"},
                                            {"Consumer", "Filter", NULL}};
    int k = id - 19;
    size_t nv = names[k][2] ? 3 : 2;
    if (need(s, 2 + nv, "sysmon19/20/21")) return -1;
    evtxgen *g = gen(s, F_SYSMON);
    char utc[32];
    sysmon_utc(s->t, utc);
    // The consumer's Type is a plain word ("Command Line", "Script").
    char *q[3] = {sysmon_quote(s->f[2]), k == 1 ? strdup(s->f[3]) : sysmon_quote(s->f[3]),
                  nv == 3 ? sysmon_quote(s->f[4]) : NULL};
    evtxgen_data d[8] = {{"RuleName", S("-"), false}, {"EventType", S(types[k]), false},
                         {"UtcTime", S(utc), false},  {"Operation", S(s->f[0]), false},
                         {"User", S(s->f[1]), false}, {names[k][0], q[0] ? S(q[0]) : NULL, false},
                         {names[k][1], q[1] ? S(q[1]) : NULL, false}};
    size_t n = 7;
    if (nv == 3) d[n++] = (evtxgen_data){names[k][2], q[2] ? S(q[2]) : NULL, false};
    for (int i = 0; i < 3; i++) free(q[i]);
    evtxgen_event e = base(s, PROV_SYSMON, GUID_SYSMON, CH_SYSMON, id, 3, 4, id, 0, 0x8000000000000000ull, 3164,
                           4012, "S-1-5-18");
    return add(s, g, &e, d, n);
}

static int ev_4624(spec *s)
{
    if (need(s, 7, "sec4624")) return -1;
    char **f = s->f;
    evtxgen *g = gen(s, F_SECURITY);
    char machine[300];
    snprintf(machine, sizeof machine, "%.*s$", (int)strcspn(s->host, "."), s->host);
    uint64_t logon = num(f[3]);
    evtxgen_data d[] = {
        {"SubjectUserSid", evtxgen_v_sid(g, "S-1-5-18"), false},
        {"SubjectUserName", S(machine), false},
        {"SubjectDomainName", S(f[2]), false},
        {"SubjectLogonId", HEX64(0x3e7), false},
        {"TargetUserSid", evtxgen_v_sid(g, f[0]), false},
        {"TargetUserName", S(f[1]), false},
        {"TargetDomainName", S(f[2]), false},
        {"TargetLogonId", HEX64(logon), false},
        {"LogonType", U32(num(f[4])), false},
        {"LogonProcessName", S(num(f[4]) == 3 ? "NtLmSsp " : "User32 "), false},
        {"AuthenticationPackageName", S(num(f[4]) == 3 ? "NTLM" : "Negotiate"), false},
        {"WorkstationName", S("-"), false},
        {"LogonGuid", logon_guid(s, g, logon), false},
        {"TransmittedServices", S("-"), false},
        {"LmPackageName", S(num(f[4]) == 3 ? "NTLM V2" : "-"), false},
        {"KeyLength", U32(0), false},
        {"ProcessId", evtxgen_v_sizet(g, 0x2a0, 8), false},
        {"ProcessName", S(f[6]), false},
        {"IpAddress", S(f[5]), false},
        {"IpPort", S("0"), false},
        {"ImpersonationLevel", S("%%1833"), false},
        {"RestrictedAdminMode", S("-"), false},
        {"TargetOutboundUserName", S("-"), false},
        {"TargetOutboundDomainName", S("-"), false},
        {"VirtualAccount", S("%%1843"), false},
        {"TargetLinkedLogonId", HEX64(0), false},
        {"ElevatedToken", S("%%1842"), false}};
    evtxgen_event e = base(s, PROV_SEC, GUID_SEC, "Security", 4624, 2, 0, 12544, 0, 0x8020000000000000ull, 676, 7520,
                           NULL);
    return add(s, g, &e, d, NDATA(d));
}

static int ev_4672(spec *s)
{
    if (need(s, 4, "sec4672")) return -1;
    char **f = s->f;
    evtxgen *g = gen(s, F_SECURITY);
    evtxgen_data d[] = {
        {"SubjectUserSid", evtxgen_v_sid(g, f[0]), false},
        {"SubjectUserName", S(f[1]), false},
        {"SubjectDomainName", S(f[2]), false},
        {"SubjectLogonId", HEX64(num(f[3])), false},
        {"PrivilegeList", S("SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\t"
                            "SeTakeOwnershipPrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege"
                            "\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\tSeImpersonatePrivilege"),
         false}};
    evtxgen_event e = base(s, PROV_SEC, GUID_SEC, "Security", 4672, 0, 0, 12548, 0, 0x8020000000000000ull, 676, 7520,
                           NULL);
    return add(s, g, &e, d, NDATA(d));
}

static int ev_4648(spec *s)
{
    if (need(s, 10, "sec4648")) return -1;
    char **f = s->f;
    evtxgen *g = gen(s, F_SECURITY);
    evtxgen_data d[] = {{"SubjectUserSid", evtxgen_v_sid(g, f[0]), false},
                        {"SubjectUserName", S(f[1]), false},
                        {"SubjectDomainName", S(f[2]), false},
                        {"SubjectLogonId", HEX64(num(f[3])), false},
                        {"LogonGuid", evtxgen_v_guid(g, "{00000000-0000-0000-0000-000000000000}"), false},
                        {"TargetUserName", S(f[4]), false},
                        {"TargetDomainName", S(f[5]), false},
                        {"TargetLogonGuid", evtxgen_v_guid(g, "{00000000-0000-0000-0000-000000000000}"), false},
                        {"TargetServerName", S(f[6]), false},
                        {"TargetInfo", S(f[6]), false},
                        {"ProcessId", evtxgen_v_sizet(g, num(f[7]), 8), false},
                        {"ProcessName", S(f[8]), false},
                        {"IpAddress", S(f[9]), false},
                        {"IpPort", S("-"), false}};
    evtxgen_event e = base(s, PROV_SEC, GUID_SEC, "Security", 4648, 0, 0, 12544, 0, 0x8020000000000000ull, 676, 7520,
                           NULL);
    return add(s, g, &e, d, NDATA(d));
}

static int ev_4688(spec *s)
{
    if (need(s, 9, "sec4688")) return -1;
    char **f = s->f;
    evtxgen *g = gen(s, F_SECURITY);
    bool system = !strcmp(f[0], "S-1-5-18");
    evtxgen_data d[] = {{"SubjectUserSid", evtxgen_v_sid(g, f[0]), false},
                        {"SubjectUserName", S(f[1]), false},
                        {"SubjectDomainName", S(f[2]), false},
                        {"SubjectLogonId", HEX64(num(f[3])), false},
                        {"NewProcessId", evtxgen_v_sizet(g, num(f[4]), 8), false},
                        {"NewProcessName", S(f[5]), false},
                        {"TokenElevationType", S(system ? "%%1936" : "%%1937"), false},
                        {"ProcessId", evtxgen_v_sizet(g, num(f[7]), 8), false},
                        {"CommandLine", S(f[6]), false},
                        {"TargetUserSid", evtxgen_v_sid(g, "S-1-0-0"), false},
                        {"TargetUserName", S("-"), false},
                        {"TargetDomainName", S("-"), false},
                        {"TargetLogonId", HEX64(0), false},
                        {"ParentProcessName", S(f[8]), false},
                        {"MandatoryLabel", evtxgen_v_sid(g, system ? "S-1-16-16384" : "S-1-16-12288"), false}};
    evtxgen_event e = base(s, PROV_SEC, GUID_SEC, "Security", 4688, 2, 0, 13312, 0, 0x8020000000000000ull, 4, 7520,
                           NULL);
    return add(s, g, &e, d, NDATA(d));
}

/* WMI-Activity: UserData, strings stored with their NUL as Windows does. */
static int wmi_act(spec *s, evtxgen *g, uint16_t id, uint8_t level, const char *elem, const evtxgen_data *d, size_t n)
{
    evtxgen_event e = base(s, PROV_WMI, GUID_WMI, CH_WMI, id, 0, level, 0, 0, 0x4000000000000000ull, 3012, 3932,
                           "S-1-5-18");
    e.layout = EVTXGEN_L_USERDATA;
    e.ud_element = elem;
    e.ud_xmlns = XMLNS_WMI;
    return add(s, g, &e, d, n);
}

static int ev_5857(spec *s)
{
    if (need(s, 4, "wmi5857")) return -1;
    evtxgen *g = gen(s, F_WMI);
    evtxgen_data d[] = {{"ProviderName", SZ(s->f[0]), false},
                        {"Code", HEX32(0), false},
                        {"HostProcess", SZ(s->f[1]), false},
                        {"ProcessID", U32(num(s->f[2])), false},
                        {"ProviderPath", SZ(s->f[3]), false}};
    return wmi_act(s, g, 5857, 0, "Operation_StartedOperational", d, NDATA(d));
}

static int ev_5858(spec *s)
{
    if (need(s, 5, "wmi5858")) return -1;
    evtxgen *g = gen(s, F_WMI);
    evtxgen_data d[] = {{"Id", SZ("{00000000-0000-0000-0000-000000000000}"), false},
                        {"ClientMachine", SZ(s->f[0]), false},
                        {"User", SZ(s->f[1]), false},
                        {"ClientProcessId", U32(num(s->f[2])), false},
                        {"Component", SZ("Unknown"), false},
                        {"Operation", SZ(s->f[3]), false},
                        {"ResultCode", HEX32(num(s->f[4])), false},
                        {"PossibleCause", SZ("Unknown"), false}};
    return wmi_act(s, g, 5858, 2, "Operation_ClientFailure", d, NDATA(d));
}

static int ev_5860(spec *s)
{
    if (need(s, 5, "wmi5860")) return -1;
    evtxgen *g = gen(s, F_WMI);
    evtxgen_data d[] = {{"NamespaceName", SZ(s->f[0]), false},
                        {"Query", SZ(s->f[1]), false},
                        {"User", SZ(s->f[2]), false},
                        {"Processid", U32(num(s->f[3])), false},
                        {"ClientMachine", SZ(s->f[4]), false},
                        {"PossibleCause", SZ("Temporary"), false}};
    return wmi_act(s, g, 5860, 0, "Operation_TemporaryEssStarted", d, NDATA(d));
}

/* 5861: the filter and consumer rendered as MOF instances in PossibleCause,
 * properties in name order as WMI prints them. */
static int ev_5861(spec *s)
{
    if (need(s, 7, "wmi5861")) return -1;
    if ((s->nf - 7) % 2) return bad(s, "wmi5861: consumer properties come in name/value pairs");
    char **f = s->f;
    evtxgen *g = gen(s, F_WMI);
    char *o = NULL;
    size_t n = 0, cap = 0;
    put(&o, &n, &cap, "Binding EventFilter: \ninstance of __EventFilter\n{\n\tCreatorSID = ");
    sid_bytes(&o, &n, &cap, f[4]);
    put(&o, &n, &cap, ";\n\tEventNamespace = ");
    mof_str(&o, &n, &cap, f[2]);
    put(&o, &n, &cap, ";\n\tName = ");
    mof_str(&o, &n, &cap, f[1]);
    put(&o, &n, &cap, ";\n\tQuery = ");
    mof_str(&o, &n, &cap, f[3]);
    put(&o, &n, &cap, ";\n\tQueryLanguage = \"WQL\";\n};\nPerm. Consumer: \ninstance of %s\n{\n", f[5]);
    // Sort "name\x01value" entries, CreatorSID and Name among them.
    size_t np = (s->nf - 7) / 2 + 2;
    char **props = calloc(np, sizeof *props);
    if (!props) return bad(s, "out of memory");
    for (size_t i = 0; i + 2 < np; i++) {
        props[i] = malloc(strlen(f[7 + 2 * i]) + strlen(f[8 + 2 * i]) + 2);
        if (props[i]) sprintf(props[i], "%s\x01%s", f[7 + 2 * i], f[8 + 2 * i]);
    }
    props[np - 2] = strdup("CreatorSID\x01");
    props[np - 1] = malloc(strlen(f[6]) + 6);
    if (props[np - 1]) sprintf(props[np - 1], "Name\x01%s", f[6]);
    for (size_t i = 0; i < np; i++)
        if (!props[i]) return bad(s, "out of memory");
    qsort(props, np, sizeof *props, cmp_str);
    for (size_t i = 0; i < np; i++) {
        char *v = strchr(props[i], '\x01');
        *v++ = 0;
        put(&o, &n, &cap, "\t%s = ", props[i]);
        if (!strcmp(props[i], "CreatorSID")) sid_bytes(&o, &n, &cap, f[4]);
        else if (all_digits(v)) put(&o, &n, &cap, "%s", v);
        else mof_str(&o, &n, &cap, v);
        put(&o, &n, &cap, ";\n");
        free(props[i]);
    }
    free(props);
    put(&o, &n, &cap, "};\n");
    char consumer[1024];
    snprintf(consumer, sizeof consumer, "%s=\"%s\"", f[5], f[6]);
    evtxgen_data d[] = {{"Namespace", SZ(f[0]), false},
                        {"ESS", SZ(f[1]), false},
                        {"CONSUMER", SZ(consumer), false},
                        {"PossibleCause", o ? SZ(o) : NULL, false}};
    int rc = o ? wmi_act(s, g, 5861, 0, "Operation_ESStoConsumerBinding", d, NDATA(d)) : bad(s, "out of memory");
    free(o);
    return rc;
}

static int ev_4104(spec *s)
{
    if (need(s, 4, "ps4104")) return -1;
    evtxgen *g = gen(s, F_PS);
    evtxgen_data d[] = {{"MessageNumber", evtxgen_v_int(g, EVTXGEN_T_I32, 1), false},
                        {"MessageTotal", evtxgen_v_int(g, EVTXGEN_T_I32, 1), false},
                        {"ScriptBlockText", S(s->f[1]), false},
                        {"ScriptBlockId", S(s->f[2]), false},
                        {"Path", S(s->f[3]), false}};
    // Level 3 (warning): PowerShell flags script blocks with WMI cmdlets as suspicious.
    evtxgen_event e = base(s, PROV_PS, GUID_PS, CH_PS, 4104, 1, 3, 2, 15, 0, 5512, 6140, s->f[0]);
    return add(s, g, &e, d, NDATA(d));
}

static int ev_4103(spec *s)
{
    if (need(s, 4, "ps4103")) return -1;
    evtxgen *g = gen(s, F_PS);
    char *ctx = NULL;
    size_t n = 0, cap = 0;
    put(&ctx, &n, &cap,
        "        Severity = Informational\r\n        Host Name = ConsoleHost\r\n        Host Version = "
        "5.1.19041.3803\r\n        Host ID = 3e1f0c2a-7b6d-4f0e-9a51-2c8d4e6f7a10\r\n        Host Application = "
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\r\n        Engine Version = "
        "5.1.19041.3803\r\n        Runspace ID = 0d9c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d\r\n        Pipeline ID = "
        "12\r\n        Command Name = %s\r\n        Command Type = Cmdlet\r\n        Script Name = \r\n        "
        "Command Path = \r\n        Sequence Number = 41\r\n        User = %s\r\n        Connected User = "
        "\r\n        Shell ID = Microsoft.PowerShell\r\n",
        s->f[2], s->f[1]);
    if (!ctx) return bad(s, "out of memory");
    evtxgen_data d[] = {{"ContextInfo", S(ctx), false}, {"UserData", S(""), false}, {"Payload", S(s->f[3]), false}};
    free(ctx);
    evtxgen_event e = base(s, PROV_PS, GUID_PS, CH_PS, 4103, 1, 4, 106, 20, 0, 5512, 6140, s->f[0]);
    return add(s, g, &e, d, NDATA(d));
}

static int ev_800(spec *s)
{
    if (need(s, 3, "ps800")) return -1;
    evtxgen *g = gen(s, F_PS_CLASSIC);
    char *det = NULL;
    size_t n = 0, cap = 0;
    put(&det, &n, &cap, "\tDetailSequence=1\r\n\tDetailTotal=1\r\n\r\n\tSequenceNumber=43\r\n\r\n\tUserId=%s\r\n\t"
                        "HostName=ConsoleHost\r\n\tHostApplication=%s",
        s->f[0], s->f[1]);
    if (!det) return bad(s, "out of memory");
    const char *items[] = {s->f[2], det, s->f[2]};
    evtxgen_data d[] = {{NULL, evtxgen_v_strarray(g, items, 3), false}};
    free(det);
    evtxgen_event e = base(s, "PowerShell", NULL, "Windows PowerShell", 800, 0, 4, 8, 0, 0x80000000000000ull, 0, 0,
                           NULL);
    e.qualifiers = 0;
    e.layout = EVTXGEN_L_CLASSIC;
    return add(s, g, &e, d, NDATA(d));
}

/* ---- script ---- */


static int run_line(spec *s, char *line)
{
    char *f[MAXF];
    size_t n = specline_split(line, f, MAXF);
    if (!strcmp(f[0], "host")) {
        if (n != 2 || !*f[1]) return bad(s, "host takes one name");
        snprintf(s->host, sizeof s->host, "%s", f[1]);
        return 0;
    }
    if (n < 2) return bad(s, "no time");
    if (!*s->host) return bad(s, "no host line before the first event");
    s->t = parse_time(f[1]);
    if (!s->t) return bad(s, "bad time \"%s\"", f[1]);
    s->f = f + 2;
    s->nf = n - 2;
    const char *k = f[0];
    if (!strcmp(k, "sysmon1")) return ev_sysmon1(s);
    if (!strcmp(k, "sysmon19")) return ev_sysmon_wmi(s, 19);
    if (!strcmp(k, "sysmon20")) return ev_sysmon_wmi(s, 20);
    if (!strcmp(k, "sysmon21")) return ev_sysmon_wmi(s, 21);
    if (!strcmp(k, "sec4624")) return ev_4624(s);
    if (!strcmp(k, "sec4672")) return ev_4672(s);
    if (!strcmp(k, "sec4648")) return ev_4648(s);
    if (!strcmp(k, "sec4688")) return ev_4688(s);
    if (!strcmp(k, "wmi5857")) return ev_5857(s);
    if (!strcmp(k, "wmi5858")) return ev_5858(s);
    if (!strcmp(k, "wmi5860")) return ev_5860(s);
    if (!strcmp(k, "wmi5861")) return ev_5861(s);
    if (!strcmp(k, "ps4104")) return ev_4104(s);
    if (!strcmp(k, "ps4103")) return ev_4103(s);
    if (!strcmp(k, "ps800")) return ev_800(s);
    return bad(s, "unknown event kind \"%s\"", k);
}

int evtxspec_run(FILE *in, const char *dir, char *err, size_t errlen)
{
    spec s;
    memset(&s, 0, sizeof s);
    s.err = err;
    s.errlen = errlen;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, in)) >= 0) {
        s.line++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        rc = run_line(&s, line);
    }
    free(line);
    for (int i = 0; i < F_COUNT; i++) {
        if (!s.g[i]) continue;
        if (!rc && (*evtxgen_error(s.g[i]) || evtxgen_finish(s.g[i]))) {
            snprintf(err, errlen, "%s: %s", file_names[i], evtxgen_error(s.g[i]));
            rc = -1;
        }
        if (!rc) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, file_names[i]);
            if (evtxgen_write(s.g[i], path)) {
                snprintf(err, errlen, "%s: cannot write", path);
                rc = -1;
            } else {
                printf("%s: %zu records\n", path, evtxgen_expect_count(s.g[i]));
            }
        }
        evtxgen_free(s.g[i]);
    }
    return rc;
}
