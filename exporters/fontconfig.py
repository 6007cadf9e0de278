"""fontconfig's own C API, through cffi: the library WeasyPrint (Pango) already loads to
find fonts, so what it answers is what the PDF will use. glyphs.py asks it which
characters some font covers, textfont.py which file draws the text font."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_CDEF = """
typedef int FcBool;
typedef unsigned char FcChar8;
typedef unsigned int FcChar32;
typedef struct _FcConfig FcConfig;
typedef struct _FcPattern FcPattern;
typedef struct _FcCharSet FcCharSet;
typedef struct _FcObjectSet FcObjectSet;
typedef struct _FcFontSet { int nfont; int sfont; FcPattern **fonts; } FcFontSet;
typedef enum { FcResultMatch, FcResultNoMatch, FcResultTypeMismatch, FcResultNoId,
               FcResultOutOfMemory } FcResult;
typedef enum { FcMatchPattern, FcMatchFont, FcMatchScan } FcMatchKind;
FcConfig *FcInitLoadConfigAndFonts(void);
FcPattern *FcPatternCreate(void);
void FcPatternDestroy(FcPattern *p);
FcBool FcPatternAddString(FcPattern *p, const char *object, const FcChar8 *s);
FcObjectSet *FcObjectSetBuild(const char *first, ...);
void FcObjectSetDestroy(FcObjectSet *os);
FcFontSet *FcFontList(FcConfig *config, FcPattern *p, FcObjectSet *os);
void FcFontSetDestroy(FcFontSet *s);
FcBool FcConfigSubstitute(FcConfig *config, FcPattern *p, FcMatchKind kind);
void FcDefaultSubstitute(FcPattern *pattern);
FcPattern *FcFontMatch(FcConfig *config, FcPattern *p, FcResult *result);
FcResult FcPatternGetString(FcPattern *p, const char *object, int n, FcChar8 **s);
FcResult FcPatternGetInteger(FcPattern *p, const char *object, int n, int *i);
FcResult FcPatternGetBool(FcPattern *p, const char *object, int n, FcBool *b);
FcResult FcPatternGetCharSet(FcPattern *p, const char *object, int n, FcCharSet **c);
FcCharSet *FcCharSetCreate(void);
FcBool FcCharSetMerge(FcCharSet *a, const FcCharSet *b, FcBool *changed);
FcBool FcCharSetHasChar(const FcCharSet *fcs, FcChar32 ucs4);
"""
_LIBRARIES = ("fontconfig-1", "fontconfig", "libfontconfig-1.dll", "libfontconfig.so.1",
              "libfontconfig.1.dylib")


@lru_cache(maxsize=1)
def load() -> tuple[Any, Any, Any] | None:
    """(cffi FFI, fontconfig library, its configuration with the installed fonts), once
    per process: both users ask the same configuration, which lives as long as the
    process (loading one scans every font). None when fontconfig cannot be loaded."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    for name in _LIBRARIES:
        try:
            lib = ffi.dlopen(name)
        except OSError:
            continue
        return ffi, lib, lib.FcInitLoadConfigAndFonts()
    return None
