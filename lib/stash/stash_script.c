/* Is this text a script? Weighted markers per language, each counted once,
 * ASCII case-insensitive. One word never decides: the best language needs
 * WH_STASH_SCRIPT_MIN_SCORE from two markers or more, so a class
 * description that mentions "PowerShell" or "CreateObject" stays quiet.
 * The markers are what the stored payloads of public tools are made of
 * (download cradles, decoders, COM objects, reflection). */
#include <string.h>

#include "stash/stash_int.h"
#include "wmihunt/stash.h"

typedef struct marker {
    const char *s;
    int w;
    bool word; /* must not follow a letter or digit (short markers) */
} marker;

typedef struct lang {
    const char *name;
    const marker *m;
    size_t n;
} lang;

static const marker ps[] = {
    {"invoke-expression", 3, false}, {"iex", 3, true},          {"frombase64string", 3, false},
    {"net.webclient", 3, false},     {"downloadstring", 3, false}, {"downloaddata", 3, false},
    {"downloadfile", 2, false},      {"-encodedcommand", 3, false}, {"-enc ", 2, true},
    {"[reflection.assembly]", 3, false}, {"virtualalloc", 3, false}, {"new-object", 2, false},
    {"$env:", 2, false},             {"[system.", 2, false},       {"[convert]::", 2, false},
    {"add-type", 2, false},          {"start-process", 2, false},  {"invoke-wmimethod", 2, false},
    {"get-wmiobject", 2, false},     {"set-wmiinstance", 2, false}, {"invoke-command", 2, false},
    {"-windowstyle hidden", 2, false}, {"-w hidden", 2, true},     {"-nop", 1, true},
    {"io.compression", 2, false},    {"gzipstream", 2, false},     {"memorystream", 2, false},
    {"[text.encoding]", 2, false},   {"foreach-object", 1, false}, {"$null", 1, false},
    {"param(", 1, true},             {"powershell", 1, true},      {"-bxor", 2, false},
};

static const marker vbs[] = {
    {"createobject(", 3, true},      {"wscript.shell", 3, false},  {"executeglobal", 3, true},
    {"execute ", 2, true},           {"on error resume next", 2, false}, {"end sub", 2, true},
    {"end function", 1, true},       {"dim ", 1, true},            {"msxml2.", 2, false},
    {"microsoft.xmlhttp", 3, false}, {"adodb.stream", 3, false},   {"scripting.filesystemobject", 2, false},
    {"wscript.sleep", 2, false},     {"getobject(\"winmgmts", 2, false}, {"chr(", 1, true},
    {".responsetext", 2, false},     {".run ", 2, false},
};

static const marker js[] = {
    {"new activexobject(", 3, false}, {"wscript.createobject(", 3, false}, {"eval(", 2, true},
    {"string.fromcharcode", 2, false}, {"var ", 1, true},          {"function(", 1, true},
    {".responsetext", 2, false},      {"getobject(\"winmgmts", 2, false}, {".run(", 2, false},
};

static const lang langs[] = {
    {"PowerShell", ps, sizeof ps / sizeof ps[0]},
    {"VBScript", vbs, sizeof vbs / sizeof vbs[0]},
    {"JScript", js, sizeof js / sizeof js[0]},
};

static inline unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }
static inline bool alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool found(const char *s, size_t n, const marker *m)
{
    size_t k = strlen(m->s);
    if (n < k) return false;
    const unsigned char *t = (const unsigned char *)s, *pat = (const unsigned char *)m->s;
    for (size_t i = 0; i <= n - k; i++) {
        if (lower(t[i]) != pat[0]) continue;
        if (m->word && i > 0 && alnum(t[i - 1])) continue;
        size_t j = 1;
        while (j < k && lower(t[i + j]) == pat[j]) j++;
        if (j < k) continue;
        // A word marker ending in a letter must end the word too ("iex", not "iexplore").
        if (m->word && alnum(pat[k - 1]) && i + k < n && alnum(t[i + k])) continue;
        return true;
    }
    return false;
}

int st_script_score(const char *s, size_t n, const char **name)
{
    if (n > WH_STASH_SCRIPT_SCAN) n = WH_STASH_SCRIPT_SCAN;
    int best = 0;
    *name = NULL;
    for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++) {
        int score = 0, hits = 0;
        for (size_t i = 0; i < langs[l].n; i++)
            if (found(s, n, &langs[l].m[i])) {
                score += langs[l].m[i].w;
                hits++;
            }
        if (hits >= 2 && score > best) {
            best = score;
            *name = langs[l].name;
        }
    }
    return best;
}
