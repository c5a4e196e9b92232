"""PII detection and redaction for Japanese web text.

Detects personal (and a few organisational) identifiers with a handful of
precompiled regular expressions, validates each candidate in Python (check
digits, Luhn, ``ipaddress``, numbering-plan lengths, nearby keywords) and
replaces every accepted span with a typed token:

============  ============  ====================================================
type          token         what
============  ============  ====================================================
``email``     ``<EMAIL>``   e-mail addresses (ASCII or full-width, ``@``/``＠``)
``phone``     ``<PHONE>``   Japanese phone numbers (landline, mobile, 050 IP,
                            0120/0800 toll-free, 0570, ``+81`` forms)
``mynumber``  ``<MYNUMBER>``  My Number (個人番号), 12 digits, valid check digit
``corpnum``   ``<CORPNUM>`` corporate number (法人番号), 13 digits, valid
                            leading check digit; also invoice ``T`` numbers
``card``      ``<CARD>``    payment card numbers, 13-19 digits, Luhn + IIN
``ip``        ``<IP>``      IPv4 and IPv6 addresses
``postcode``  ``<POSTCODE>``  postal codes (``〒`` itself is kept)
``address``   ``<ADDRESS>`` street addresses down to the chome/banchi/go
                            numbering (building names are kept)
============  ============  ====================================================

Postal codes are a separate type from addresses: a postal code alone locates
a few hundred households, and keeping the type apart lets notebooks count them.
A postal code directly followed by an address yields two adjacent tokens
(``〒<POSTCODE> <ADDRESS>``).

Why these rules: Japanese web text mixes PII with look-alikes (dates, prices,
ISBNs, JAN codes, order numbers, version strings). Where a format carries a
checksum it is required (My Number: 総務省令 on the individual number check
digit; corporate number: 国税庁 法人番号 check digit; cards: ISO/IEC 7812 Luhn).
Where a 12/13-digit run carries no formatting (bare digits), a keyword must
also precede it within :data:`CONTEXT_CHARS` characters, because about one
random number in ten passes a mod-10/11 checksum and bare 12/13-digit runs are
mostly tracking numbers and JAN/EAN codes. HojiChar's ``MaskPersonalInformation``
(phone and e-mail only, regex without validation) is the anchor this extends.

The detector expects NFKC text (the pipeline normalises during extraction) but
also accepts full-width digits, letters, ``＠`` and ``－`` so it can run on raw text.

Density (score ``char_ratio``) is the share of the document's characters
covered by PII spans, measured before redaction: a ratio in [0, 1] that is
comparable across document lengths. ``spans_per_kchar`` (spans per 1,000
characters) is stored too, for notebooks.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import ClassVar, Mapping, NamedTuple

from filters.base import SHARE, Filter
from schemas.records import Doc

#: PII types in overlap-priority order (earlier wins when two spans start at
#: the same position with the same length).
TYPES: tuple[str, ...] = ("email", "address", "card", "corpnum", "mynumber", "phone", "ip", "postcode")

#: Replacement token of each type.
TOKENS: dict[str, str] = {t: f"<{t.upper()}>" for t in TYPES}

#: How many characters before a candidate are searched for a context keyword.
CONTEXT_CHARS = 24

# Every pattern starts with a lookahead on its possible first characters: CPython's
# re then scans for those characters before trying the (slow) lookbehinds, which
# makes the whole detector about 5x faster on ordinary text.
_D = "[0-9０-９]"
_HY = "[-‐‑–—−ー－]"  # ASCII hyphen, Unicode hyphens/dashes, minus, chōon (used as a dash), full-width
_SEP = "[ \u3000\\-‐‑–—−ー－]"
_ASCII_WORD = "0-9０-９A-Za-zＡ-Ｚａ-ｚ_"
_KANJI = "\u4e00-\u9fff\u3400-\u4dbf々〆ヶ"
# A number glued to a word by a dot ("v1.0312345678", "3.14.192.168") is part of it;
# after an ellipsis or Japanese it is not ("連絡先...090-1234-5678": NFKC makes … "...").
_NOT_AFTER_WORD_DOT = f"(?<![{_ASCII_WORD}][.])"
_KATA = "ァ-ヴー"

# -- e-mail ---------------------------------------------------------------------
_E_LOCAL = "A-Za-z0-9Ａ-Ｚａ-ｚ０-９._%+\\-．＿％＋－"
_E_LABEL = "[A-Za-z0-9Ａ-Ｚａ-ｚ０-９](?:[A-Za-z0-9Ａ-Ｚａ-ｚ０-９\\-－]{0,61}[A-Za-z0-9Ａ-Ｚａ-ｚ０-９])?"
# The at sign, written plainly or obfuscated against address harvesters:
# "info[at]example.jp", "info (at) example.jp", "info（アット）example.jp", and
# "info★example.jp" when the text next to it says what the star stands for
# ("★を@に"). An obfuscated address needs a lower-case TLD: "4WD(AT) HID.ETC" is a
# used-car listing's automatic transmission, "info[AT]example.jp" a mailbox.
_E_OPEN, _E_CLOSE = "[\\[(（【<＜]", "[\\])）】>＞]"
_E_AT_WORD = "[Aa][Tt]|アット|あっと"
_E_AT = rf"(?P<at>[@＠]|\s?{_E_OPEN}\s?(?:{_E_AT_WORD}|[@＠])\s?{_E_CLOSE}\s?|[★☆])"
_E_DOT = r"(?:[.．]|\s?[\[(（]\s?(?:[Dd][Oo][Tt]|[.．]|ドット)\s?[\])）]\s?)"
_EMAIL = re.compile(
    rf"(?=[{_E_LOCAL}])(?<![{_E_LOCAL}])[{_E_LOCAL}]{{1,64}}{_E_AT}(?:{_E_LABEL}{_E_DOT})+"
    r"(?P<tld>[A-Za-zＡ-Ｚａ-ｚ]{2,24}|xn--[a-z0-9]{1,59})"
    r"(?![A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-－]|[.．][A-Za-z0-9Ａ-Ｚａ-ｚ０-９])"
)
# What a text needs for an e-mail other than a plain at sign (the detector's gate).
_E_OBFUSCATED_AT = re.compile(rf"{_E_OPEN}\s?(?:{_E_AT_WORD})\s?{_E_CLOSE}")
# A star stands for the at sign only where the text says so, within this many
# characters of it: "info★example.jp（★を@に）", "☆→＠".
_STAR_NOTE_CHARS = 80
_E_STAR_MEANS_AT = re.compile(r"[★☆]\s?(?:を|は|→|⇒|->|=|＝)\s?(?:半角の?)?[「『]?[@＠]")

# -- phone ----------------------------------------------------------------------
# Words that may directly follow a phone number ("電話03-1234-5678FAX03-1234-5679");
# any other letter or digit glued to the digits makes them part of some other id.
_FOLLOWING_WORD = "(?i:fax|tel|e-?mail|mail|url|http|www)"
# A number may follow TEL/FAX directly, with or without a dot ("TEL03-...", "FAX.06...").
_AFTER_PHONE_WORD = r"(?<=[Tt][Ee][Ll])|(?<=[Tt][Ee][Ll]\.)|(?<=[Ff][Aa][Xx])|(?<=[Ff][Aa][Xx]\.)"
# Either "+81" (optionally "(0)") then 1-4 digits, or an optional "(" then a
# national number starting with 0. Groups are separated by a hyphen/space or by
# parentheses: 03-1234-5678, (03)1234-5678, 03(1234)5678, +81 (0)3 1234 5678.
# A separator is mandatory between groups so that long digit runs cannot
# backtrack exponentially; bare runs are one group.
_PHONE = re.compile(
    r"(?=[+＋(（0０])"
    rf"(?:{_AFTER_PHONE_WORD}|(?<![{_ASCII_WORD}\-‐‑–—−ー－+＋/#=@]){_NOT_AFTER_WORD_DOT})"
    rf"(?:[+＋]81{_SEP}?(?:[(（][0０][)）]{_SEP}?)?{_D}{{1,4}}|[(（]?[0０]{_D}{{0,10}})"
    rf"(?:(?:[)）]{_SEP}?[(（]?|{_SEP}[(（]?|[(（]){_D}{{1,8}}){{0,4}}"
    rf"(?!(?!{_FOLLOWING_WORD})[{_ASCII_WORD}]|{_HY}[{_ASCII_WORD}]|[.,]{_D})"
)
_DIGITS = re.compile(_D + "+")
# "03.1234.5678": groups separated by dots (the same dot twice). The gate finds
# candidates with a literal-first search (from the area code's 0; NFKC text has
# ASCII digits and dots); the full pattern then checks them and what surrounds them.
_DOTTED_GATE = re.compile(r"0\d{1,4}\.\d{1,4}\.\d{3,4}")
_DOTTED_GATE_FW = re.compile(rf"[0０]{_D}{{1,4}}[.．]{_D}{{1,4}}[.．]{_D}{{3,4}}")
_DOTTED_PHONE = re.compile(
    rf"(?:{_AFTER_PHONE_WORD}|(?<=(?<![A-Za-z])[TtFf]\.)"
    rf"|(?<![{_ASCII_WORD}]){_NOT_AFTER_WORD_DOT})[0０]{_D}{{1,4}}(?P<dot>[.．]){_D}{{1,4}}(?P=dot){_D}{{3,4}}"
    rf"(?![{_ASCII_WORD}]|[.．]{_D})"
)
_DROPPABLE_GAP = re.compile(r"\s+|\s*[(（]")
_PHONE_CTX = re.compile(r"tel|phone|fax|電話|携帯|ファックス|ファクス|連絡先|☎|📞", re.I)

# -- 12-19 digit numbers: My Number, corporate number, payment cards -------------
_LONGNUM = re.compile(
    r"(?=[0-9０-９TＴ])"
    rf"(?:(?<![{_ASCII_WORD}])(?P<t>[TＴ]) ?|(?<![{_ASCII_WORD}\-‐−－/#=@+＋]){_NOT_AFTER_WORD_DOT})"
    rf"(?P<num>{_D}{{12,19}}|{_D}{{4}}(?:[ \-‐−－]{_D}{{3,6}}){{2,4}}|(?P<corp4>{_D}(?:[ \-‐−－]{_D}{{4}}){{3}}))"
    rf"(?![{_ASCII_WORD}]|[\-‐−－]{_D}|[.,]{_D})"
)
_MYNUM_CTX = re.compile(r"マイナンバー|個人番号|通知カード|my ?number", re.I)
_CORP_CTX = re.compile(r"法人番号|登録番号|事業者番号|インボイス|corporate ?number", re.I)
# Payment-card words; a point or patient card (ポイントカード, 診察カード) is not one.
_CARD_CTX = re.compile(r"(?<!ポイント)(?<!診察)カード|card|クレジット|visa|master|amex|jcb", re.I)
# Other identifiers, as long as cards or My Numbers, grouped the same way and passing
# their checksums one time in ten or eleven. One of these words labelling the number
# directly (only separators between) makes it that identifier: "シリアル番号 4527-8890-
# 1234-5676", "マイナンバー関連ニュース（記事番号 202403159990）". A member number (会員番号)
# is a card's number when a payment-card word is near ("カード番号(会員番号) 4111...").
_OTHER_ID = (
    r"シリアル|製造番号|製品番号|製品キー|プロダクトキー|ライセンス|serial|(?<![A-Za-z])S/?N(?![A-Za-z])|IMEI"
    r"|問い?合わせ番号|受付番号|請求番号|注文番号|伝票番号|追跡番号|お客様番号|記事番号|記事ID"
    r"|(?-i:(?<![A-Za-z])(?:JAN|ISBN)(?![a-z]))"
)
# What may stand between such a word and its number: a suffix (シリアルナンバー, ライセンス
# キー, 注文No.), then separators and brackets (注文番号は 4111..., シリアル番号【...】).
_LABEL_TAIL = r"(?:番号|ナンバー|キー|コード|No\.?|ID)?[\s:：()（）#＃.．\-【「［\[は→=＝]*$"
_OTHER_ID_LABEL = re.compile(rf"(?:{_OTHER_ID}){_LABEL_TAIL}", re.I)
_MEMBER_LABEL = re.compile(rf"(?:会員番号|会員証|会員ID){_LABEL_TAIL}", re.I)

# -- IP addresses ---------------------------------------------------------------
_IPV4 = re.compile(rf"(?=[0-9])(?<![{_ASCII_WORD}\-]){_NOT_AFTER_WORD_DOT}(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?![{_ASCII_WORD}]|\.\d)", re.A)
_IPV6 = re.compile(
    r"(?=[0-9A-Fa-f:])(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![0-9A-Za-z:])",
    re.A,
)
# Every dotted quad contains this (the IPv4 candidate without its look-arounds).
_IPV4_HINT = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d", re.A)
# Every IPv6 candidate contains two colons at most 4 hex digits apart ("::" or
# ":db8:"), including the IPv4-suffixed form without "::" (0:0:0:0:0:ffff:192.0.2.1,
# 6 colons), which an earlier "'::' or 7 colons" test missed.
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
# A dotted quad right after a version, section, figure, table, step or equation word
# is that kind of number, not an address.
_VERSION_BEFORE = re.compile(
    r"(?:(?<![A-Za-z])(?:version|ver|rev|release|build|firmware|section|sec|step|fig|figure|table|eq)"
    r"|バージョン|ビルド|リリース|ファームウェア|第|(?<![\u3040-\u30ff\u4e00-\u9fff])[図表節章項式]|数式|セクション|手順|ステップ|§)"
    r"[\s.:：(（]*$",
    re.I,
)
# "12:00::15:00" (a mistyped time range) parses as IPv6; addresses written by
# people have hex groups of other widths.
_CLOCK_LIKE = re.compile(r"(?:\d\d)?(?::(?:\d\d)?)+")
_SECTION_AFTER = re.compile(r"\s*(?:版|章|節|項|条)")

# -- postal codes and addresses ---------------------------------------------------
_POSTCODE = re.compile(
    r"(?=[〒0-9０-９])"
    rf"(?:(?P<mark>〒)\s?)?(?<![{_ASCII_WORD}\-‐−－])"
    rf"(?P<code>{_D}{{3}}{_HY}{_D}{{4}}|{_D}{{7}})"
    rf"(?![{_ASCII_WORD}]|{_HY}{_D})"
)
_POST_CTX = re.compile(r"郵便番号|住所|所在地|zip|postal|post ?code", re.I)
_PREF = (
    "(?:北海道|東京都|(?:京都|大阪)府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山"
    "|石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知"
    "|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県)"
)
_PREF_RE = re.compile(r"\s?" + _PREF)
_N = f"{_D}{{1,4}}"
_KN = "[一二三四五六七八九十百]{1,4}"  # kanji numerals (一丁目七番一号)
# Chome/banchi/go numbering: 3丁目1番1号, 3丁目1-1, 一丁目七番一号, 1番地2, 12番地の3,
# 1-2-3, 12-3, and 1-5-4-1103 (the last part a room number).
_NUMBERING = re.compile(
    rf"(?=[0-9０-９一二三四五六七八九十])(?<![0-9０-９])(?:"
    rf"(?P<chome>[0-9０-９一二三四五六七八九十]{{1,3}}丁目)(?:{_N}(?:番地?|{_HY})(?:{_N}号?)?|{_KN}番地?(?:{_KN}号)?)?"
    rf"|(?P<ban>{_N}番地?(?!目|手|出口|線|ホーム|のりば|乗り場))(?:{_N}号?|の{_N})?"
    rf"|{_N}{_HY}{_N}(?:{_HY}{_N}){{0,2}}"
    rf")(?![0-9０-９]|{_HY}{_D}|[年月日時分秒%％円人個件回歳倍位点])"
)
# A bare lot number (字恩納1234, 通御池上る上本能寺前町488) counts only after an aza (字)
# or a Kyoto street direction, which these candidates start from (elsewhere a bare
# number after a place name is a count). Each pattern starts with a literal (字, 通) so
# re scans for it with a fast search: a pattern starting with a class of 字/上/下/入, or
# with a lookbehind, cost 2-8x more on news text. The 字 is an aza's, not the end of a
# word (数字, 赤字, 文字...: "大阪市赤字100億円"); the town between it and the number is one
# name (no の/が: "字恩納の住宅約40棟" is prose); and the number ends the address: what may
# follow it is listed, not what may not.
_AZA = "字(?<![数文赤黒十漢名活題太誤脱点習印苗]字)"
_BARE_TAIL = (
    rf"[{_KANJI}{_KATA}ケ]{{1,10}}?(?<![0-9０-９])(?P<num>{_N})"
    r"(?=$|[\s、。，,)）」』・（(「【]|[.．](?![0-9０-９])|番|号|に|で|へ|から|まで|です)"
)
# A Kyoto street direction: 通, the crossing street, then 上る/下ル/東入 (up, down, east of it).
_KYOTO_DIRECTION = f"通[{_KANJI}{_KATA}]{{1,6}}?(?:[東西]入(?:る|ル)?|[上下](?:る|ル|がる|ガル))"
_BARE_NUMBERS = (
    re.compile(_AZA + _BARE_TAIL),
    re.compile(_KYOTO_DIRECTION + _BARE_TAIL),
)
# Prefecture? + 1-3 municipalities (市区町村郡) + optional town name, ending
# right where the numbering starts (searched with endpos, so $ is that point).
# Town names may contain の/が/ヶ inside (丸の内, 霞が関) but not end in kana particles.
# Two regional forms extend the town part: Kyoto's street directions
# (烏丸通塩小路下ル東塩小路町, 四条通烏丸東入ル) and the grid of Sapporo, Asahikawa
# and other Hokkaido towns (北6条西4丁目, 琴似2条1丁目, 4条通8丁目, and the 線 of
# rural grids: 音更町字下音更北9線西18番地5).
_TOWN = f"[{_KANJI}{_KATA}](?:[{_KANJI}{_KATA}のがケ]{{0,8}}[{_KANJI}{_KATA}])?"
# Whether a matched body has a Kyoto direction or an aza. Searched in the body's text,
# not read from groups: "三条下ル石屋町" also parses as one town name (ル is katakana).
_KYOTO_OR_AZA = re.compile(f"{_KYOTO_DIRECTION}|{_AZA}")
_ADDR_BODY = re.compile(
    rf"(?<![{_KANJI}{_KATA}])(?P<pref>{_PREF})?"
    rf"(?:(?:さいたま|つくばみらい|つくば|いわき|ひたちなか|あきる野|みよし|たつの|あま)市|[{_KANJI}{_KATA}]{{1,6}}?[市区町村郡]){{1,3}}"
    rf"(?:(?:[{_KANJI}]{{1,6}}{_KYOTO_DIRECTION})?(?:大?字)?{_TOWN}"
    rf"|(?:{_TOWN})?(?<!第)[0-9０-９一二三四五六七八九十]{{1,2}}[条線](?:[東西南北]|通)?)?$"
)
# A ward at the start of a body: one of Tokyo's 23 special wards, or a ward of one of
# the 20 designated cities (大阪市北区, さいたま市大宮区). Addresses there often leave out
# the prefecture (渋谷区神南1-19-11): with a town name right before chome-banchi-go
# numbering (1-19-11: no part 0 or 0-led, the first of one or two digits, so not a
# date, a phone number or a 2-1-0 score), that is an address. So is any
# municipality's after a "住所"/"所在地" label (住所：那覇市泉崎5-19-18). A "town" that
# names an office, an event or a team (港区役所, 北区大会, 中央区チーム) is not one.
_WARD_START = re.compile(
    rf"(?:{_PREF})?(?:(?:千代田|中央|港|新宿|文京|台東|墨田|江東|品川|目黒|大田|世田谷|渋谷|中野|杉並|豊島|北|荒川"
    rf"|板橋|練馬|足立|葛飾|江戸川)区|(?:札幌|仙台|さいたま|千葉|横浜|川崎|相模原|新潟|静岡|浜松|名古屋|京都|大阪|堺"
    rf"|神戸|岡山|広島|北九州|福岡|熊本)市[{_KANJI}]{{1,4}}区)(?=[{_KANJI}{_KATA}])"
)
_NOT_A_TOWN = re.compile(
    "(?:役所|役場|区民|市民|大会|選抜|予選|本選|決勝|結果|区域|チーム|対抗|選手権|リーグ|杯|戦|会議|議会|総会|祭り?|まつり"
    "|センター|図書館|病院|学校|高校|中学|小学校|大学)$"
)
_CHOME_BAN_GO = re.compile(rf"[1-9１-９][0-9０-９]?(?:{_HY}[1-9１-９][0-9０-９]{{0,3}}){{2}}(?:{_HY}[0-9０-９]{{1,5}})?")
_ADDR_LABEL = re.compile(r"(?:住所|所在地)\s?[:：]?\s?$")
_ADDR_WINDOW = 40
# The longest part of a body after its last municipality suffix: a Kyoto direction
# (6 + 通 + 6 + 3), 大字 and a town name of 10, i.e. 28 (a Hokkaido grid tail is 14).
_TAIL_MAX = 28


class Span(NamedTuple):
    """One detected PII span, ``text[start:end]`` of type ``type``."""

    start: int
    end: int
    type: str


def _ascii_digits(s: str) -> str:
    """Returns the decimal digits of ``s`` as ASCII (full-width digits included)."""
    return "".join(str(unicodedata.digit(c)) for c in s if c.isdigit())


def _before(text: str, start: int, n: int = CONTEXT_CHARS) -> str:
    return text[max(0, start - n) : start]


def mynumber_valid(digits: str) -> bool:
    """Checks the check digit of a 12-digit My Number (個人番号).

    Rule (行政手続における特定の個人を識別するための番号の利用等に関する法律施行令
    第8条 / 総務省令): with ``P_n`` the n-th of the first 11 digits counted from the
    right and ``Q_n = n + 1`` (n <= 6) or ``n - 5`` (n >= 7), the check digit is
    0 if ``sum(P_n * Q_n) % 11 <= 1`` and ``11 - remainder`` otherwise.

    >>> mynumber_valid("123456789018"), mynumber_valid("123456789012")
    (True, False)
    """
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = digits[:11]
    s = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = s % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def corpnum_valid(digits: str) -> bool:
    """Checks the leading check digit of a 13-digit corporate number (法人番号).

    Rule (国税庁, 法人番号の指定等に関する省令 第2条): with ``P_n`` the n-th digit
    from the right of the 12-digit base and ``Q_n`` = 1 (n odd) or 2 (n even),
    the check digit (first digit) is ``9 - sum(P_n * Q_n) % 9``.

    >>> corpnum_valid("7000012050002"), corpnum_valid("1000012050002")
    (True, False)
    """
    if len(digits) != 13 or not digits.isdigit():
        return False
    base = digits[1:]
    s = sum(int(base[12 - n]) * (1 if n % 2 else 2) for n in range(1, 13))
    return int(digits[0]) == 9 - s % 9


def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812-1 Luhn checksum of a payment card number.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_iin_plausible(digits: str) -> bool:
    """Whether the issuer prefix (IIN) and length match a major card network.

    Visa 4 (13/16/19), Mastercard 51-55 and 2221-2720 (16), Amex 34/37 (15),
    JCB 3528-3589 (16-19), Discover 6011/644-649/65 (16-19), Diners 300-305/36/38/39
    (14-19), UnionPay 62 (16-19).

    >>> card_iin_plausible("4111111111111111"), card_iin_plausible("9111111111111111")
    (True, False)
    """
    n = len(digits)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if 3528 <= p4 <= 3589 or p4 == 6011 or 644 <= p3 <= 649 or p2 in (65, 62):
        return 16 <= n <= 19
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19
    return False


def _phone_national_ok(groups: list[str], intl: bool) -> bool:
    """Checks digit groups against the Japanese numbering plan (総務省 電気通信番号計画).

    ``groups`` are ASCII digit groups; with ``intl`` they follow ``+81`` and the
    trunk prefix 0 is implied. Lengths: 0120/0570/0990/0180 numbers have 10
    digits, 0800 and 0X0 (020/050/060/070/080/090) numbers 11, other
    (geographic) numbers 10. A separated number has an area code of 2-5
    digits, middle groups of 1-4 and a last group of 3-4 (3 only for the
    10-digit non-geographic numbers such as 0120-123-456) or, in two-group
    form, 6-8 (03-12345678).
    """
    n = "".join(groups)
    if intl:
        n = "0" + n
    if len(n) < 10 or n[0] != "0" or n[1] == "0":
        return False
    if n[:4] in ("0120", "0570", "0990", "0180"):
        want = 10
    elif n[:4] == "0800" or (n[2] == "0" and n[1] in "256789"):
        want = 11
    else:
        want = 10
    if len(n) != want:
        return False
    if len(groups) == 1:
        return True
    # A geographic number's local exchange code (市内局番) never starts with 0, the
    # trunk prefix: "03 0011 2233 4455..." is some long id, not 03-0011-2233.
    if want == 10 and n[:4] not in ("0120", "0570", "0990", "0180") and groups[1][:1] == "0":
        return False
    first = len(groups[0]) + (1 if intl else 0)
    if not 2 <= first <= 5 or any(not 1 <= len(g) <= 4 for g in groups[1:-1]):
        return False
    last = len(groups[-1])
    if last == 4:
        return True
    if last == 3:
        return want == 10 and n[:4] in ("0120", "0570", "0990", "0180")
    return len(groups) == 2 and 6 <= last <= 8


def find_phones(text: str) -> list[Span]:
    """Finds Japanese phone numbers.

    A bare digit run (no separators) counts only if it is a mobile/IP/toll-free
    number (0X0, 0120, 0800) or a phone keyword (TEL, 電話, FAX...) precedes it,
    because bare 10-digit runs starting with 0 are as often order numbers.

    >>> [text[s.start:s.end] for text in ["TEL:03-1234-5678まで"] for s in find_phones(text)]
    ['03-1234-5678']
    >>> find_phones("2024-01-15 と 0312345678")
    []
    """
    spans: list[Span] = []
    pos = 0
    # Not finditer: when a number is cut off the match's trailing groups, the search
    # resumes right after it, so "TEL 03 1234 5678 090 1234 5678" gives both numbers.
    while (m := _PHONE.search(text, pos)) is not None:
        pos = m.end()
        s = m.group()
        intl = s[0] in "+＋"
        runs = [(r.start() + m.start(), r.end() + m.start(), _ascii_digits(r.group())) for r in _DIGITS.finditer(s)]
        if intl:
            runs = runs[1:]  # "81"
            # "(0)" trunk prefix written after +81
            if len(runs) > 1 and runs[0][2] == "0" and text[runs[0][0] - 1] in "(（":
                runs = runs[1:]
        found = None
        # Longest prefix of groups first: "03-1234-5678 10時" matches greedily.
        for j in range(len(runs), 0, -1):
            # Trailing groups may be cut off only at a space or an opening parenthesis
            # ("03-1234-5678 10時", "0120-555-777（9-18時）": opening hours),
            # never at a hyphen ("03-1234-5678-9999" is some other id).
            if j < len(runs) and not _DROPPABLE_GAP.fullmatch(text, runs[j - 1][1], runs[j][0]):
                continue
            groups = [r[2] for r in runs[:j]]
            if _phone_national_ok(groups, intl):
                if j == 1 and not intl and not _bare_phone_ok(groups[0], text, m.start()):
                    continue
                found = (m.start(), runs[j - 1][1])
                break
        if found is None and not intl:
            # "第5 03-1234-5678": retry from a later group that starts with 0.
            for i in range(1, len(runs)):
                if runs[i][2][0] != "0" or text[runs[i][0] - 1] not in " \u3000":
                    continue
                for j in range(len(runs), i + 1, -1):
                    if _phone_national_ok([r[2] for r in runs[i:j]], False):
                        found = (runs[i][0], runs[j - 1][1])
                        break
                if found:
                    break
        if found:
            start, end = found
            # "(03)1234-5678" keeps its parenthesis; in "お電話（0466-68-6188）" the
            # parenthesis is the sentence's, so it stays outside the span.
            if text[start] in "(（" and text[runs[0][1] : runs[0][1] + 1] not in (")", "）"):
                start += 1
            spans.append(Span(start, end, "phone"))
            pos = end
    spans += _dotted_phones(text)
    return spans


def _dotted_phones(text: str) -> list[Span]:
    """Phone numbers written with dots, ``03.1234.5678`` (three groups, the
    numbering plan's lengths; dotted dates, versions and IPs fail them).

    >>> [text[s.start:s.end] for text in ["お電話は 03.5678.1234 まで"] for s in _dotted_phones(text)]
    ['03.5678.1234']
    >>> [text[s.start:s.end] for text in ["T.03.1234.5678 F.03.1234.5679"] for s in _dotted_phones(text)]
    ['03.1234.5678', '03.1234.5679']
    >>> _dotted_phones("v0.12.3456 / 2024.01.15 / 10.1.123.4567 / 03.1234.5678.9 / ST.03.1234.5678")
    []
    """
    # Only where the gate finds "0d.dddd.dddd" (a search from the literal 0) is the
    # full pattern tried, anchored there: a version-heavy text ("3.14.159") costs
    # no scan by the full pattern.
    gate = _DOTTED_GATE_FW if ("．" in text or "０" in text) else _DOTTED_GATE
    spans: list[Span] = []
    last_end = -1
    for h in _gate_hits(gate, text):
        m = _DOTTED_PHONE.match(text, h)
        if m is None or m.start() < last_end:
            continue
        groups = [_ascii_digits(g) for g in re.split("[.．]", m.group())]
        if _phone_national_ok(groups, False):
            spans.append(Span(m.start(), m.end(), "phone"))
            last_end = m.end()
    return spans


def _gate_hits(gate: re.Pattern, text: str) -> list[int]:
    """Start of every match of ``gate``, overlapping ones included."""
    hits, pos = [], 0
    while (m := gate.search(text, pos)) is not None:
        hits.append(m.start())
        pos = m.start() + 1
    return hits


def _bare_phone_ok(n: str, text: str, start: int) -> bool:
    if n.startswith(("0120", "0800")) or (len(n) == 11 and n[2] == "0"):
        return True
    return bool(_PHONE_CTX.search(_before(text, start)))


# Common file extensions that are not top-level domains (``.zip`` and ``.mov`` are
# real TLDs but name files far more often than mail hosts).
_FILE_EXTENSIONS = frozenset(
    "png jpg jpeg gif svg webp bmp ico tif tiff css js mjs ts json xml html htm php pdf txt csv "
    "zip gz tgz mp3 mp4 mov wav avi".split()
)


def find_emails(text: str) -> list[Span]:
    """Finds e-mail addresses, ASCII or full-width.

    >>> find_emails("連絡先：ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｊｐ まで")
    [Span(start=4, end=19, type='email')]
    """
    spans = []
    stars = None  # where the text says what a star stands for
    for m in _EMAIL.finditer(text):
        start, end = m.span()
        at = m.group("at")
        if at not in ("@", "＠"):
            if not m.group("tld").islower():
                continue  # "FX(at) CD.Radio": an obfuscated address has a lower-case TLD
            if at in ("★", "☆"):
                if stars is None:
                    stars = [x.start() for x in _E_STAR_MEANS_AT.finditer(text)]
                if not any(abs(p - m.start("at")) <= _STAR_NOTE_CHARS for p in stars):
                    continue  # "NEW★shop.example.jp": a decoration, not an at sign
        local_len = m.start("at") - start
        local = unicodedata.normalize("NFKC", m.group()[:local_len])
        # Leading dots belong to the sentence ("...です.info@"), not the address.
        # Dots elsewhere stay: "taro..yamada.@docomo.ne.jp" breaks RFC 5322 but
        # docomo and au issued such addresses until 2009, and they are a person's.
        stripped = local.lstrip(".")
        start += len(local) - len(stripped)
        if not stripped:
            continue
        if unicodedata.normalize("NFKC", m.group("tld")).lower() in _FILE_EXTENSIONS:
            continue  # icon@2x.png: an image file name, not a mailbox
        if stripped == "git" and text[end : end + 1] == ":":
            continue  # git@github.com:owner/repo.git: an SSH remote, not a mailbox
        spans.append(Span(start, end, "email"))
    return spans


def find_long_numbers(text: str) -> list[Span]:
    """Finds My Numbers, corporate numbers and payment card numbers.

    Accepted when the checksum holds and:

    * My Number (12 digits, bare or 4-4-4): マイナンバー/個人番号/通知カード/My
      Number precedes it, or another My Number ends at most :data:`CONTEXT_CHARS`
      before it (the rows of a leaked list). A keyword is required: 12-digit parcel
      tracking numbers are written ``1234-5678-9012`` too and one in eleven passes
      the check digit.
    * corporate number (13 digits): an invoice ``T`` prefix, or 法人番号/登録番号
      precedes it (bare 13-digit runs are mostly JAN/EAN barcodes).
    * card (13-19 digits): Luhn and a plausible IIN; a bare 13-digit run also
      needs カード/card before it (JAN codes starting with 45/49 look like Visa).

    None of them when another id's word labels the number directly (シリアル番号,
    注文番号, 記事番号, JAN...; 会員番号 unless a payment-card word is near).

    >>> find_long_numbers("カード番号 4111 1111 1111 1111")
    [Span(start=6, end=25, type='card')]
    >>> len(find_long_numbers("カード番号 4111 1111 1111 1111 5500 0000 0000 0004"))
    2
    >>> find_long_numbers("JAN 4901234567894")
    []
    """
    spans = []
    last_mynumber = -CONTEXT_CHARS - 1  # end of the last My Number found
    pos = 0
    while (m := _LONGNUM.search(text, pos)) is not None:
        pos = m.end()
        raw = m.group("num")
        seps = {c for c in raw if not c.isdigit()}
        if len(seps) > 1:
            continue
        ctx = _before(text, m.start())
        start = m.start()
        if m.group("t") or m.group("corp4"):
            # An invoice number (T + 13 digits, also written T1-2345-6789-0123), or
            # a corporate number written 1-2345-6789-0123 after its keyword: the
            # check digit stands apart, so this grouping is never a card.
            d = _ascii_digits(raw)
            if len(d) == 13 and corpnum_valid(d) and (m.group("t") or _CORP_CTX.search(ctx)):
                spans.append(Span(start, m.end(), "corpnum"))
            continue
        # Space-separated groups may run into a following number ("... 1111 2024年"):
        # retry without trailing groups, but never split a hyphenated run.
        parts = raw.split(" ") if seps == {" "} else [raw]
        for k in range(len(parts), 0, -1):
            cand = " ".join(parts[:k])
            listed = start - last_mynumber <= CONTEXT_CHARS
            typ = _classify_long(_ascii_digits(cand), bool(seps) and k > 1, ctx, listed)
            if typ:
                spans.append(Span(start, start + (m.start("num") - start) + len(cand), typ))
                if typ == "mynumber":
                    last_mynumber = spans[-1].end
                # The groups left over may begin the next number ("4111 1111 1111 1111
                # 5500 0000 0000 0004": two cards): search again from here.
                pos = spans[-1].end
                break
    return spans


def _classify_long(d: str, grouped: bool, ctx: str, after_mynumber: bool = False) -> str | None:
    n = len(d)
    card_word = _CARD_CTX.search(ctx) is not None
    other_id = _OTHER_ID_LABEL.search(ctx) is not None or (not card_word and _MEMBER_LABEL.search(ctx) is not None)
    if other_id:
        return None
    if n == 12 and mynumber_valid(d) and (after_mynumber or _MYNUM_CTX.search(ctx)):
        return "mynumber"
    if n == 13 and not grouped and corpnum_valid(d) and _CORP_CTX.search(ctx):
        return "corpnum"
    if 13 <= n <= 19 and luhn_valid(d) and card_iin_plausible(d) and (grouped or n > 13 or card_word):
        return "card"
    return None


def find_ips(text: str) -> list[Span]:
    """Finds IPv4 and IPv6 addresses, validated with :mod:`ipaddress`.

    A dotted quad preceded by a version keyword (``version``, ``ver.``,
    ``build``, ``バージョン``...) or followed by 版/章/節/項/条 is a version or
    section number; one glued to a letter (``v1.2.3.4``) never matches.
    IPv6 candidates need a digit and at least 6 characters so that C++/Ruby
    scopes (``a::b``) and ``::1`` are left alone.

    >>> [text[s.start:s.end] for text in ["サーバー 192.0.2.10 に接続"] for s in find_ips(text)]
    ['192.0.2.10']
    >>> find_ips("version 1.2.3.4 を公開")
    []
    """
    spans = []
    # _IPV4_HINT is necessary for a dotted quad and scans ~5x faster than _IPV4.
    for m in _IPV4.finditer(text) if "." in text and _IPV4_HINT.search(text) else ():
        try:
            ip = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        # Addresses that locate no host: loopback, 0.x.x.x ("this network", and
        # wildcard masks such as 0.0.0.255), netmasks, and network addresses
        # written with their prefix ("10.20.30.0/24": the network, not a machine).
        if ip.is_loopback or int(ip) >> 24 == 0 or _is_netmask(ip) or _is_network(ip, text, m.end()):
            continue
        if _VERSION_BEFORE.search(_before(text, m.start(), 16)) or _SECTION_AFTER.match(text, m.end()):
            continue
        spans.append(Span(m.start(), m.end(), "ip"))
    if _IPV6_HINT.search(text):
        for m in _IPV6.finditer(text):
            s = m.group()
            if len(s) < 6 or not any(c.isdigit() for c in s):
                continue
            try:
                ip6 = ipaddress.IPv6Address(s)
            except ValueError:
                continue
            if ip6.is_loopback or ip6.is_unspecified or _CLOCK_LIKE.fullmatch(s):
                continue
            spans.append(Span(m.start(), m.end(), "ip"))
    return spans


def _is_netmask(ip: ipaddress.IPv4Address) -> bool:
    """255.255.255.0 and the like: contiguous ones then zeros, not an address."""
    n = int(ip)
    inverted = ~n & 0xFFFFFFFF
    return n >> 24 == 0xFF and inverted & (inverted + 1) == 0


_PREFIX_LEN = re.compile(r"/(\d{1,2})(?!\d)")


def _is_network(ip: ipaddress.IPv4Address, text: str, end: int) -> bool:
    """Whether ``ip`` is followed by ``/prefix`` and is that network's own address."""
    m = _PREFIX_LEN.match(text, end)
    if not m or int(m.group(1)) > 30:  # /31 and /32 name hosts
        return False
    try:
        ipaddress.IPv4Network(f"{ip}/{m.group(1)}")  # strict: host bits must be zero
    except ValueError:
        return False
    return True


def find_postcodes(text: str) -> list[Span]:
    """Finds postal codes (the digits; a preceding ``〒`` stays in the text).

    ``NNN-NNNN`` counts after ``〒``, after a keyword (郵便番号, 住所, 所在地, zip)
    or when a prefecture name follows; a bare ``NNNNNNN`` only after ``〒`` or a
    keyword. Elsewhere ``123-4567`` is as likely a product code.

    >>> find_postcodes("〒100-0005 東京都")
    [Span(start=1, end=9, type='postcode')]
    >>> find_postcodes("品番 123-4567 を購入")
    []
    """
    spans = []
    for m in _POSTCODE.finditer(text):
        code = m.group("code")
        ok = bool(m.group("mark")) or bool(_POST_CTX.search(_before(text, m.start("code"), 12)))
        if not ok and len(code) == 8:
            ok = bool(_PREF_RE.match(text, m.end()))
        if ok:
            spans.append(Span(m.start("code"), m.end("code"), "postcode"))
    return spans


def find_addresses(text: str, postcode_ends: frozenset[int] = frozenset()) -> list[Span]:
    """Finds street addresses: municipality + town + chome/banchi/go numbering.

    Accepted when a prefecture starts it (東京都千代田区丸の内1-2-3), when a postal
    code directly precedes it (``postcode_ends``, end offsets of postcode spans),
    when a Kyoto street direction precedes the town (河原町通三条上る下丸屋町390-2),
    or, without any of these, when the numbering uses 丁目 or 番 (大阪市北区梅田3丁目1番1号).
    ``1-2-3`` after a bare municipality is too often a score or a range: it counts only
    right after a ward (Tokyo's 23, a designated city's) and a town name
    (新宿区新宿3-1-26), or after a 住所/所在地 label. A bare lot
    number (恩納村字恩納1234, 上本能寺前町488) needs an aza (字) or a Kyoto direction.
    Building names after the numbering are kept. A place name without numbering
    (東京都千代田区で開催) is not PII.

    >>> [text[s.start:s.end] for text in ["本社：大阪府大阪市北区梅田3丁目1番1号 ABCビル"] for s in find_addresses(text)]
    ['大阪府大阪市北区梅田3丁目1番1号']
    >>> find_addresses("東京都千代田区で2-3日に開催")
    []
    """
    spans = []
    numbered = set()
    for m in _NUMBERING.finditer(text):
        numbered.add(m.start())
        three = not (m.group("chome") or m.group("ban")) and _CHOME_BAN_GO.fullmatch(m.group()) is not None
        span = _address_at(text, m.start(), m.end(), bool(m.group("chome") or m.group("ban")), False, postcode_ends,
                           three)
        if span:
            spans.append(span)
    for pattern in _BARE_NUMBERS:
        for m in pattern.finditer(text):
            if m.start("num") not in numbered:
                numbered.add(m.start("num"))
                span = _address_at(text, m.start("num"), m.end("num"), True, True, postcode_ends)
                if span:
                    spans.append(span)
    return sorted(spans)


def _address_at(text: str, p: int, end: int, strong: bool, bare: bool, postcode_ends: frozenset[int],
                three_part: bool = False) -> Span | None:
    """The address whose numbering is ``text[p:end]``, if a body precedes it.

    ``three_part``: the numbering is ``1-19-11`` (chome-banchi-go), which right
    after a ward and a town name is an address even without a prefecture.
    """
    numbering_at = p
    # One space may separate the town from its numbering (新大橋 1-5-4).
    if p > 0 and text[p - 1] in " \u3000":
        p -= 1
    # The body ends in a municipality suffix plus at most _TAIL_MAX characters
    # (_ADDR_BODY), and its "$" also matches before a line break right at the
    # numbering ("丸の内\n3丁目"), so without a suffix in the _TAIL_MAX + 1
    # characters before the numbering it cannot match: skip the window search.
    if p == 0 or _MUNI_CHARS.isdisjoint(text[max(0, p - _TAIL_MAX - 1) : p]):
        return None
    b = _ADDR_BODY.search(text, max(0, p - _ADDR_WINDOW), p)
    if b is None:
        return None
    regional = _KYOTO_OR_AZA.search(b.group())
    if bare and not regional:
        return None
    kyoto = regional is not None and regional.group() != "字"
    start = b.start()
    after_post = any(start - k in postcode_ends for k in (0, 1, 2))
    if b.group("pref") or after_post or strong or kyoto:
        return Span(start, end, "address")
    if three_part and _ADDR_LABEL.search(text, max(0, start - 6), start):
        return Span(start, end, "address")
    if three_part and b.end() == numbering_at and _WARD_START.match(b.group()) and not _NOT_A_TOWN.search(b.group()):
        return Span(start, end, "address")
    return None


_MUNI = "市区町村郡"  # municipality suffixes, as in _ADDR_BODY
_HAS_MUNI = re.compile(f"[{_MUNI}]")
_MUNI_CHARS = frozenset(_MUNI)
_HAS_NUMBERING_HINT = re.compile("[0-9０-９]|丁目")


def _digit_cluster(k: int) -> re.Pattern:
    # k digits, each pair of neighbours at most 3 characters apart, the gap made
    # only of characters a numeric detector allows between digit groups (_SEP,
    # which contains _HY and the long-number separators, plus parentheses). Every
    # phone (10+ digits), long number (12+) and postal code (7) match contains one:
    # a necessary condition, so skipping a detector when it fails never changes the spans.
    gap = f"[{_SEP[1:-1]}()（）]"
    return re.compile(rf"{_D}(?:{gap}{{0,3}}{_D}){{{k - 1}}}")


_CLUSTER_7 = _digit_cluster(7)
_CLUSTER_10 = _digit_cluster(10)
_CLUSTER_12 = _digit_cluster(12)


def detect(text: str, types: frozenset[str] | set[str] | tuple[str, ...] = TYPES) -> list[Span]:
    """Returns non-overlapping PII spans of the wanted ``types``, sorted by start.

    Necessary conditions, each a single fast regex scan, skip whole detectors
    without changing the result: no ``@``/``＠`` means no e-mail; no cluster of
    7 digits (neighbours at most 3 separator characters apart) means no postal
    code, of 10 no phone number, of 12 no My Number, corporate or card number.
    Most prose has none of these, so the costlier detectors (look-behinds at
    every digit, context checks) run only on the few texts that could contain a
    match. :func:`detect_all` runs every detector; the tests hold both to the
    same spans, and hold the hints inside :func:`find_ips` (``d.d.d.d``,
    ``:x:``) and :func:`find_addresses` (a municipality suffix near the
    numbering) to the unhinted scans.
    Overlaps are resolved left to right: the earliest span wins, then the
    longest, then the type listed first in :data:`TYPES`.

    >>> detect("電話 090-1234-5678、mail: taro@example.jp")
    [Span(start=3, end=16, type='phone'), Span(start=23, end=38, type='email')]
    """
    return _detect(text, types, gate=True)


def detect_all(text: str, types: frozenset[str] | set[str] | tuple[str, ...] = TYPES) -> list[Span]:
    """:func:`detect` without its prefilters: every enabled detector scans the text
    (the reference the prefilters are tested against)."""
    return _detect(text, types, gate=False)


def _detect(text: str, types, gate: bool) -> list[Span]:
    may_email = may_7 = may_10 = may_12 = may_address = True
    if gate:
        may_email = "@" in text or "＠" in text or _E_OBFUSCATED_AT.search(text) is not None
        m7 = _CLUSTER_7.search(text)
        may_7 = m7 is not None
        # A longer cluster starts with a 7-digit one: search from the first.
        may_10 = may_7 and _CLUSTER_10.search(text, m7.start()) is not None
        may_12 = may_10 and _CLUSTER_12.search(text, m7.start()) is not None
        # Addresses need a municipality suffix and numbering, which may be a single
        # digit (梅田8-9) or a kanji numeral (三丁目).
        may_address = bool(_HAS_MUNI.search(text) and _HAS_NUMBERING_HINT.search(text))
    found: list[Span] = []
    if "email" in types and may_email:
        found += find_emails(text)
    if "phone" in types:
        # Dotted numbers ("03.1234.5678") are no digit cluster: they have their own gate.
        found += find_phones(text) if may_10 else _dotted_phones(text)
    if (types_long := {"mynumber", "corpnum", "card"} & set(types)) and may_12:
        found += [s for s in find_long_numbers(text) if s.type in types_long]
    posts = find_postcodes(text) if may_7 and ("postcode" in types or "address" in types) else []
    if "postcode" in types:
        found += posts
    if "ip" in types:
        found += find_ips(text)
    if "address" in types and may_address:
        found += find_addresses(text, frozenset(s.end for s in posts))
    rank = {t: i for i, t in enumerate(TYPES)}
    found.sort(key=lambda s: (s.start, -(s.end - s.start), rank[s.type]))
    out: list[Span] = []
    last_end = -1
    for s in found:
        if s.start >= last_end:
            out.append(s)
            last_end = s.end
        elif s.end > last_end and s.type in _REMAINDER_FINDERS:
            # It began inside the span before it: an e-mail written straight after an
            # address ("...1-2-3taro@example.jp") took the numbering as its local part.
            # What is left after that span is looked at on its own.
            rest = [Span(last_end + r.start, last_end + r.end, r.type)
                    for r in _REMAINDER_FINDERS[s.type](text[last_end:s.end]) if r.type == s.type]
            out += rest
            last_end = rest[-1].end if rest else last_end
    return out


# Detectors that need no context before a match: what is left of one of their
# spans after an overlapping span can be searched again on its own.
_REMAINDER_FINDERS = {"email": find_emails, "phone": find_phones}


def redact(text: str, spans: list[Span]) -> str:
    """Replaces each span with its type token (spans sorted, non-overlapping).

    >>> redact("a@example.jp です", [Span(0, 12, "email")])
    '<EMAIL> です'
    """
    parts = []
    pos = 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(TOKENS[s.type])
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)


@dataclass(frozen=True)
class PiiRedactor(Filter):
    """Redacts PII spans with typed tokens and optionally drops PII-dense pages.

    Measures, before redaction, the number of spans per type, the total
    (``spans``), the share of characters they cover (``char_ratio``, in [0, 1])
    and ``spans_per_kchar`` (spans per 1,000 characters). Then replaces every
    span with ``<EMAIL>``, ``<PHONE>``, ``<MYNUMBER>``, ``<CORPNUM>``,
    ``<CARD>``, ``<IP>``, ``<ADDRESS>`` or ``<POSTCODE>`` and records
    ``{type: count}`` in ``Doc.pii``. See the module docstring for each rule.

    Thresholds:
        policy: ``"redact"`` (never drop) or ``"reject"`` (drop pages whose
            ``char_ratio`` exceeds ``max_char_ratio``; kept pages are redacted).
            Default ``"reject"``: pages that are mostly PII are directories,
            contact lists or leaked records, of little value and high risk.
        max_char_ratio: maximum share of characters inside PII spans,
            inclusive (default 0.2; a company page with a phone, fax, e-mail
            and address in 300 characters is about 0.2, a phone directory
            exceeds 0.3).
        email, phone, mynumber, corpnum, card, ip, postcode, address: per-type
            switches (default all True); a disabled type is neither detected
            nor redacted.

    Reasons:
        too_much_pii: ``policy == "reject"`` and ``char_ratio > max_char_ratio``.

    >>> step = PiiRedactor()
    >>> doc = Doc(id="1", url="", source="", crawl_date="", text="お問い合わせ: info@example.jp / 03-1234-5678")
    >>> new, scores = step.apply(doc)
    >>> new.text, dict(new.pii), step.decide(scores)
    ('お問い合わせ: <EMAIL> / <PHONE>', {'email': 1, 'phone': 1}, 'too_much_pii')
    >>> PiiRedactor(policy="redact").decide(scores) is None
    True
    """

    name: ClassVar[str] = "pii"
    stage: ClassVar[str] = "pii"
    reasons: ClassVar[tuple[str, ...]] = ("too_much_pii",)
    bounds: ClassVar = {"max_char_ratio": SHARE}
    policy: str = "reject"
    max_char_ratio: float = 0.2
    email: bool = True
    phone: bool = True
    mynumber: bool = True
    corpnum: bool = True
    card: bool = True
    ip: bool = True
    postcode: bool = True
    address: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.policy not in ("redact", "reject"):
            raise ValueError(f"policy must be 'redact' or 'reject', not {self.policy!r}")

    @property
    def enabled_types(self) -> frozenset[str]:
        """The PII types whose switch is on."""
        return frozenset(t for t in TYPES if getattr(self, t))

    def _measure(self, text: str) -> tuple[list[Span], dict[str, float]]:
        spans = detect(text, self.enabled_types)
        scores = {t: 0.0 for t in TYPES}
        covered = 0
        for s in spans:
            scores[s.type] += 1.0
            covered += s.end - s.start
        n = len(text)
        scores["spans"] = float(len(spans))
        scores["char_ratio"] = covered / n if n else 0.0
        scores["spans_per_kchar"] = 1000.0 * len(spans) / n if n else 0.0
        return spans, scores

    def score(self, doc: Doc) -> dict[str, float]:
        """Measures PII in ``doc.text`` without rewriting it."""
        return self._measure(doc.text)[1]

    def apply(self, doc: Doc) -> tuple[Doc, dict[str, float]]:
        """Returns the redacted document (text, ``n_chars``, ``pii``) and its scores."""
        spans, scores = self._measure(doc.text)
        if not spans:
            return doc._replace(pii={}), scores
        text = redact(doc.text, spans)
        counts = {t: int(scores[t]) for t in TYPES if scores[t]}
        return doc._replace(text=text, n_chars=len(text), pii=counts), scores

    def decide(self, scores: Mapping[str, float]) -> str | None:
        """Drops a PII-dense page under the ``reject`` policy; never under ``redact``."""
        if self.policy == "reject" and scores["char_ratio"] > self.max_char_ratio:
            return "too_much_pii"
        return None
