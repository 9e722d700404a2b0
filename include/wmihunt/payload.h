/* What a WMI consumer or a command line runs: the layers of encoding and
 * obfuscation peeled off one by one (PowerShell -EncodedCommand,
 * FromBase64String with gzip/deflate, char codes, cmd carets and variable
 * substrings, PowerShell backticks, concatenation, -f format, iex), the
 * indicators in every layer (URLs, domains, IPs, UNC paths, file paths,
 * registry keys) and the program that actually runs.
 *
 * The text is hostile: every pass is bounded (bytes, depth, time; see
 * lib/payload/payload_int.h), reaching a bound is said on the diagnostic
 * sink with the source and wh_payload_limited() becomes true, and what was
 * decoded until then is kept. Nothing is executed.
 *
 * Ownership: one arena per analysis; every string handed out lives until
 * wh_payload_free(). The input text is copied and need not outlive the call. */
#ifndef WMIHUNT_PAYLOAD_H
#define WMIHUNT_PAYLOAD_H

#include "wmihunt/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_payload wh_payload;

typedef struct wh_payload_opts {
    size_t size;         /* sizeof(wh_payload_opts) */
    size_t max_bytes;    /* bytes of all layers together; 0 = WH_PAYLOAD_DEF_BYTES */
    unsigned max_depth;  /* layers decoded after the raw text; 0 = WH_PAYLOAD_DEF_DEPTH */
    double max_seconds;  /* wall time of one analysis; 0 = WH_PAYLOAD_DEF_SECONDS, < 0 none */
} wh_payload_opts;

/* Analyses len bytes of text (a command line, a script, a consumer's
 * CommandLineTemplate or ScriptText; UTF-8). opts may be NULL (defaults).
 * source names the text in diagnostics (e.g. "Repository/OBJECTS.DATA
 * consumer Updater"); may be NULL. Returns WH_OK with *out set (also when a
 * bound was reached: see wh_payload_limited), WH_E_ARG on bad arguments,
 * WH_E_NOMEM when not even the handle could be made. */
WH_MUST_CHECK wh_status wh_payload_analyze(const char *text, size_t len, const wh_payload_opts *opts,
                                           wh_diag_sink *diags, const char *source, wh_payload **out);

/* Layers in order: 0 is the raw text, each next one decoded from the one
 * before. how says how it was obtained ("raw", "powershell -EncodedCommand",
 * "FromBase64String", "FromBase64String + gzip", "char codes", "cmd caret",
 * "cmd %VAR:~x,y%", "cmd /v delayed expansion", "powershell backtick",
 * "string concatenation", "-f format", ".Replace()", "Invoke-Expression"...).
 * A binary blob is a layer whose text reads "binary (PE, N bytes, sha256 H)";
 * it is not decoded further. NULL when i is out of range. */
size_t wh_payload_layer_count(const wh_payload *p);
const char *wh_payload_layer(const wh_payload *p, size_t i, const char **how);

/* The last, most decoded text layer (UTF-8; the raw text when nothing was decoded). */
const char *wh_payload_decoded(const wh_payload *p);

/* Indicators from every layer, deduplicated, in the order first seen.
 * kind is one of "url", "domain", "ip", "unc", "path", "registry", "program". */
size_t wh_payload_indicator_count(const wh_payload *p);
const char *wh_payload_indicator(const wh_payload *p, size_t i, const char **kind);

/* The program that actually runs: the first token of the most decoded
 * command line with quotes removed, through cmd /c chains (set, call,
 * start), powershell -Command running an executable, standard environment
 * variables and known 8.3 short names (PROGRA~1, WINDOW~1, POWERS~1.EXE)
 * expanded. NULL when the text is not a command line (e.g. a script). */
const char *wh_payload_program(const wh_payload *p);

/* What a script does, as short phrases read from every text layer
 * ("connects to WMI (root\\cimv2)", "queries Win32_Process", "terminates
 * the process that set it off", "makes HTTP GET requests to http://...",
 * "runs code it builds or downloads (Execute / eval / Invoke-Expression)").
 * Nothing is executed; at most 16 phrases. */
size_t wh_payload_behaviour_count(const wh_payload *p);
const char *wh_payload_behaviour(const wh_payload *p, size_t i);

/* True when a bound (bytes, depth, time, indicators, inflate size or ratio,
 * memory) stopped some decoding; each was also said on the sink. */
bool wh_payload_limited(const wh_payload *p);

void wh_payload_free(wh_payload *p);

#ifdef __cplusplus
}
#endif
#endif
