/* Triage path logic: %XX decoding, layout of a volume root from the names
 * leading to it, and the kind of an entry from its path below the root.
 * Pure string work (no file system), so fuzz_triage reaches all of it. */
#include "triage/triage_int.h"

#include <string.h>

#include "core/text.h"

static const char *const KIND_NAMES[WH_TRIAGE_KIND_COUNT] = {
    "cim_repository", "cim_repository_backup", "autorecover_dir", "autorecover_file", "mof",
    "hive_software",  "hive_log",              "hive_regback",    "evtx",
};

static const char *const LAYOUT_NAMES[WH_TRIAGE_LAYOUT_COUNT] = {
    "mounted", "kape", "kape-or-cylr", "kape-encoded", "velociraptor", "prefix", "loose",
};

const char *wh_triage_kind_name(wh_triage_kind k)
{
    return (unsigned)k < WH_TRIAGE_KIND_COUNT ? KIND_NAMES[k] : "?";
}

const char *wh_triage_layout_name(wh_triage_layout l)
{
    return (unsigned)l < WH_TRIAGE_LAYOUT_COUNT ? LAYOUT_NAMES[l] : "?";
}

// The logs `wmihunt evtx` reads for WMI evidence (README, docs/output.md),
// named as Windows stores them; the why is shown when one is missing.
const wh_triage_log WH_TRIAGE_WMI_LOGS[WH_TRIAGE_NWMI_LOGS] = {
    {"Microsoft-Windows-WMI-Activity%4Operational.evtx",
     "WMI-Activity 5857-5861: providers loaded, query errors, and 5861, a permanent event consumer bound"},
    {"Security.evtx", "4688 process creation of wmic, wmiprvse, scrcons, mofcomp children (when auditing is on)"},
    {"Microsoft-Windows-Sysmon%4Operational.evtx",
     "Sysmon 19/20/21: WMI filter, consumer and binding registered (only where Sysmon is installed)"},
    {"Microsoft-Windows-PowerShell%4Operational.evtx", "PowerShell 4103/4104: script blocks using WMI/CIM cmdlets"},
    {"Windows PowerShell.evtx", "PowerShell 400/800: engine start and pipeline execution with WMI cmdlets"},
    {"System.evtx", "7045/7036: services installed and started, as WMI lateral movement leaves them"},
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t wh_triage_pct_decode(const char *in, size_t n, char *out, size_t cap)
{
    if (!cap) return 0;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = in[i];
        if (c == '\0') break;
        if (c == '%' && n - i >= 3) {
            int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
            // Collectors escape only what a file name cannot hold (':', '\\',
            // '%', controls, bytes past ASCII); "%4A" decoding to a letter is a
            // literal name such as Windows' "...%4Admin.evtx". %00 would cut
            // the name short. Both stay as written.
            int v = h * 16 + l;
            bool alnum = (v >= '0' && v <= '9') || (v >= 'A' && v <= 'Z') || (v >= 'a' && v <= 'z');
            if (h >= 0 && l >= 0 && v != 0 && !alnum) {
                out[o++] = (char)(h * 16 + l);
                i += 2;
                continue;
            }
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return o;
}

/* name equals want ignoring ASCII case, as stored or (encoded) decoded */
bool wh_triage_name_eq(const char *name, const char *want, bool encoded)
{
    if (wh_strcasecmp(name, want) == 0) return true;
    if (!encoded || !strchr(name, '%')) return false;
    char buf[WH_LIMIT_TRIAGE_NAME_MAX];
    wh_triage_pct_decode(name, strlen(name), buf, sizeof(buf));
    return wh_strcasecmp(buf, want) == 0;
}

static bool ends_icase(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && wh_strcasecmp(s + n - m, suffix) == 0;
}

static bool starts_icase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
        if (!a || a != b) return false;
    }
    return true;
}

/* name ends with suffix, as stored or decoded */
bool wh_triage_name_ends(const char *name, const char *suffix, bool encoded)
{
    if (ends_icase(name, suffix)) return true;
    if (!encoded || !strchr(name, '%')) return false;
    char buf[WH_LIMIT_TRIAGE_NAME_MAX];
    wh_triage_pct_decode(name, strlen(name), buf, sizeof(buf));
    return ends_icase(buf, suffix);
}

static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }

static void put(char *volume, size_t cap, const char *s)
{
    if (!cap) return;
    size_t n = strlen(s);
    if (n >= cap) n = cap - 1;
    memcpy(volume, s, n);
    volume[n] = '\0';
}

// Velociraptor's accessors for Windows and generic files (dissect.target's
// velociraptor loader lists the same set).
static const char *const VR_ACCESSORS[] = {"auto", "ntfs", "mft", "lazy_ntfs", "ntfs_vss", "file"};

wh_triage_layout wh_triage_layout_of(const char *const *names, size_t n, bool kape_logs, char *volume, size_t cap)
{
    put(volume, cap, "");
    if (n == 0) return WH_TRIAGE_LAYOUT_MOUNTED;
    const char *last = names[n - 1];
    if (n >= 3 && wh_strcasecmp(names[n - 3], "uploads") == 0) {
        for (size_t i = 0; i < sizeof(VR_ACCESSORS) / sizeof(VR_ACCESSORS[0]); i++) {
            if (wh_strcasecmp(names[n - 2], VR_ACCESSORS[i]) != 0) continue;
            char buf[WH_LIMIT_TRIAGE_NAME_MAX];
            size_t len = wh_triage_pct_decode(last, strlen(last), buf, sizeof(buf));
            // "C:" and "\\.\C:" name drives; shadow copies keep their device path.
            if (len == 2 && is_alpha(buf[0]) && buf[1] == ':') buf[0] = upper(buf[0]);
            if (len == 6 && memcmp(buf, "\\\\.\\", 4) == 0 && is_alpha(buf[4]) && buf[5] == ':') {
                buf[0] = upper(buf[4]);
                buf[1] = ':';
                buf[2] = '\0';
            }
            put(volume, cap, buf);
            return WH_TRIAGE_LAYOUT_VELOCIRAPTOR;
        }
    }
    size_t len = strlen(last);
    char drive[3] = {upper(last[0]), ':', '\0'};
    if (len == 1 && is_alpha(last[0])) {
        put(volume, cap, drive);
        return kape_logs ? WH_TRIAGE_LAYOUT_KAPE : WH_TRIAGE_LAYOUT_DRIVE_FOLDER;
    }
    if (len == 2 && is_alpha(last[0]) && last[1] == ':') {
        put(volume, cap, drive);
        return WH_TRIAGE_LAYOUT_DRIVE_FOLDER;
    }
    if (len == 4 && is_alpha(last[0]) && wh_strcasecmp(last + 1, "%3A") == 0) {
        put(volume, cap, drive);
        return WH_TRIAGE_LAYOUT_KAPE_ENCODED;
    }
    return WH_TRIAGE_LAYOUT_PREFIX;
}

bool wh_triage_layout_encoded(wh_triage_layout l)
{
    return l == WH_TRIAGE_LAYOUT_VELOCIRAPTOR || l == WH_TRIAGE_LAYOUT_KAPE_ENCODED;
}

int wh_triage_wmi_log(const char *name, bool encoded)
{
    for (int i = 0; i < WH_TRIAGE_NWMI_LOGS; i++)
        if (wh_triage_name_eq(name, WH_TRIAGE_WMI_LOGS[i].name, encoded)) return i;
    return -1;
}

bool wh_triage_is_windir(const char *name, bool encoded)
{
    return wh_triage_name_eq(name, "Windows", encoded) || wh_triage_name_eq(name, "WINNT", encoded);
}

bool wh_triage_kind_of(const char *const *names, size_t n, bool is_dir, bool encoded, wh_triage_kind *kind,
                       bool *wmi_relevant)
{
    *wmi_relevant = false;
    bool sys = n >= 3 && wh_triage_is_windir(names[0], encoded) && wh_triage_name_eq(names[1], "System32", encoded);
#define EQ(i, s) wh_triage_name_eq(names[i], s, encoded)
    if (sys && EQ(2, "wbem") && n >= 4) {
        if (n == 4 && is_dir && EQ(3, "Repository")) return *kind = WH_TRIAGE_CIM_REPOSITORY, true;
        if (n == 4 && is_dir && starts_icase(names[3], "Repository")) return *kind = WH_TRIAGE_CIM_BACKUP, true;
        if (n == 4 && is_dir && EQ(3, "AutoRecover")) return *kind = WH_TRIAGE_AUTORECOVER_DIR, true;
        if (n == 5 && !is_dir && EQ(3, "AutoRecover")) return *kind = WH_TRIAGE_AUTORECOVER_FILE, true;
    }
    if (sys && !is_dir && n == 4 && EQ(2, "config")) {
        if (EQ(3, "SOFTWARE")) return *kind = WH_TRIAGE_HIVE_SOFTWARE, true;
        if (EQ(3, "SOFTWARE.LOG1") || EQ(3, "SOFTWARE.LOG2") || EQ(3, "SOFTWARE.LOG"))
            return *kind = WH_TRIAGE_HIVE_LOG, true;
    }
    if (sys && !is_dir && n == 5 && EQ(2, "config") && EQ(3, "RegBack") && EQ(4, "SOFTWARE"))
        return *kind = WH_TRIAGE_HIVE_REGBACK, true;
    if (sys && !is_dir && n == 5 && EQ(2, "winevt") && EQ(3, "Logs") && wh_triage_name_ends(names[4], ".evtx", encoded)) {
        *wmi_relevant = wh_triage_wmi_log(names[4], encoded) >= 0;
        return *kind = WH_TRIAGE_EVTX, true;
    }
#undef EQ
    if (n >= 1 && !is_dir && wh_triage_name_ends(names[n - 1], ".mof", encoded)) return *kind = WH_TRIAGE_MOF, true;
    return false;
}

bool wh_triage_in_wbem(const char *const *names, size_t n, bool encoded)
{
    // System32\wbem or SysWOW64\wbem: where Windows keeps its own MOFs.
    for (size_t i = 0; i + 1 < n; i++)
        if (wh_triage_name_eq(names[i], "wbem", encoded) && i >= 1 &&
            (wh_triage_name_eq(names[i - 1], "System32", encoded) ||
             wh_triage_name_eq(names[i - 1], "SysWOW64", encoded)))
            return true;
    return false;
}

bool wh_triage_wanted(const char *const *names, size_t n, void *ud)
{
    (void)ud;
    wh_triage_kind kind;
    bool rel = false;
    if (!n) return false;
    if (wh_triage_kind_of(names, n, false, false, &kind, &rel)) return kind != WH_TRIAGE_EVTX || rel;
    bool sys = n >= 4 && wh_triage_is_windir(names[0], false) && wh_triage_name_eq(names[1], "System32", false);
    if (!sys) return false;
    // The files in the repository (XP: Repository\FS), its backups and AutoRecover.
    if (wh_triage_name_eq(names[2], "wbem", false) && n >= 5 && n <= 6 &&
        (starts_icase(names[3], "Repository") || wh_triage_name_eq(names[3], "AutoRecover", false)))
        return true;
    // SYSTEM beside SOFTWARE: the host's name and WMI's service settings.
    return n == 4 && wh_triage_name_eq(names[2], "config", false) &&
           (wh_triage_name_eq(names[3], "SYSTEM", false) || wh_triage_name_eq(names[3], "SYSTEM.LOG1", false) ||
            wh_triage_name_eq(names[3], "SYSTEM.LOG2", false));
}
