"""What personal identifiers look like in text, whatever their disguise: normalise the text, then match it.

wpmi must never store a National Insurance number, an e-mail address, a UK phone number or a UK postcode. A
sender (or an attacker) can hide one from a plain regex in many ways that a person reading it would still see
through: dashes, dots, slashes or odd spacing, zero-width or bidi characters, Cyrillic or Greek letters that
look like Latin ones, full-width forms, a dropped suffix letter, a glued-on prefix (`P_QQ123456C`), `＠` for
`@`, lower case. So text is first put in the form a reader sees (`normalise`), and the patterns are written
for that form, ignoring separators where the identifier's shape is strong enough to allow it.

This module is plain text in, a kind of identifier out. loaders/privacy.py scans workbooks with it and
loaders/organisation.py refuses typed names with it; it imports nothing from loaders but the errors (it sits
with the basics, so that both may use it).

False alarms cost a resend; misses cost a breach. Each rule below says which way it leans and why, and the
tests (tests/test_privacy.py) hold a table of disguises that must be found and of ordinary MI cells (dates,
times, amounts, contract ids, references, payment group codes) that must not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

from loaders.errors import PersonalDataRefused

NINO_KIND = "a National Insurance number"
EMAIL_KIND = "an email address"
PHONE_KIND = "a phone number"
POSTCODE_KIND = "a postcode"
KINDS = (NINO_KIND, EMAIL_KIND, PHONE_KIND, POSTCODE_KIND)

# --- normalising ----------------------------------------------------------------------------------------------

# Letters of other scripts that look like A-Z (upper or lower case) and are typed to slip past a Latin regex.
# A small explicit table, not a confusables library: wpmi only needs the letters that can stand in for the
# letters of a NI number, a postcode or an e-mail address, and a table can be read and reviewed in full.
# Letters that only look like small capitals (Cyrillic к м н т в) are included: upper-cased they pass for K M H
# T B. Digit look-alikes (Cyrillic З for 3, Latin O for 0) are not mapped: O and l in ordinary text would then
# read as digits and turn words into numbers, a false-alarm risk for little gain.
_LOOK_ALIKES = {
    # Cyrillic capitals
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "Ԁ": "D",
    "Ꙅ": "S",
    # Cyrillic small letters
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l",
    "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "ԝ": "w",
    "х": "x",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
    # Greek small letters
    "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c",
    "ϳ": "j",
    # Armenian letters that pass for Latin ones
    "Օ": "O", "օ": "o", "ս": "u", "հ": "h", "ո": "n",
}  # fmt: skip
# Characters that show as nothing but are not format characters (Hangul fillers, the braille blank): dropped
# like the zero-width ones, so `QQ<filler>123456C` reads as QQ123456C.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Zero-width and format characters (Cf: U+200B-U+200F, U+202A-U+202E bidi controls, U+2060 word joiner,
# U+FEFF, U+00AD soft hyphen, tags, ...) and combining marks (Mn, Me: a Q with an underline is still a Q).
_DROPPED = frozenset(("Cf", "Mn", "Me"))


def _fold(ch: str) -> str:
    """What one non-ASCII character of decomposed text reads as."""
    category = unicodedata.category(ch)
    if category in _DROPPED or ch in _BLANK_LETTERS:
        return ""
    if category == "Cc":
        return " " if ch.isspace() else ""
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category == "Pd":
        return "-"
    if category in ("Zs", "Zl", "Zp"):
        return " "
    return _LOOK_ALIKES.get(ch, ch)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# ASCII control characters show as nothing either (tab, line feed and carriage return are spaces): dropped.
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise(text: str) -> str:
    """`text` as the patterns read it: upper case, plain ASCII letters and digits wherever a reader would see them.

    Unicode compatibility decomposition (NFKD: what NFKC does before it recomposes) turns full-width and other
    compatibility forms into ASCII: `ＱＱ１２３` is QQ123, `＠` and `﹫` are @, `ｍ` is m, circled and
    mathematical letters are plain ones. NFKD is used rather than NFKC because it also splits an accented
    letter into letter + mark, and marks are then dropped (`Q̲` is Q); recomposing would only rebuild what is
    dropped. Then: format, zero-width and control characters are dropped (NUL too, so that NUL can separate
    values in a sheet-wide search: see loaders/privacy.py); look-alike letters become Latin; digits of any
    script become 0-9; Unicode dashes become `-` and Unicode spaces a space; and the whole is upper-cased.

    Pure ASCII text (almost every cell) needs only the upper-casing, and takes a fast path that does only that.
    """
    return normalise_joined(text.replace("\x00", "") if "\x00" in text else text)


def normalise_joined(text: str) -> str:
    """Many values joined by NUL, each normalised, NULs kept: the same as normalising each and joining them.

    Each step works character by character (decomposing never composes across a NUL, and NUL has no marks to
    reorder), so a whole sheet's values can be normalised in three C-speed calls. No value may hold a NUL.
    """
    if _CONTROLS.search(text):
        text = _CONTROLS.sub("", text)
    if text.isascii():
        return text.upper()
    text = unicodedata.normalize("NFKD", text)
    # Only the distinct characters that change are replaced (in a sheet of `£` amounts, none), so the cost is
    # one C-speed scan for non-ASCII characters, not a Python step per character.
    changes = {ch: folded for ch in set(_NON_ASCII.findall(text)) if (folded := _fold(ch)) != ch}
    if changes:
        text = re.sub("[" + re.escape("".join(changes)) + "]", lambda m: changes[m.group()], text)
    return text.upper()


# --- the patterns (over normalised text: upper case, ASCII digits, no NUL inside a value) ----------------------
# A text is searched wrapped in NUL (`wrap`). No pattern matches across a NUL, and NUL next to a value looks to
# every pattern like the start or end of a text, so loaders/privacy.py can search many values joined by NUL at
# once and get exactly the matches each value would give alone.

# National Insurance number: two letters, six digits, an optional suffix letter. Between any two of its
# characters there may be anything that is not a letter or a digit (space, dash, dot, slash, underscore,
# colon, brackets, a letter of another script ...): a person reads `QQ-12.34/56 C` as a NI number, so the scan
# does too. The six digits must not run on into a seventh, directly or across the spaces, dashes and dots that
# group digits (`AB 1234567`, `AB 12 34 56 78`, `on 07700 900123`); after any other character a digit starts
# something else (`AB123456/2013`, `P_AB123456_1`).
_GAP = r"[^A-Z0-9\x00]*"
NINO = re.compile(
    rf"(?P<letters>[A-Z]{_GAP}[A-Z])(?P<gap>{_GAP})(?P<digits>[0-9](?:{_GAP}[0-9]){{5}})(?![\s\-.]*[0-9])"
    rf"(?:{_GAP}(?P<suffix>[A-D])(?![A-Z]))?"
)
# With its suffix letter (A-D, then not another letter) the shape is strong enough on its own: any two
# letters, glued to anything, count (`P_QQ123456C`, `IDQQ 12 34 56 C`): a false alarm such as `Invoice 123456
# A` costs a resend. Without the suffix (or with one glued to more letters) `XY 123456` is a common shape in
# ordinary text, so a number counts only if
# - its letters are a prefix HMRC issues (first letter not D F I Q U V, second not D F I O Q U V, and not BG
#   GB KN NK NT ZZ) - except the example prefix QQ and the temporary-number prefix TN, which are always
#   caught: examples are copied from guidance into real files, and TN numbers carry a date of birth;
# - its letters do not end a longer word that is then parted from the digits (`Invoice 123456`, `period
#   ending 123456`); glued to the digits they still count (`REFQQ123456`), since that is how a NI number is
#   hidden inside a reference;
# - its digits are not a zero-padded counter (starting 00: `WP-000123`, how references are numbered), a
#   month stamp (`EP_201303.xlsx`: 19xx or 20xx then a month), written with a slash or colon (a date, year
#   range or time: `as at 31/03/13`, `YR 2013/14`, `12:34:56`), or a dd.mm.yy or dd-mm-yy date.
# A suffix-less number that meets one of these exceptions is missed: the price of not rejecting every return
# with a reference like WP-000123 or a title `Data as at 31.03.13`. QQ and TN numbers get no exceptions.
# One more is decided per sheet, in loaders/privacy.py: a shape that many values share is a reference scheme
# (`reference_shape`).
_NEVER_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "ZZ"})
_ALWAYS_CAUGHT = frozenset({"QQ", "TN"})
_MONTH_STAMP = re.compile(r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])")
_DATE_WRITTEN = re.compile(r"([0-9]{2})([.\-])([0-9]{2})\2([0-9]{2})")


def _issued_prefix(prefix: str) -> bool:
    return prefix[0] not in "DFIQUV" and prefix[1] not in "DFIOQUV" and prefix not in _NEVER_ISSUED


def _is_nino(match: re.Match, text: str) -> bool:
    """Whether a NINO-shaped match counts (see the rules above NINO)."""
    if match["suffix"]:
        return True
    prefix = match["letters"][0] + match["letters"][-1]
    if prefix in _ALWAYS_CAUGHT:
        return True
    if not _issued_prefix(prefix):
        return False
    start = match.start()
    if match["gap"] and start > 0 and text[start - 1].isalpha():
        return False  # the end of a word, then the number: `Invoice 123456`
    written = match["digits"]
    digits = written if len(written) == 6 else re.sub(r"[^0-9]", "", written)
    if digits.startswith("00") or _MONTH_STAMP.fullmatch(digits) or "/" in written or ":" in written:
        return False
    date = _DATE_WRITTEN.fullmatch(written)
    return not (date and 1 <= int(date[1]) <= 31 and 1 <= int(date[3]) <= 12)


_DIGIT_TO_9 = str.maketrans("0123456789", "9999999999")


def reference_shape(match: re.Match) -> str | None:
    """How a counting NINO-shaped match is written, if it could also be a reference (no suffix, not QQ or TN).

    `WP-012345` gives `WP-999999`. A sheet in which many values share one such shape is using it as its
    reference scheme (loaders/privacy.py decides); a NI number with a suffix, or with the QQ or TN prefix, is
    never a reference (None).
    """
    if match["suffix"]:
        return None
    letters = match["letters"]
    if letters[0] + letters[-1] in _ALWAYS_CAUGHT:
        return None
    return letters + match["gap"] + match["digits"].translate(_DIGIT_TO_9)


# E-mail address: after normalising, every at-sign form the Unicode standard folds to @ is @ (`＠`, `﹫`).
# Spaces may stand round the @ and the dots. The at-sign and dots may also be written out the way addresses
# are hidden from spam harvesters: `(at)`, `[at]`, `{at}`, `<at>` and `(dot)` and so on, or ` dot `; these
# brackets are rarely anything else, so they count like @. ` at ` written as a plain word is ordinary English
# (`seen at home`, `as at 31/03/13`), so `jo at example dot org` counts only when the address ends in a
# common top-level domain (below): that catches the spelled-out address people write without flagging text.
# An address ends in an alphabetic top-level domain, which keeps `sent @ 12.30` a time.
# (Each form is its own regex starting with its own rare character, and the character before it is checked by
# a lookbehind after it, so a sheet-wide search skips ahead to the next @ or bracket at C speed.)
_LABEL = r"[\w\-]+"
_DOT = r"(?:\s*\.\s*|\s*[(\[{<]\s*DOT\s*[)\]}>]\s*|\s+DOT\s+)"
_DOMAIN = rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[^\W\d_]{{2,}}(?!\w)"
_TLDS = "COM|ORG|NET|UK|GOV|EDU|AC|NHS|SCH|IO|INFO|BIZ|ME|CO|IE|EU|DE|FR|US|EMAIL|ONLINE"
EMAIL_AT = re.compile(rf"@(?<=[\w.+'\-\s]@)\s*{_DOMAIN}")
EMAIL_BRACKETED = re.compile(rf"[(\[{{<](?<=[\w.+'\-\s][(\[{{<])\s*AT\s*[)\]}}>]\s*{_DOMAIN}")
EMAIL_WORD = re.compile(rf"AT(?<=\sAT)\s+{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLDS})(?!\w)")

# UK phone number: +44 or 0044 (with an optional `(0)`) then 9-10 digits, or a national 0 then 9-10 digits,
# grouped by spaces, dashes, dots, slashes or brackets (at most three in a row), and not run on into more
# digits. A national number's first group must hold at least three digits (07700, 020, 0161, (0161)): no UK
# number is written `01 23 ...`, but dates are (`01-02-2014 12:00`, `01.02.2014`, `01/02/2014 12:00`), and so
# are decimals (`0.123456789`); this one rule keeps them all from reading as phone numbers. Colons never
# group digits, so a time never joins a number. Written `0 7 7 0 0 ...` a number is caught only as a whole
# cell (below). (The pattern starts with the character it needs, + ( or 0, and checks for a digit before it
# with a lookbehind after it: the same match as a leading `(?<![0-9])`, but a search can skip ahead to the
# next + ( or 0 at C speed.)
_PSEP = r"[\s\-./()]{0,3}"
_INTERNATIONAL = rf"(?:(?<=\+)|(?<=0)0){_PSEP}44{_PSEP}(?:\(0\){_PSEP})?[1-9](?:{_PSEP}[0-9]){{8,9}}"
_NATIONAL = rf"(?:(?<=\()0|(?<=0))[1-9][0-9](?:{_PSEP}[0-9]){{7,8}}"
PHONE = re.compile(rf"[+(0](?<![0-9][+(0])(?:{_INTERNATIONAL}|{_NATIONAL})(?!{_PSEP}[0-9])")

# UK postcode: outward code (letter, optional letter, digit, optional letter or digit), then the inward code
# (digit, two letters), in any case, with or without spaces, dashes, dots, slashes or underscores between the
# two halves, and not glued to other letters or digits (`ABC12DEF` is not an address). Letters are limited to
# those Royal Mail uses in each position (no Q V X first, no I J Z second, no C I K M O V inward), which keeps
# ordinary codes out.
_PC_SEP = r"[\s\-._/]*"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
POSTCODE = re.compile(
    rf"[A-PR-UWYZ](?<![A-Z0-9][A-PR-UWYZ])(?:(?<=G)IR{_PC_SEP}0AA|[A-HK-Y]?[0-9][A-Z0-9]?{_PC_SEP}{_INWARD})"
    r"(?![A-Z0-9])"
)

# A whole value that is nothing but a postcode or a phone number with separators anywhere, e.g. a participant
# reference `s w 1 a 1 a a` or `0 7 7 0 0 9 0 0 1 2 3`. Inside longer text these spacings are too loose to
# trust; as a cell's entire content they can only be the identifier. A phone number here may be spaced by
# spaces, dashes, underscores and brackets, not dots or slashes, so `0.123456789` stays a number. These two
# need the text wrapped in NUL (`wrap`): each starts at the NUL before a value and ends at the NUL after it.
_S = r"[\s\-._/]*"
POSTCODE_CELL = re.compile(
    rf"\x00{_S}(?:G{_S}I{_S}R{_S}0{_S}A{_S}A|[A-PR-UWYZ]{_S}(?:[A-HK-Y]{_S})?[0-9]{_S}(?:[A-Z0-9]{_S})?"
    rf"[0-9]{_S}[ABD-HJLNP-UW-Z]{_S}[ABD-HJLNP-UW-Z]){_S}(?=\x00)"
)
_C = r"[\s\-_()]*"
PHONE_CELL = re.compile(
    rf"\x00{_C}(?:(?:\+|0{_C}0){_C}4{_C}4{_C}(?:0{_C})?|0{_C})[1-9](?:{_C}[0-9]){{8,9}}{_C}(?=\x00)"
)

# Every pattern, with its kind, in the order a kind is reported when a text holds more than one, and the test
# a NINO-shaped match must also pass (the others count as they match).
MATCHERS: tuple[tuple[str, re.Pattern, Callable[[re.Match, str], bool] | None], ...] = (
    (NINO_KIND, NINO, _is_nino),
    (EMAIL_KIND, EMAIL_AT, None),
    (EMAIL_KIND, EMAIL_BRACKETED, None),
    (EMAIL_KIND, EMAIL_WORD, None),
    (PHONE_KIND, PHONE, None),
    (PHONE_KIND, PHONE_CELL, None),
    (POSTCODE_KIND, POSTCODE, None),
    (POSTCODE_KIND, POSTCODE_CELL, None),
)


def wrap(text: str) -> str:
    """Normalised text as the patterns search it: NUL before and after (where whole-value patterns start and end)."""
    return f"\x00{text}\x00"


def could_match(wrapped: str) -> bool:
    """Whether any pattern matches at all (before a NINO shape's exceptions): a superset, so False proves none."""
    return any(pattern.search(wrapped) for _, pattern, _ in MATCHERS)


def kind_of_normalised(text: str) -> str | None:
    """The kind of personal identifier in `text` (already normalised), or None."""
    wrapped = wrap(text)
    for kind, pattern, counts in MATCHERS:
        for match in pattern.finditer(wrapped):
            if counts is None or counts(match, wrapped):
                return kind
    return None


def kind_of(text: str) -> str | None:
    """The kind of personal identifier `text` holds in any disguise (e.g. "a postcode"), or None."""
    return kind_of_normalised(normalise(text))


def typed_message(name: str, source: str, kind: str) -> str:
    """What to tell someone whose typed `name` (field) holds `kind`: the field and kind, never the value.

    `source` is where it was typed ("command line", "Data page"); a leading "the" is allowed ("the withdrawal").
    """
    where = source.removeprefix("the ")
    return (
        f"The {name} given on the {where} looks like {kind}. wpmi never stores personal data: give the {name} "
        "without it."
    )


def refuse_personal_typed(fields: Mapping[str, object], source: str) -> None:
    """Raise PersonalDataRefused if any typed field holds personal data (e.g. {"partner": name}, "command line")."""
    for name, value in fields.items():
        kind = kind_of(str(value)) if value not in (None, "") else None
        if kind:
            raise PersonalDataRefused(typed_message(name, source, kind))
