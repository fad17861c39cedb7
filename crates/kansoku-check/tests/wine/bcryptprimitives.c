/* Wine 8 (Debian 12) has no bcryptprimitives.dll, which Rust's standard library imports for
 * ProcessPrng. This stand-in, placed next to the executable under test, answers from
 * RtlGenRandom. Test scaffolding for tests/wine.rs only; never shipped. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
