/* Analysis and security tools an attacker's filter may watch for: a filter
 * that fires when one of these starts kills it or hides from it (rule
 * WH-SUB-012 in rules/builtin.yml names the first seven). Kept as data:
 * add a row, nothing else changes.
 *
 * Sources: WH-SUB-012 (taskmgr, procexp, procmon, autoruns, wireshark,
 * processhacker, tcpview); the executable names of the Sysinternals suite
 * (learn.microsoft.com/sysinternals); the analysis-tool process lists of
 * anti-analysis code such as al-khaser (github.com/LordNoteworthy/al-khaser,
 * al-khaser/AntiAnalysis/process.cpp); the tools' own install folders. */
#include <string.h>

#include "wql/wql_int.h"

static const struct {
    const char *exe; /* lower case, no ".exe" */
    const char *tool;
} TOOLS[] = {
    {"taskmgr", "Task Manager"},
    {"procexp", "Process Explorer"},
    {"procexp64", "Process Explorer"},
    {"procexp64a", "Process Explorer"},
    {"procmon", "Process Monitor"},
    {"procmon64", "Process Monitor"},
    {"procmon64a", "Process Monitor"},
    {"autoruns", "Autoruns"},
    {"autoruns64", "Autoruns"},
    {"autorunsc", "Autoruns"},
    {"autorunsc64", "Autoruns"},
    {"tcpview", "TCPView"},
    {"tcpview64", "TCPView"},
    {"tcpvcon", "TCPView"},
    {"sysmon", "Sysmon"},
    {"sysmon64", "Sysmon"},
    {"listdlls", "ListDLLs"},
    {"handle", "Handle"},
    {"handle64", "Handle"},
    {"wireshark", "Wireshark"},
    {"dumpcap", "Wireshark"},
    {"tshark", "Wireshark"},
    {"fiddler", "Fiddler"},
    {"processhacker", "Process Hacker"},
    {"systeminformer", "System Informer"},
    {"x64dbg", "x64dbg"},
    {"x32dbg", "x64dbg"},
    {"x96dbg", "x64dbg"},
    {"ollydbg", "OllyDbg"},
    {"immunitydebugger", "Immunity Debugger"},
    {"windbg", "WinDbg"},
    {"windbgx", "WinDbg"},
    {"ida", "IDA"},
    {"ida64", "IDA"},
    {"idaq", "IDA"},
    {"idaq64", "IDA"},
    {"dnspy", "dnSpy"},
    {"pestudio", "PeStudio"},
    {"regshot", "Regshot"},
    {"apimonitor-x64", "API Monitor"},
    {"apimonitor-x86", "API Monitor"},
    {"resmon", "Resource Monitor"},
    {"perfmon", "Performance Monitor"},
    {"regedit", "Registry Editor"},
    {"eventvwr", "Event Viewer"},
};

const char *wh_wql_analysis_tool(const char *process)
{
    if (!process) return NULL;
    // the last path element, without ".exe"
    const char *base = process;
    for (const char *p = process; *p; p++)
        if (*p == '\\' || *p == '/') base = p + 1;
    size_t n = strlen(base);
    if (n >= 4 && wql_ieq(base + n - 4, ".exe")) n -= 4;
    for (size_t i = 0; i < sizeof(TOOLS) / sizeof(TOOLS[0]); i++) {
        const char *e = TOOLS[i].exe;
        if (strlen(e) != n) continue;
        size_t k = 0;
        for (; k < n; k++) {
            unsigned char c = (unsigned char)base[k];
            if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
            if (c != (unsigned char)e[k]) break;
        }
        if (k == n) return TOOLS[i].tool;
    }
    return NULL;
}
