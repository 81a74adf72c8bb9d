"""Homoglyphs folded to the ASCII character they imitate: "paypal" spelt with Cyrillic er and a
(U+0440, U+0430) reads "paypal" again.

Source: Unicode Technical Standard #39, ``confusables.txt``
(https://www.unicode.org/Public/security/latest/confusables.txt). This is a curated subset: the "MA" lines
whose source is one letter of another script (Cyrillic, Greek, Armenian, Cherokee, Lisu, Coptic, IPA and
small-capital Latin, a few historic scripts) or one look-alike punctuation mark, and whose target is one
ASCII character. Left out on purpose:

* characters NFKC already folds to the same character (fullwidth, mathematical alphanumerics, letterlike
  symbols, ligatures). Folding runs before NFKC, so a look-alike that NFKC sends elsewhere (Greek lunate
  sigma to final sigma, small em dash to em dash) is listed and wins;
* digits and letters of scripts written right to left or in running text of their own (Hebrew, Arabic,
  the Indic digit zeros), where folding would rewrite ordinary text and spoof nothing;
* the skeleton's cross-case and multi-character targets ("I" -> "l", "m" -> "rn"): a detector wants the
  letter the attacker meant, so capital I look-alikes fold to "I", not to the skeleton's "l".

Every target is one character, so folding never changes a text's length or its offsets.
Code points are written as numbers: the glyphs themselves are what linters rightly refuse in source.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# target -> source code points. Comments name the scripts, in the order listed.
_BY_TARGET: dict[str, tuple[int, ...]] = {
    # Latin alpha, Greek alpha, Cyrillic a, APL alpha
    "a": (0x0251, 0x03B1, 0x0430, 0x237A),
    # Greek, Cyrillic, Cherokee, Canadian syllabics, Lisu, Miao, Carian
    "A": (0x0391, 0x0410, 0x13AA, 0x15C5, 0xA4EE, 0x16F40, 0x102A0),
    # Latin tone six, Cyrillic capital soft sign, Cherokee, Canadian syllabics (2)
    "b": (0x0184, 0x042C, 0x13CF, 0x1472, 0x15AF),
    # Latin beta, Greek, Cyrillic, Cherokee, Canadian syllabics, Lisu, Lycian, Carian, Old Italic
    "B": (0xA7B4, 0x0392, 0x0412, 0x13F4, 0x15F7, 0xA4D0, 0x10282, 0x102A1, 0x10301),
    # Latin small capital, Greek lunate sigma, Coptic, Cyrillic, Cherokee small, Deseret
    "c": (0x1D04, 0x03F2, 0x2CA5, 0x0441, 0xABAF, 0x1043D),
    # Greek lunate sigma, Coptic, Cyrillic, Cherokee, Lisu, Carian, Old Italic, Deseret, Elbasan
    "C": (0x03F9, 0x2CA4, 0x0421, 0x13DF, 0xA4DA, 0x102A2, 0x10302, 0x10415, 0x1051C),
    # Cyrillic komi de, Cherokee, Canadian syllabics, Lisu
    "d": (0x0501, 0x13E7, 0x146F, 0xA4D2),
    # Cherokee, Canadian syllabics (2), Lisu
    "D": (0x13A0, 0x15DE, 0x15EA, 0xA4D3),
    # estimated symbol, Latin blackletter e, Cyrillic ie, Cyrillic abkhasian che
    "e": (0x212E, 0xAB32, 0x0435, 0x04BD),
    # Greek, Cyrillic, Tifinagh, Cherokee, Lisu, Warang Citi (2), Lycian
    "E": (0x0395, 0x0415, 0x2D39, 0x13AC, 0xA4F0, 0x118A6, 0x118AE, 0x10286),
    # Latin lenis f, Latin f with stroke, long s with high stroke, Armenian keh
    "f": (0xAB35, 0xA799, 0x1E9D, 0x0584),
    # Latin F with stroke, Greek digamma, Canadian syllabics, Lisu, Warang Citi (2), Lycian, Carian, Elbasan
    "F": (0xA798, 0x03DC, 0x15B4, 0xA4DD, 0x118C2, 0x118A2, 0x10287, 0x102A5, 0x10525),
    # Latin script g, g with palatal hook, turned delta, Armenian co
    "g": (0x0261, 0x1D83, 0x018D, 0x0581),
    # Cyrillic komi sje, Cherokee (2), Lisu
    "G": (0x050C, 0x13C0, 0x13F3, 0xA4D6),
    # Cyrillic shha, Armenian ho, Cherokee
    "h": (0x04BB, 0x0570, 0x13C2),
    # Greek eta, Coptic, Cyrillic en, Cherokee, Canadian syllabics, Lisu, Carian
    "H": (0x0397, 0x2C8E, 0x041D, 0x13BB, 0x157C, 0xA4E7, 0x102CF),
    # dotless i, small capital i, Latin iota, Greek iota, Cyrillic i, Cyrillic iota, Cyrillic palochka,
    # Cherokee small and capital v, Warang Citi, APL iota
    "i": (0x0131, 0x026A, 0x0269, 0x03B9, 0x0456, 0xA647, 0x04CF, 0xAB75, 0x13A5, 0x118C3, 0x2373),
    # Latin iota, Greek iota, Coptic, Cyrillic i, palochka, Tifinagh, Runic, Lisu, Miao, Lycian, Old Italic
    "I": (0x0196, 0x0399, 0x2C92, 0x0406, 0x04C0, 0x2D4F, 0x16C1, 0xA4F2, 0x16F28, 0x1028A, 0x10309),
    # Greek yot, Cyrillic je
    "j": (0x03F3, 0x0458),
    # Latin J with crossed tail, Greek yot, Cyrillic je, Cherokee, Canadian syllabics, Lisu
    "J": (0xA7B2, 0x037F, 0x0408, 0x13AB, 0x148D, 0xA4D9),
    # Greek kappa, Coptic, Cyrillic ka, Cherokee, Runic, Lisu, Elbasan
    "K": (0x039A, 0x2C94, 0x041A, 0x13E6, 0x16D5, 0xA4D7, 0x10518),
    # Latin letter dental click
    "l": (0x01C0,),
    # Coptic, Cherokee, Canadian syllabics, Lisu, Miao, Warang Citi (2), Deseret, Elbasan
    "L": (0x2CD0, 0x13DE, 0x14AA, 0xA4E1, 0x16F16, 0x118A3, 0x118B2, 0x1041B, 0x10526),
    # Greek mu, Greek san, Coptic, Cyrillic em, Cherokee, Canadian syllabics, Runic, Lisu, Carian, Old Italic
    "M": (0x039C, 0x03FA, 0x2C98, 0x041C, 0x13B7, 0x15F0, 0x16D6, 0xA4DF, 0x102B0, 0x10311),
    # Armenian vo, Armenian ra
    "n": (0x0578, 0x057C),
    # Greek nu, Coptic, Lisu, Elbasan
    "N": (0x039D, 0x2C9A, 0xA4E0, 0x10513),
    # Latin small capital o, sideways o, blackletter o, Greek omicron, Greek sigma, Coptic, Cyrillic o,
    # Georgian labial sign, Armenian oh, Osage, Warang Citi (2), Deseret
    "o": (0x1D0F, 0x1D11, 0xAB3D, 0x03BF, 0x03C3, 0x2C9F, 0x043E, 0x10FF, 0x0585, 0x104EA, 0x118C8, 0x118D7,
          0x1042C),
    # Greek omicron, Coptic, Cyrillic o, Armenian oh, Tifinagh, Ethiopic, Osage, Lisu, Warang Citi, Lycian,
    # Carian, Deseret, Elbasan
    "O": (0x039F, 0x2C9E, 0x041E, 0x0555, 0x2D54, 0x12D0, 0x104C2, 0xA4F3, 0x118B5, 0x10292, 0x102AB, 0x10404,
          0x10516),
    # Greek rho, rho symbol, Coptic, Cyrillic er, APL rho
    "p": (0x03C1, 0x03F1, 0x2CA3, 0x0440, 0x2374),
    # Greek rho, Coptic, Cyrillic er, Cherokee, Canadian syllabics, Lisu, Lycian
    "P": (0x03A1, 0x2CA2, 0x0420, 0x13E2, 0x146D, 0xA4D1, 0x10295),
    # Cyrillic qa, Armenian gim, Armenian za
    "q": (0x051B, 0x0563, 0x0566),
    # Tifinagh yarr
    "Q": (0x2D55,),
    # Latin r without handle, double r, Greek small capital gamma, Coptic gamma, Cyrillic ghe, Cherokee small
    "r": (0xAB47, 0xAB48, 0x1D26, 0x2C85, 0x0433, 0xAB81),
    # Latin yr, Cherokee (2), Osage, Canadian syllabics, Lisu, Miao
    "R": (0x01A6, 0x13A1, 0x13D2, 0x104B4, 0x1587, 0xA4E3, 0x16F35),
    # Latin small capital s, tone five, Cyrillic dze, Cherokee small, Warang Citi, Deseret
    "s": (0xA731, 0x01BD, 0x0455, 0xABAA, 0x118C1, 0x10448),
    # Cyrillic dze, Armenian tiwn, Cherokee (2), Lisu, Miao, Lycian, Deseret
    "S": (0x0405, 0x054F, 0x13D5, 0x13DA, 0xA4E2, 0x16F3A, 0x10296, 0x10420),
    # down tack, large down tack, Greek tau, Coptic, Cyrillic te, Cherokee, Lisu, Miao, Warang Citi, Lycian,
    # Carian, Old Italic
    "T": (0x22A4, 0x27D9, 0x03A4, 0x2CA6, 0x0422, 0x13A2, 0xA4D4, 0x16F0A, 0x118BC, 0x10297, 0x102B1, 0x10315),
    # Latin volapuk ue, small capital u, u with short right leg, u with left hook, v with hook, Greek upsilon,
    # Armenian seh, Osage, Warang Citi
    "u": (0xA79F, 0x1D1C, 0xAB4E, 0xAB52, 0x028B, 0x03C5, 0x057D, 0x104F6, 0x118D8),
    # union, n-ary union, Armenian seh, Osage, Canadian syllabics, Lisu, Miao, Warang Citi
    "U": (0x222A, 0x22C3, 0x054D, 0x104CE, 0x144C, 0xA4F4, 0x16F42, 0x118B8),
    # logical or, n-ary logical or, small capital v, Greek nu, Cyrillic izhitsa, Cherokee small, Warang Citi
    "v": (0x2228, 0x22C1, 0x1D20, 0x03BD, 0x0475, 0xABA9, 0x118C0),
    # Cyrillic izhitsa, Tifinagh, Cherokee, Canadian syllabics, Bamum, Lisu, Miao, Warang Citi, Elbasan
    "V": (0x0474, 0x2D38, 0x13D9, 0x142F, 0xA6DF, 0xA4E6, 0x16F08, 0x118A0, 0x1051D),
    # Latin turned m, small capital w, Cyrillic omega, Cyrillic we, Armenian ayb, Cherokee small
    "w": (0x026F, 0x1D21, 0x0461, 0x051D, 0x0561, 0xAB83),
    # Cyrillic we, Cherokee (2), Lisu
    "W": (0x051C, 0x13B3, 0x13D4, 0xA4EA),
    # multiplication sign, crossing diagonals (2), cross product, Cyrillic ha, Canadian syllabics (3)
    "x": (0x00D7, 0x292B, 0x292C, 0x2A2F, 0x0445, 0x166E, 0x1541, 0x157D),
    # Latin chi, Greek chi, Coptic, Cyrillic ha, Tifinagh, Runic, Canadian syllabics, box diagonal cross, Lisu,
    # Lycian, Carian, Old Italic, Elbasan
    "X": (0xA7B3, 0x03A7, 0x2CAC, 0x0425, 0x2D5D, 0x16B7, 0x166D, 0x2573, 0xA4EB, 0x10290, 0x102B4, 0x10317,
          0x10527),
    # Latin gamma, v with palatal hook, small capital y, y with loop, y with short right leg, Greek gamma,
    # Cyrillic u, Cyrillic straight u, Georgian qar, Warang Citi
    "y": (0x0263, 0x1D8C, 0x028F, 0x1EFF, 0xAB5A, 0x03B3, 0x0443, 0x04AF, 0x10E7, 0x118DC),
    # Greek upsilon, upsilon with hook, Coptic, Cyrillic u, Cyrillic straight u, Cherokee (2), Lisu, Miao,
    # Warang Citi, Carian
    "Y": (0x03A5, 0x03D2, 0x2CA8, 0x0423, 0x04AE, 0x13A9, 0x13BD, 0xA4EC, 0x16F43, 0x118A4, 0x102B2),
    # small capital z, Cherokee small, Warang Citi
    "z": (0x1D22, 0xAB93, 0x118C4),
    # Greek zeta, Cherokee, Lisu, Warang Citi
    "Z": (0x0396, 0x13C3, 0xA4DC, 0x118A9),
    # Punctuation that spells URLs, addresses and key-value pairs.
    # Armenian full stop, Hebrew sof pasuq, raised colon, modifier colon, ratio, triangular colon,
    # two dot punctuation, Lisu tone, Syriac (2), Runic, Mongolian (2)
    ":": (0x0589, 0x05C3, 0x02F8, 0xA789, 0x2236, 0x02D0, 0x205A, 0xA4FD, 0x0703, 0x0704, 0x16EC, 0x1803, 0x1809),
    # Syriac (2), Vai, Kharoshthi, Lisu tone
    ".": (0x0701, 0x0702, 0xA60E, 0x10A50, 0xA4F8),
    # fraction slash, division slash, box light diagonal, big solidus, mathematical rising diagonal
    "/": (0x2044, 0x2215, 0x2571, 0x29F8, 0x27CB),
    # hyphen, non-breaking hyphen, figure dash, en dash, minus sign, small em dash, hyphen bullet,
    # modifier minus
    "-": (0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0xFE58, 0x2043, 0x02D7),
    # Armenian comma and apostrophe, single quotation marks (3), prime, reversed prime, Hebrew geresh,
    # modifier letters prime, vertical line, acute, grave, turned comma, reversed comma, apostrophe
    "'": (0x055D, 0x055A, 0x2018, 0x2019, 0x201B, 0x2032, 0x2035, 0x05F3, 0x02B9, 0x02C8, 0x02CA, 0x02CB,
          0x02BB, 0x02BD, 0x02BC),
    # double quotation marks (3), reversed double prime, Hebrew gershayim, modifier double prime
    '"': (0x201C, 0x201D, 0x201F, 0x2036, 0x05F4, 0x02BA),
    # single low-9 quotation mark, Arabic decimal separator, Lisu tone
    ",": (0x201A, 0x066B, 0xA4F9),
    # Latin letter retroflex click
    "!": (0x01C3,),
}

CONFUSABLES: Mapping[int, str] = MappingProxyType(
    {cp: target for target, sources in _BY_TARGET.items() for cp in sources}
)
"""Code point -> the one ASCII character it imitates."""

__all__ = ["CONFUSABLES"]
