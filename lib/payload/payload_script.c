/* What a script does, in short phrases: the COM objects it makes and what
 * it calls on them (WMI, processes, HTTP, files, the registry), the WMI it
 * queries, what it runs. Read from every text layer; no script is executed
 * and nothing is inferred beyond what the text names. Forms from the
 * scripts WMI consumers carry: VBScript / JScript (CreateObject,
 * GetObject("winmgmts:"), new ActiveXObject) and PowerShell (New-Object,
 * -ComObject, cmdlets). Sources: Microsoft's Scripting Runtime, WScript and
 * SWbem object references; FireEye's WMIGhost/POSHSPY write-ups for what
 * malicious consumers call. */
#include <stdio.h>
#include <string.h>

#include "payload/payload_int.h"

/* Case-insensitive search within t from i; index or SIZE_MAX. */
static size_t find(pl_text t, size_t i, const char *needle)
{
    size_t n = strlen(needle);
    for (; pl_has(t, i, n); i++) {
        size_t k = 0;
        while (k < n) {
            int c = pl_at(t, i + k), d = (unsigned char)needle[k];
            if (c >= 'A' && c <= 'Z') c += 32;
            if (d >= 'A' && d <= 'Z') d += 32;
            if (c != d) break;
            k++;
        }
        if (k == n) return i;
    }
    return SIZE_MAX;
}

static bool has(pl_text t, const char *needle) { return find(t, 0, needle) != SIZE_MAX; }

static void add(wh_payload *p, const char *s)
{
    for (size_t i = 0; i < p->nbeh; i++)
        if (!strcmp(p->beh[i], s)) return;
    if (p->nbeh >= WH_PAYLOAD_MAX_BEHAVIOUR) return;
    char *c = wh_arena_strdup(p->a, s);
    if (c) p->beh[p->nbeh++] = c;
}

/* The first quoted string after position i (up to a line end), into out;
 * *end (may be NULL) is just past its closing quote. */
static bool quoted_at(pl_text t, size_t i, char *out, size_t outn, size_t *end)
{
    for (; i < t.n && pl_at(t, i) != '\n'; i++) {
        int q = pl_at(t, i);
        if (q != '"' && q != '\'') continue;
        size_t k = 0;
        for (i++; i < t.n && pl_at(t, i) != q && pl_at(t, i) != '\n'; i++)
            if (k + 1 < outn) out[k++] = (char)pl_at(t, i);
        out[k] = 0;
        if (end) *end = i < t.n ? i + 1 : i;
        return k > 0;
    }
    return false;
}

static bool quoted_after(pl_text t, size_t i, char *out, size_t outn) { return quoted_at(t, i, out, outn, NULL); }

/* "FROM Win32_Process" in a query string: the class. */
static bool from_class(const char *q, char *out, size_t outn)
{
    const char *f = q;
    for (; *f; f++)
        if ((f[0] | 32) == 'f' && (f[1] | 32) == 'r' && (f[2] | 32) == 'o' && (f[3] | 32) == 'm' && f[4] == ' ') break;
    if (!*f) return false;
    f += 5;
    while (*f == ' ') f++;
    size_t k = 0;
    while (*f && *f != ' ' && *f != '"' && *f != '\'' && k + 1 < outn) out[k++] = *f++;
    out[k] = 0;
    return k > 0;
}

static void script_layer(wh_payload *p, pl_text t)
{
    char buf[256], line[320];
    // WMI from a script: the scripting API, and the namespace it opens
    if (has(t, "WbemScripting.SWbemLocator") || has(t, "winmgmts:") || has(t, "Get-WmiObject") ||
        has(t, "Get-CimInstance") || has(t, "[wmiclass]") || has(t, "ManagementObject")) {
        size_t at = find(t, 0, "ConnectServer");
        if (at != SIZE_MAX && quoted_after(t, at, buf, sizeof(buf))) {
            snprintf(line, sizeof(line), "connects to WMI (%s)", buf);
            add(p, line);
        } else if ((at = find(t, 0, "winmgmts:")) != SIZE_MAX) {
            add(p, "connects to WMI (winmgmts:)");
        } else {
            add(p, "uses WMI");
        }
    }
    for (size_t at = find(t, 0, "ExecQuery"); at != SIZE_MAX; at = find(t, at + 9, "ExecQuery")) {
        if (!quoted_after(t, at, buf, sizeof(buf))) continue;
        char cls[96];
        if (from_class(buf, cls, sizeof(cls))) {
            snprintf(line, sizeof(line), "queries %s", cls);
            add(p, line);
        }
    }
    if (has(t, ".Terminate")) add(p, has(t, "TargetEvent") || has(t, "TargetInstance")
                                          ? "terminates the process that set it off"
                                          : "terminates processes");
    if (has(t, "Stop-Process") || has(t, "taskkill")) add(p, "kills processes");
    // programs
    if (has(t, "WScript.Shell") || has(t, "Shell.Application") || has(t, "Start-Process") ||
        (has(t, "Win32_Process") && has(t, ".Create"))) {
        size_t at = find(t, 0, ".Run");
        if (at == SIZE_MAX) at = find(t, 0, ".Exec");
        if (at == SIZE_MAX) at = find(t, 0, "ShellExecute");
        if (at != SIZE_MAX && quoted_after(t, at, buf, sizeof(buf))) {
            snprintf(line, sizeof(line), "starts a program: %.200s", buf);
            add(p, line);
        } else {
            add(p, "starts programs");
        }
    }
    // the network
    if (has(t, "XMLHTTP") || has(t, "WinHttpRequest") || has(t, "Net.WebClient") || has(t, "Invoke-WebRequest") ||
        has(t, "DownloadString") || has(t, "DownloadFile") || has(t, "Invoke-RestMethod") || has(t, "URLDownloadToFile")) {
        size_t at = find(t, 0, ".Open"), end = 0;
        char url[224];
        if (at != SIZE_MAX && quoted_at(t, at, buf, sizeof(buf), &end) && quoted_after(t, end, url, sizeof(url)) &&
            (has((pl_text){url, strlen(url)}, "http") || has((pl_text){url, strlen(url)}, "/"))) {
            snprintf(line, sizeof(line), "makes HTTP %.16s requests to %.200s", buf, url);
            add(p, line);
        } else {
            add(p, "downloads from the network");
        }
    }
    if (has(t, "ExecuteGlobal") || has(t, "Execute ") || has(t, "Execute(") || has(t, "eval(") ||
        has(t, "Invoke-Expression") || has(t, "IEX ") || has(t, "IEX(") || has(t, "iex("))
        add(p, "runs code it builds or downloads (Execute / eval / Invoke-Expression)");
    // files and the registry
    if (has(t, "ADODB.Stream") || has(t, "SaveToFile") || has(t, "Scripting.FileSystemObject") || has(t, "Set-Content") ||
        has(t, "Out-File") || has(t, "WriteAllBytes"))
        add(p, "writes files");
    if (has(t, "RegWrite") || has(t, "Set-ItemProperty") || has(t, "New-ItemProperty") || has(t, "StdRegProv"))
        add(p, "writes the registry");
    if (has(t, ".Delete") && (has(t, "winmgmts") || has(t, "SWbem") || has(t, "Win32_"))) add(p, "deletes WMI objects");
    if (has(t, "Win32_ShadowCopy")) add(p, "touches volume shadow copies");
}

void pl_behaviour(wh_payload *p)
{
    for (size_t i = 0; i < p->nlayers && !pl_expired(p); i++)
        if (!p->layers[i].binary) script_layer(p, (pl_text){p->layers[i].text, p->layers[i].len});
}

size_t wh_payload_behaviour_count(const wh_payload *p) { return p ? p->nbeh : 0; }

const char *wh_payload_behaviour(const wh_payload *p, size_t i) { return p && i < p->nbeh ? p->beh[i] : NULL; }
