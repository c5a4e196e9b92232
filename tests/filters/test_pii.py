"""Tests of the PII redactor (filters/pii.py)."""

from __future__ import annotations

import json
import pickle
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

from filters.base import build_filter
from filters.pii import (
    TYPES,
    PiiRedactor,
    Span,
    card_iin_plausible,
    corpnum_valid,
    detect,
    detect_all,
    luhn_valid,
    mynumber_valid,
    redact,
)
from schemas.records import Doc

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pii_labelled.jsonl"


def doc(text: str) -> Doc:
    return Doc(id="d", url="", source="", crawl_date="", text=text)


def found(text: str, types=TYPES) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.type) for s in detect(text, types)]


# -- e-mail ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("お問い合わせはinfo@example.jpまで", "info@example.jp"),
        ("担当：山田（taro.yamada@example.co.jp）", "taro.yamada@example.co.jp"),
        ("E-mail:contact+news@mail.example.ne.jp です。", "contact+news@mail.example.ne.jp"),
        ("末尾の点 support@example.com.", "support@example.com"),
        ("連絡先：ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｊｐ まで", "ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｊｐ"),
        ("ｓａｌｅｓ－ｄｅｐｔ@example.com", "ｓａｌｅｓ－ｄｅｐｔ@example.com"),
        # Legacy docomo/au addresses (RFC-invalid dots, issued until 2009) are still a person's.
        ("メアド変えました taro..yamada.@docomo.ne.jp です", "taro..yamada.@docomo.ne.jp"),
        ("...です.info@example.jp", "info@example.jp"),
        ("連絡 test@xn--eckwd4c7c.xn--zckzah まで", "test@xn--eckwd4c7c.xn--zckzah"),
        ("連絡 git@example.co.jp まで", "git@example.co.jp"),
        ("info@gov.md", "info@gov.md"),  # .md is Moldova, not only Markdown
        # Obfuscated against harvesters: still someone's mailbox.
        ("スパム対策のため sales[at]example.jp と表記", "sales[at]example.jp"),
        ("info (at) example (dot) co (dot) jp まで", "info (at) example (dot) co (dot) jp"),
        ("問い合わせ：taro（アット）example.com", "taro（アット）example.com"),
        ("窓口 support【at】example.org へ", "support【at】example.org"),
        ("info[AT]example.jp", "info[AT]example.jp"),
        ("info★example.jp（★を@に変えて送信）", "info★example.jp"),
        ("mail: shop☆example.co.jp ☆→＠", "shop☆example.co.jp"),
    ],
)
def test_email_positive(text, value):
    assert found(text) == [(value, "email")]


@pytest.mark.parametrize(
    "text",
    ["Twitter（@example_user）をフォロー", "name@domain の形式", "user@localhost で確認",
     "icon@2x.png と icon@3x.png", "me@example.jpg", "git clone git@github.com:furui/furui.git",
     "@example.com のドメイン",
     # A star is an at sign only where the text says so; "(at)" needs a domain after it.
     "NEW★shop.example.jp オープン", "SALE★Amazon.co.jp限定", "Meet us (at) 10.5 km", "集合 (at) 駅前",
     # Used-car listings: (AT) is an automatic transmission; a TLD-looking word is capitalised.
     "13G(AT) CD.ETC 走行3万km", "4WD(AT) HID.ETC.TV", "FX(at) CD.Radio"],
)
def test_email_negative(text):
    assert [t for _, t in found(text)] == []


def test_a_star_is_an_at_sign_only_next_to_the_note_that_says_so():
    text = "人気No.1★best.seller の商品です。" + "詳しくは店頭でご確認ください。" * 8 + "メールは info★example.jp（★を@に）"
    assert found(text) == [("info★example.jp", "email")]


# -- phone ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("TEL:03-1234-5678", "03-1234-5678"),
        ("電話 045-123-4567 まで", "045-123-4567"),
        ("0466-12-3456", "0466-12-3456"),
        ("01267-1-2345", "01267-1-2345"),
        ("(03)1234-5678", "(03)1234-5678"),
        ("03(1234)5678", "03(1234)5678"),
        ("お電話（0466-68-6188）にて", "0466-68-6188"),
        ("携帯 090-1234-5678", "090-1234-5678"),
        ("080 1234 5678", "080 1234 5678"),
        ("09012345678", "09012345678"),
        ("IP電話 050-1234-5678", "050-1234-5678"),
        ("フリーダイヤル 0120-123-456", "0120-123-456"),
        ("0800-123-4567", "0800-123-4567"),
        ("ナビダイヤル 0570-064-555", "0570-064-555"),
        ("+81-3-1234-5678", "+81-3-1234-5678"),
        ("+81 90 1234 5678", "+81 90 1234 5678"),
        ("+81(0)3-1234-5678", "+81(0)3-1234-5678"),
        ("電話：０３－１２３４－５６７８", "０３－１２３４－５６７８"),
        ("TEL0312345678", "0312345678"),
        ("TEL.098-948-4192", "098-948-4192"),
        ("03-1234-5678 10時から", "03-1234-5678"),
        # Opening hours right after the number: "(" then a digit ends the number.
        ("お問い合わせ：0120-555-777（10:00-18:00）", "0120-555-777"),
        ("TEL 03-3456-1234(10:00〜19:00) 定休日：火曜", "03-3456-1234"),
        ("TEL 03-1234-5678 (10:00-19:00)", "03-1234-5678"),
        ("0120-555-777(9-18時)", "0120-555-777"),
        ("FAX番号 0312345679（24時間受付）", "0312345679"),
        ("03(1234)5678(代表)", "03(1234)5678"),
        # An ellipsis glued before the number (NFKC turns … into ...).
        ("連絡先...090-2234-5561", "090-2234-5561"),
        ("連絡先.090-2234-5561", "090-2234-5561"),
        ("TEL 03 1234 5678 10時", "03 1234 5678"),
        ("電話 03 1234 5678 365日受付", "03 1234 5678"),
        ("お電話は 03 3333 4444 100円", "03 3333 4444"),
        ("+81 3 1234 5678 123", "+81 3 1234 5678"),
        # Dotted groups (business cards, design-heavy sites).
        ("お電話は 03.5678.1234 まで(平日のみ)", "03.5678.1234"),
        ("携帯 090.1234.5678", "090.1234.5678"),
        ("T.03.1234.5678", "03.1234.5678"),
        ("TEL.0120.123.456", "0120.123.456"),
        ("FAX.06.1234.5678", "06.1234.5678"),
        ("連絡先...03.1234.5678", "03.1234.5678"),
        ("ｔｅｌ ０３．１２３４．５６７８", "０３．１２３４．５６７８"),
    ],
)
def test_phone_positive(text, value):
    assert found(text) == [(value, "phone")]


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-15 に公開",
        "03-1234-567",  # one digit short
        "090-1234-56789",  # one digit long
        "0120-12-34",
        "03-1234-5678-9999",  # part of a longer id
        "ISBN 978-4-06-123456-7",
        "ISBN 0-306-40615-2",
        "注文番号 0312345678",  # bare landline shape without a phone keyword
        "https://example.com/articles/0312345678",
        "営業時間 09:00-18:00",
        "¥1,234,567 / 1,234,567円",
        "00-1234-5678",
        "部品番号 03-1234-5678-A（補修用）",  # a part number: a letter after a hyphen
        "ABC03-1234-5678X",
        "v1.09022345561",  # glued to a word by a dot
        # A local exchange code never starts with 0: this is one long id.
        "供給地点特定番号 03 0011 2233 4455 6677 88",
        "03-0011-2233",
        # Dotted look-alikes: versions, dates, IPs, a fourth group, a word before the dots.
        "v0.12.3456 で修正", "2024.01.15 更新", "10.1.123.4567", "03.1234.5678.9", "ST.03.1234.5678",
        "03.0123.4567", "1.03.1234.5678",
    ],
)
def test_phone_negative(text):
    assert [t for _, t in found(text) if t == "phone"] == []


def test_my_numbers_listed_under_one_keyword():
    # The rows of a leaked list: each number follows the previous one, the keyword
    # is only on the first. Without a My Number before it, a number needs its keyword.
    text = "マイナンバー一覧\n佐藤 231948757496\n鈴木 118625276013\n田中 123456789018\n"
    assert [t for _, t in found(text)] == ["mynumber"] * 3
    assert found("佐藤 231948757496\n鈴木 118625276013") == []
    assert found("マイナンバー 231948757496 の控え。" + "本文。" * 10 + "追跡番号 118625276013") == [
        ("231948757496", "mynumber")]


def test_two_space_grouped_phones_in_a_row():
    # The first is cut off the regex match's trailing groups; the search resumes there.
    assert found("TEL 03 1234 5678 090 1234 5678") == [("03 1234 5678", "phone"), ("090 1234 5678", "phone")]


def test_phone_followed_by_a_word():
    # "FAX" (or TEL, mail, URL...) may follow a number directly; other letters may not.
    assert found("電話03-3456-1111FAX03-3456-1112") == [("03-3456-1111", "phone"), ("03-3456-1112", "phone")]
    assert found("TEL 03-3456-1111Mail info@example.jp") == [("03-3456-1111", "phone"), ("info@example.jp", "email")]
    assert found("型番 03-3456-1111XZ") == []


# -- My Number / corporate number / card ------------------------------------------
def test_check_digit_algorithms():
    assert mynumber_valid("123456789018")
    assert not any(mynumber_valid("12345678901" + str(c)) for c in range(10) if c != 8)
    assert corpnum_valid("7000012050002")  # 国税庁's own corporate number
    assert not any(corpnum_valid(str(c) + "000012050002") for c in range(10) if c != 7)
    assert luhn_valid("378282246310005") and not luhn_valid("378282246310006")
    assert card_iin_plausible("378282246310005")  # Amex, 15 digits
    assert not card_iin_plausible("3782822463100050")  # Amex with 16 digits


@pytest.mark.parametrize(
    "text, value, typ",
    [
        ("マイナンバー：123456789018", "123456789018", "mynumber"),
        ("個人番号 1234 5678 9018 を記入", "1234 5678 9018", "mynumber"),
        ("My Number: 1234-5678-9018", "1234-5678-9018", "mynumber"),
        ("法人番号：7000012050002", "7000012050002", "corpnum"),
        ("登録番号 T7000012050002", "T7000012050002", "corpnum"),
        ("カード 4111 1111 1111 1111", "4111 1111 1111 1111", "card"),
        ("4111-1111-1111-1111", "4111-1111-1111-1111", "card"),
        ("Amex 3782 822463 10005", "3782 822463 10005", "card"),
        ("5555555555554444", "5555555555554444", "card"),
        ("JCB 3530111333300000", "3530111333300000", "card"),
        ("カード 4111 1111 1111 1111 2024年", "4111 1111 1111 1111", "card"),
        # Invoice numbers as printed on receipts: T, then 1-4-4-4 or a space.
        ("インボイス登録番号：T1-2000-0103-4785", "T1-2000-0103-4785", "corpnum"),
        ("登録番号 T 3120101045672", "T 3120101045672", "corpnum"),
        ("法人番号 7-0104-0106-7259", "7-0104-0106-7259", "corpnum"),
        # A card word nearer than an other-id word decides.
        ("クレジットカード会員番号 4111-1111-1111-1111", "4111-1111-1111-1111", "card"),
        ("会員番号 1234 クレジットカード 4111-1111-1111-1111", "4111-1111-1111-1111", "card"),
        ("書いちゃいました...4421-8096-7929-0814", "4421-8096-7929-0814", "card"),
        ("通知カードに書いてある 5260 1815 9084", "5260 1815 9084", "mynumber"),
        ("マイナンバー...123456789018", "123456789018", "mynumber"),
        # A member number is a card's number when a payment-card word is near; an
        # other-id word vetoes only when it labels the number directly.
        ("クレジットカードの会員番号 4111 1111 1111 1111", "4111 1111 1111 1111", "card"),
        ("カード番号(会員番号) 4111-1111-1111-1111", "4111-1111-1111-1111", "card"),
        ("お支払いカード 会員番号:4111111111111111", "4111111111111111", "card"),
        ("ご注文番号 12345 / お支払い 4111 1111 1111 1111", "4111 1111 1111 1111", "card"),
        ("Jan 5 charged 4111 1111 1111 1111", "4111 1111 1111 1111", "card"),  # not JAN
    ],
)
def test_long_number_positive(text, value, typ):
    assert found(text) == [(value, typ)]


@pytest.mark.parametrize(
    "text",
    [
        "マイナンバー：123456789012",  # wrong check digit
        "伝票番号 1234-5678-9018",  # valid check digit but no My Number keyword
        "123456789018",
        "法人番号 1000012050002",  # wrong check digit
        "JANコード 7000012050002",  # valid corporate check digit, no keyword
        "4111 1111 1111 1112",  # Luhn fails
        "9111 1111 1111 1111 1",  # no such issuer
        "JAN 4901234567894",  # 13 digits starting with 4, no card keyword
        "2019 2020 2021 の3年間",
        "伝票 1-2000-0103-4785",  # 1-4-4-4 is a corporate number only after its keyword or T
        "1-2000-0103-4785",
        # Luhn-valid, plausible issuer, but the nearest keyword names another id.
        "製造番号 SN:4527889012345676",
        "シリアル番号 4527-8890-1234-5676",
        "お問い合わせ番号 3539-1234-5678-9019",
        "会員番号 4527 8890 1234 5676",
        "マイナンバー関連ニュース（記事番号 202403159990）",  # valid check digit: an article id
        "ポイントカード会員番号 4840 5551 0619 9010",  # a loyalty card's member number
        # Labels with a suffix, brackets or a particle.
        "シリアルナンバー 4527-8890-1234-5676",
        "ライセンスキー 4527-8890-1234-5676",
        "シリアル番号【4527-8890-1234-5676】",
        "注文番号は 4111 1111 1111 1111",
        "お問い合わせ番号 → 4111 1111 1111 1111",
    ],
)
def test_long_number_negative(text):
    assert found(text) == []


# -- IP -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("サーバー 192.0.2.10 に接続", "192.0.2.10"),
        ("http://192.168.0.1/ にアクセス", "192.168.0.1"),
        ("アクセス元は203.0.113.255です。", "203.0.113.255"),
        ("IPv6 2001:db8::1 を設定", "2001:db8::1"),
        ("fe80::1ff:fe23:4567:890aを割り当て", "fe80::1ff:fe23:4567:890a"),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
        # IPv4-suffixed, 6 colons and no "::" (an earlier prefilter skipped it)
        ("接続元 0:0:0:0:0:ffff:192.0.2.1 です", "0:0:0:0:0:ffff:192.0.2.1"),
        # no two adjacent digits anywhere (an earlier prefilter skipped these too)
        ("サーバー 1.2.3.4 に接続", "1.2.3.4"),
        ("発表 203.0.113.5 から", "203.0.113.5"),  # 表 inside a word is not "table"
        ("ホスト 255.255.1.7", "255.255.1.7"),  # 255 first, but no netmask
        ("server 192.0.2.1", "192.0.2.1"),  # "ver" inside a word is not a version keyword
        ("DNS server: 203.0.113.5", "203.0.113.5"),
        ("ログ...192.0.2.44 から", "192.0.2.44"),
        ("ip 192.168.1.5/24", "192.168.1.5"),  # a host with its prefix length
        ("許可するIP: 203.0.113.45/32", "203.0.113.45"),  # /32 names one host
        ("http://203.0.113.5/32/index.html", "203.0.113.5"),
        # Keywords inside words or after katakana are not section or version words.
        ("config: 192.168.10.5", "192.168.10.5"),
        ("IPsec 203.0.113.5", "203.0.113.5"),
        ("アドレス表: 203.0.113.5", "203.0.113.5"),
        ("addr 1:2:3:4:5:6:7:8 end", "1:2:3:4:5:6:7:8"),
    ],
)
def test_ip_positive(text, value):
    assert found(text) == [(value, "ip")]


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4 を公開",
        "ver.10.0.0.1",
        "v1.2.3.4",
        "バージョン2.3.4.5",
        "ビルド 10.0.1.12",
        "第1.2.3.4節を参照",
        "256.1.1.1",
        "192.168.1",
        "1.2.3.4.5",
        "01.02.03.04",
        "std::vector と Foo::Bar",
        "::1 はループバック",
        "12:30:45 に開始",
        "MAC 00:1A:2B:3C:4D:5E",
        "2024.01.15 更新",
        # Section, figure, table and step numbers.
        "セクション 3.2.1.4 を参照",
        "図 4.1.2.3",
        "表 1.2.3.4 に示すとおり",
        "手順 2.3.1.1 を実施後、再起動",
        "Section 3.2.1.4",
        # Addresses that locate no one: loopback, unspecified, netmasks.
        "127.0.0.1 (localhost)",
        "0.0.0.0 で待ち受け",
        "ネットマスク 255.255.255.0",
        "255.255.0.0",
        "会議 12:00::15:00 の予定",  # a mistyped time range parses as IPv6
        "式(3.2.1.4)",
        "式 3.2.1.4",
        "ワイルドカードマスク 0.0.0.255",
        "Require ip 10.20.30.0/24",  # a network, not a machine
        "3.14.192.168.1.1",
    ],
)
def test_ip_negative(text):
    assert found(text) == []


# -- postcode / address -------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("〒100-0005 東京都千代田区丸の内1-2-3 ABCビル",
         [("100-0005", "postcode"), ("東京都千代田区丸の内1-2-3", "address")]),
        ("本社：大阪府大阪市北区梅田3丁目1番1号", [("大阪府大阪市北区梅田3丁目1番1号", "address")]),
        ("郵便番号 530-0001", [("530-0001", "postcode")]),
        ("〒1000005", [("1000005", "postcode")]),
        ("100-0005 東京都千代田区", [("100-0005", "postcode")]),
        ("〒100-0005 千代田区丸の内1-2-3", [("100-0005", "postcode"), ("千代田区丸の内1-2-3", "address")]),
        ("本社は大阪市北区梅田3丁目1番1号にあります", [("大阪市北区梅田3丁目1番1号", "address")]),
        ("沖縄県南城市玉城字前川202番地", [("沖縄県南城市玉城字前川202番地", "address")]),
        ("埼玉県さいたま市大宮区桜木町1-7-5", [("埼玉県さいたま市大宮区桜木町1-7-5", "address")]),
        ("東京都江東区新大橋 1-5-4-1103", [("東京都江東区新大橋 1-5-4-1103", "address")]),
        ("東京都千代田区丸の内三丁目", [("東京都千代田区丸の内三丁目", "address")]),
        # Kanji numerals after 丁目.
        ("東京都千代田区永田町一丁目七番一号", [("東京都千代田区永田町一丁目七番一号", "address")]),
        ("東京都中央区銀座四丁目六番十六号 ビル", [("東京都中央区銀座四丁目六番十六号", "address")]),
        # The Hokkaido grid (条, 東西南北, 条通).
        ("北海道札幌市北区北6条西4丁目", [("北海道札幌市北区北6条西4丁目", "address")]),
        ("北海道札幌市西区琴似2条1丁目1-20", [("北海道札幌市西区琴似2条1丁目1-20", "address")]),
        ("札幌市北区北8条西5丁目", [("札幌市北区北8条西5丁目", "address")]),
        ("北海道旭川市4条通8丁目", [("北海道旭川市4条通8丁目", "address")]),
        ("〒060-0042 北海道札幌市中央区南3条西4丁目12-1",
         [("060-0042", "postcode"), ("北海道札幌市中央区南3条西4丁目12-1", "address")]),
        # Kyoto street directions (通...上る/下ル/東入), with a bare lot number too.
        ("京都府京都市下京区烏丸通塩小路下ル東塩小路町721-1", [("京都府京都市下京区烏丸通塩小路下ル東塩小路町721-1", "address")]),
        ("京都市中京区河原町通三条上る下丸屋町390-2", [("京都市中京区河原町通三条上る下丸屋町390-2", "address")]),
        ("京都府京都市中京区寺町通御池上る上本能寺前町488", [("京都府京都市中京区寺町通御池上る上本能寺前町488", "address")]),
        ("京都市下京区四条通烏丸東入長刀鉾町20", [("京都市下京区四条通烏丸東入長刀鉾町20", "address")]),
        # An aza (字) before a bare lot number.
        ("沖縄県国頭郡恩納村字恩納1234", [("沖縄県国頭郡恩納村字恩納1234", "address")]),
        ("青森県十和田市大字奥瀬字栃久保231", [("青森県十和田市大字奥瀬字栃久保231", "address")]),
        # Katakana ル: "三条下ル石屋町" also reads as one town name.
        ("京都府京都市中京区木屋町通三条下ル石屋町123", [("京都府京都市中京区木屋町通三条下ル石屋町123", "address")]),
        ("京都市中京区河原町通三条上ル下丸屋町390", [("京都市中京区河原町通三条上ル下丸屋町390", "address")]),
        ("北海道河東郡音更町字下音更北9線西18番地5", [("北海道河東郡音更町字下音更北9線西18番地5", "address")]),
        # A bare lot number ends at punctuation, a bracket or a particle.
        ("沖縄県国頭郡恩納村字恩納1234にある", [("沖縄県国頭郡恩納村字恩納1234", "address")]),
        ("沖縄県名護市字宮里452です", [("沖縄県名護市字宮里452", "address")]),
        ("沖縄県国頭郡恩納村字恩納1234（地図）", [("沖縄県国頭郡恩納村字恩納1234", "address")]),
        # Words that end a 番 (番目, 番出口) do not cut a 1-2-3 address.
        ("東京都港区芝浦1-2-3ホームタウン芝浦101", [("東京都港区芝浦1-2-3", "address")]),
        ("大阪府大阪市北区梅田1-2-3手前の交差点", [("大阪府大阪市北区梅田1-2-3", "address")]),
        # No prefecture, no postcode, 1-2-3 numbering: a ward (Tokyo's 23, a designated
        # city's) with a town, or any municipality after a 住所/所在地 label.
        ("住所：千代田区丸の内1-2-3", [("千代田区丸の内1-2-3", "address")]),
        ("新宿バルト9(新宿区新宿3-1-26 新宿三丁目イーストビル9階)", [("新宿区新宿3-1-26", "address")]),
        ("渋谷区神南1-19-11 パークウェースクエア2 4階", [("渋谷区神南1-19-11", "address")]),
        ("大阪市浪速区難波中2-10-70", [("大阪市浪速区難波中2-10-70", "address")]),
        ("さいたま市大宮区桜木町6-11-4", [("さいたま市大宮区桜木町6-11-4", "address")]),
        ("住所：那覇市泉崎5-19-18", [("那覇市泉崎5-19-18", "address")]),
        ("所在地 入間郡三芳町藤久保8-4-7", [("入間郡三芳町藤久保8-4-7", "address")]),
        # A ward office's phone number stays a phone number.
        ("港区役所03-5555-1234", [("03-5555-1234", "phone")]),
        ("お問い合わせ：中央区役所 03-1234-5678", [("03-1234-5678", "phone")]),
    ],
)
def test_postcode_address_positive(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "東京都千代田区で2024年1月15日に開催",
        "大阪市北区の人口は約13万人",
        "東京都港区の2-3月の平均気温",
        "東京都港区 2-3月",
        "品番 123-4567 を購入",
        "試合は3-1で勝利",
        # Without a prefecture, a postcode or a label, 1-2-3 after a ward needs a town
        # right before it and three parts; elsewhere it is a score or a range.
        "千代田区丸の内1-2",
        "新宿区 3-1-26",
        "北区大会で1-2-3の接戦",
        "世田谷区の選手が2-1-0で勝利",
        "中央区民大会2023-11-05開催",  # a date
        "練馬区大会2024-05-01",
        "試合は北区大会2-1-0で勝利",  # a score (a part 0)
        "港区選抜 3-1-2",  # a space: the numbering does not follow a town
        "中央区チーム1-2-3",  # a team, an office, an event: not a town
        "都市計画区域変更3-1-2",  # 都市計画区 is not a designated city's ward
        "那覇市泉崎5-19-18",  # not a ward, no label: a documented miss, not guessed
        # A bare number after a place name is a count, a year or a score...
        "東京都港区の来場者数は300",
        "大阪府大阪市北区梅田3",
        "京都市長選2024 結果",
        "大阪市赤字100億円",  # 字 of 赤字, not an aza
        "横浜市数字123",
        # Counts after an aza in prose, ordinances and station exits are not addresses.
        "国頭郡恩納村字恩納の住宅約40棟が浸水した。",
        "読谷村字楚辺の畑2ヘクタール",
        "十和田市大字奥瀬の約8割が山林",
        "横浜市条例第2条3番目の規定",
        "京都市営地下鉄四条駅2番出口",
        # ... unless an aza or a Kyoto direction precedes it, and then not a decimal or a date.
        "京都市下京区四条通烏丸東入長刀鉾町20.5",
        "沖縄県国頭郡恩納村字恩納2024年",
        "市町村条例第3条1項",
        "札幌市の第3条1番",
    ],
)
def test_postcode_address_negative(text):
    assert found(text) == []


# -- the step ---------------------------------------------------------------------------
def test_redaction_output_counts_and_scores():
    text = "氏名：山田 電話：090-1234-5678 メール：taro@example.jp / hanako@example.com"
    new, scores = PiiRedactor(policy="redact").apply(doc(text))
    assert new.text == "氏名：山田 電話：<PHONE> メール：<EMAIL> / <EMAIL>"
    assert new.n_chars == len(new.text)
    assert dict(new.pii) == {"email": 2, "phone": 1}
    assert scores["email"] == 2 and scores["phone"] == 1 and scores["spans"] == 3
    covered = len("090-1234-5678") + len("taro@example.jp") + len("hanako@example.com")
    assert scores["char_ratio"] == pytest.approx(covered / len(text))
    assert scores["spans_per_kchar"] == pytest.approx(3000 / len(text))
    assert set(TYPES) <= set(scores)


def test_every_token():
    text = ("a@example.jp 03-1234-5678 マイナンバー 123456789018 法人番号 7000012050002 "
            "4111 1111 1111 1111 192.0.2.1 〒100-0005 東京都千代田区丸の内1-2-3")
    new, _ = PiiRedactor(policy="redact").apply(doc(text))
    assert new.text == ("<EMAIL> <PHONE> マイナンバー <MYNUMBER> 法人番号 <CORPNUM> "
                        "<CARD> <IP> 〒<POSTCODE> <ADDRESS>")
    assert dict(new.pii) == {t: 1 for t in TYPES}


def test_no_pii_keeps_text():
    d = doc("今日はいい天気です。2024年1月15日、価格は1,234円。")
    new, scores = PiiRedactor().apply(d)
    assert new.text == d.text and dict(new.pii) == {} and scores["spans"] == 0 and scores["char_ratio"] == 0


def test_type_switch_disables_detection():
    text = "info@example.jp 03-1234-5678"
    new, scores = PiiRedactor(policy="redact", email=False).apply(doc(text))
    assert new.text == "info@example.jp <PHONE>" and scores["email"] == 0


def test_policy_and_threshold_boundary():
    f = PiiRedactor(policy="reject", max_char_ratio=0.2)
    assert f.decide({"char_ratio": 0.2}) is None  # inclusive
    assert f.decide({"char_ratio": 0.2001}) == "too_much_pii"
    assert PiiRedactor(policy="redact", max_char_ratio=0.2).decide({"char_ratio": 1.0}) is None
    dense = doc("TEL 03-1234-5678 FAX 03-1234-5679")
    _, scores = f.apply(dense)
    assert f.decide(scores) == "too_much_pii"
    sparse = doc("弊社の製品についてのご質問は、下記の窓口までお気軽にお問い合わせください。" * 3 + "TEL 03-1234-5678")
    _, scores = f.apply(sparse)
    assert scores["char_ratio"] < 0.2 and f.decide(scores) is None


def test_config_and_validation():
    step = build_filter("pii", {"policy": "redact", "ip": False})
    assert isinstance(step, PiiRedactor) and not step.ip and "ip" not in step.enabled_types
    with pytest.raises(ValueError):
        PiiRedactor(policy="drop")
    with pytest.raises(ValueError):
        PiiRedactor(max_char_ratio=1.5)


def test_determinism_and_pickle():
    text = "連絡先 info@example.jp / 03-1234-5678 / 〒100-0005 東京都千代田区丸の内1-2-3"
    step = PiiRedactor()
    a = step.apply(doc(text))
    b = pickle.loads(pickle.dumps(step)).apply(doc(text))
    assert a == b and step.score(doc(text)) == a[1]


def test_redact_helper():
    assert redact("ab cd ef", [Span(0, 2, "email"), Span(6, 8, "ip")]) == "<EMAIL> cd <IP>"


def test_overlap_resolution_prefers_longest():
    # A postcode inside a longer phone-like run must not split it.
    spans = detect("TEL 0120-123-456 〒100-0005")
    assert [(s.type) for s in spans] == ["phone", "postcode"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


# -- evaluation on the labelled set ---------------------------------------------------
# Floors are what the detector achieves on the committed set (see bench/RESULTS-pii.md),
# rounded down; the one miss is a documented hard case (a hiragana town name after a
# prefecture-less ward: 横浜市西区みなとみらい6-11-3) and false positives are 3-3-4 ids
# shaped like phones.
FLOORS = {  # type: (precision, recall)
    "email": (1.0, 1.0), "phone": (0.95, 0.93), "mynumber": (1.0, 1.0), "corpnum": (1.0, 1.0),
    "card": (1.0, 1.0), "ip": (1.0, 1.0), "postcode": (1.0, 1.0), "address": (1.0, 0.98),
}


def test_labelled_set_precision_recall():
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    gold_counts = Counter(s["type"] for r in rows for s in r["spans"])
    assert sum(gold_counts.values()) >= 300 and set(gold_counts) == set(TYPES)
    assert sum(1 for r in rows if r["tag"].startswith("neg")) >= 150
    tp, fp, fn = Counter(), Counter(), Counter()
    for r in rows:
        gold = {(s["start"], s["end"], s["type"]) for s in r["spans"]}
        pred = {(s.start, s.end, s.type) for s in detect(r["text"])}
        for _, _, t in gold & pred:
            tp[t] += 1
        for _, _, t in pred - gold:
            fp[t] += 1
        for _, _, t in gold - pred:
            fn[t] += 1
    for t, (p_floor, r_floor) in FLOORS.items():
        precision = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 0.0
        recall = tp[t] / (tp[t] + fn[t])
        assert precision >= p_floor, (t, precision)
        assert recall >= r_floor, (t, recall)


BLIND = FIXTURE.with_name("pii_blind.jsonl")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _span_errors(rows: list[dict]) -> list[tuple[str, str, str]]:
    """("missed" | "false", span text, type) for every exact-span error of ``detect``."""
    wrong = []
    for r in rows:
        gold = {(s["start"], s["end"], s["type"]) for s in r["spans"]}
        pred = {(s.start, s.end, s.type) for s in detect(r["text"])}
        wrong += [("missed", r["text"][a:b], t) for a, b, t in gold - pred]
        wrong += [("false", r["text"][a:b], t) for a, b, t in pred - gold]
    return wrong


def test_blind_set_precision_recall():
    # A second set, written by a reviewer who saw only the README (not the detector or
    # the first set): 410 NFKC texts, 216 spans, 233 negatives (bench/RESULTS-pii.md has
    # the figures of its first, blind run). Rows the reviewer marked debatable (obfuscated
    # addresses, public DNS resolvers, bare lot numbers...) are engineering choices, not
    # ground truth, and are left out; every clear row must be exact.
    rows = _rows(BLIND)
    assert len(rows) >= 400 and sum(1 for r in rows if not r["spans"]) >= 150
    assert set(s["type"] for r in rows for s in r["spans"]) == set(TYPES)
    assert _span_errors([r for r in rows if not r["debatable"]]) == []


BLIND2 = FIXTURE.with_name("pii_blind2.jsonl")

# What the detector still gets wrong on the second blind set (295 texts in other genres:
# listings, receipts, clinics, job ads, logs, papers...), each a documented choice or miss:
# 丁目-level locations are redacted like postcodes; a romanised address is out of scope; a
# card number with an unassigned JCB prefix (35 06) fails the issuer check. (Its
# obfuscated e-mail and dotted phone number were known misses too, until the eighth
# session; its prefecture-less 1-2-3 address in a designated city's ward, until the twelfth.)
BLIND2_KNOWN = {
    ("false", "世田谷区桜新町1丁目", "address"), ("false", "東京都三鷹市下連雀3丁目", "address"),
    ("false", "東京都世田谷区桜新町1丁目", "address"),
    ("missed", "6-3 Aramaki-Aza-Aoba, Aoba-ku, Sendai", "address"), ("missed", "980-8578", "postcode"),
    ("missed", "3506-1231-0077-2832", "card"),
}


def test_second_blind_set_errors_are_the_known_ones():
    # Written blind by another reviewer after the first set's fixes: its first run
    # scored 0.929 / 0.950 (bench/RESULTS-pii.md); what it exposed is fixed, and what
    # remains is listed above. Any new error (or a fixed known one) fails this test.
    rows = _rows(BLIND2)
    assert len(rows) >= 250 and sum(len(r["spans"]) for r in rows) >= 200
    assert set(_span_errors(rows)) == BLIND2_KNOWN


def test_labelled_set_is_reproducible():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_pii_set", FIXTURE.parents[2] / "scripts" / "make_pii_set.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.build(20240115)
    committed = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    assert rows == committed
    for r in rows:  # the generator's own span offsets point at the values it inserted
        for s in r["spans"]:
            assert r["text"][s["start"] : s["end"]].strip() == r["text"][s["start"] : s["end"]]


# -- prefilters ------------------------------------------------------------------------
# detect() skips a detector when a necessary condition fails (no 7/10/12-digit cluster,
# no d.d.d.d, no ":x:"); detect_all() runs every detector. They must never differ.
_FUZZ_PIECES = (
    list("0123456789０１２３４５６７８９") * 4
    + list(" \u3000-‐‑–—−ー－()（）.:/,+＋@＠〒TＴabcdefABCDEF")
    + ["市", "区", "町", "村", "郡", "丁目", "番", "番地", "号", "の", "東京都", "大阪府", "千代田", "梅田",
       "電話", "TEL", "FAX", "マイナンバー", "法人番号", "カード", "郵便番号", "version ", "年", "月", "日",
       "です。", "\n", "info", ".jp", "example", "::", "ffff", "db8:", "1.", "0.", "12.", "255.", "192.168.",
       "字", "大字", "通", "上る", "下ル", "東入", "条", "西", "北", "一", "七", "十", "京都府", "北海道", "札幌市"]
)


def _fuzz_texts(n: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(_FUZZ_PIECES) for _ in range(rng.randint(1, 60))) for _ in range(n)]


class _NeverDisjoint(frozenset):
    def isdisjoint(self, other):  # disables find_addresses' municipality-suffix skip
        return False


def test_prefilters_never_change_spans(monkeypatch):
    import filters.pii as pii_module

    rows = [json.loads(line) for f in (FIXTURE, BLIND, BLIND2) for line in f.read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in rows] + _fuzz_texts(20_000, 7)
    # The address window skip is inside find_addresses, so detect_all uses it too:
    # hold it to the same spans separately.
    gated = [pii_module.find_addresses(t) for t in texts]
    monkeypatch.setattr(pii_module, "_MUNI_CHARS", _NeverDisjoint(pii_module._MUNI_CHARS))
    assert [pii_module.find_addresses(t) for t in texts] == gated
    assert sum(map(len, gated)) >= 10
    # Likewise the d.d.d.d and :x: hints inside find_ips.
    ips = [pii_module.find_ips(t) for t in texts]
    monkeypatch.setattr(pii_module, "_IPV4_HINT", re.compile(""))
    monkeypatch.setattr(pii_module, "_IPV6_HINT", re.compile(""))
    assert [pii_module.find_ips(t) for t in texts] == ips
    assert sum(map(len, ips)) >= 10
    monkeypatch.undo()
    subsets = [TYPES, ("phone",), ("card", "mynumber"), ("corpnum",), ("postcode",), ("address",), ("ip",), ("email",)]
    n_spans = Counter()
    for text in texts:
        for types in subsets:
            got = detect(text, types)
            assert got == detect_all(text, types), (text, types)
            n_spans.update(s.type for s in got)
    # The fuzz and the labelled set exercise every detector, not just the skips.
    assert all(n_spans[t] >= 10 for t in TYPES), n_spans


def test_address_town_name_length_boundary():
    # A town name of up to 10 characters may sit between the municipality suffix and
    # the numbering; find_addresses skips the window search when no suffix is within
    # the 11 characters before the numbering, so the 10-character case must still match.
    ten = "東京都千代田区一二三四五六七八九十1-2-3"
    assert found(ten) == [(ten, "address")]
    assert found("東京都千代田区一二三四五六七八九十一1-2-3") == []
    # _ADDR_BODY's "$" also matches before a line break at the numbering, one more
    # character back (found by review: an 11-character window missed these).
    for gap in ("\n", "\n "):
        text = f"東京都千代田区丸の内東西南北中央上{gap}3丁目1番1号"
        assert found(text) == [(text, "address")]


# -- real text (slow, skipped without the data) ---------------------------------------
LIVEDOOR = SHARED_DATA / "text" / "livedoor-news-corpus"


@pytest.mark.slow
def test_livedoor_spot_check():
    """On real news text, every detection must be a well-formed span of its type."""
    import unicodedata

    if not LIVEDOOR.is_dir():
        pytest.skip("livedoor corpus not available")
    files = sorted(p for p in LIVEDOOR.glob("*/*.txt") if p.name != "LICENSE.txt")[::20]
    n = 0
    for p in files:
        text = unicodedata.normalize("NFKC", p.read_text(encoding="utf-8"))
        for s in detect(text):
            n += 1
            value = text[s.start : s.end]
            if s.type == "email":
                assert "@" in value
            elif s.type == "phone":
                assert value.lstrip("(+")[0] in "08"
            elif s.type == "address":
                assert any(c.isdigit() for c in value) or "丁目" in value
    assert n > 0


@pytest.mark.slow
def test_livedoor_prefilters_never_change_spans():
    import unicodedata

    if not LIVEDOOR.is_dir():
        pytest.skip("livedoor corpus not available")
    files = sorted(p for p in LIVEDOOR.glob("*/*.txt") if p.name != "LICENSE.txt")[::10]
    for p in files:
        text = unicodedata.normalize("NFKC", p.read_text(encoding="utf-8"))
        assert detect(text) == detect_all(text), p.name


def test_what_redaction_leaves_holds_no_pii():
    """Redacting once leaves nothing a second pass would find. Two leaks a fuzzer
    found: a second card number run on from the first with only a space (the
    leftover groups were never searched again), and an e-mail written straight
    after an address (it began inside the address, so the whole e-mail lost)."""
    for text, types in (("カード番号 4111 1111 1111 1111 5500 0000 0000 0004", ["card", "card"]),
                        ("東京都千代田区丸の内1-2-3taro@example.jp", ["address", "email"]),
                        ("所在地: 新宿区新宿3-1-26 03-1234-5678", ["address", "phone"])):
        spans = detect(text)
        assert [s.type for s in spans] == types, text
        assert detect(redact(text, spans)) == []
    assert redact("東京都千代田区丸の内1-2-3taro@example.jp", detect("東京都千代田区丸の内1-2-3taro@example.jp")) \
        == "<ADDRESS><EMAIL>"
    rows = [json.loads(line) for f in (FIXTURE, BLIND, BLIND2) for line in f.read_text(encoding="utf-8").splitlines()]
    for text in [r["text"] for r in rows] + _fuzz_texts(5_000, 11):
        assert detect(redact(text, detect(text))) == [], text
