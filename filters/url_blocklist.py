"""URL blocklist: exact domains, domain suffixes, URL prefixes and regexes."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Mapping
from urllib.parse import urlsplit

from filters.base import Filter
from schemas.records import Doc

DEFAULT_BLOCKLIST = Path(__file__).with_name("resources") / "url_blocklist_domains.txt"
log = logging.getLogger(__name__)


def _read_entries(path: str | Path) -> list[str]:
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


#: ``host[:port]`` followed by the end, ``/``, ``?`` or ``#``: a URL written without its scheme.
_SCHEMELESS_HOST = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?(?:[/?#]|$)")


def _join_regexes(entries) -> re.Pattern[str]:
    """One pattern searching for any of ``entries``."""
    return re.compile("|".join(f"(?:{r})" for r in entries))


def _with_netloc(url: str) -> str:
    """``url`` stripped, with ``//`` before a host that has no scheme (so urlsplit sees a host)."""
    url = url.strip()
    if not _SCHEMELESS_HOST.match(url):
        return url
    try:
        has_netloc = bool(urlsplit(url).netloc)
    except ValueError:
        return url
    return url if has_netloc else "//" + url


def url_host(url: str) -> str:
    """Lower-cased host of ``url`` without port, trailing dot or leading ``www.``.

    >>> url_host("HTTPS://WWW.Example.co.jp:8080/a?b")
    'example.co.jp'
    >>> url_host("not a url")
    ''

    A URL without a scheme (as JSON Lines inputs often give them) is read as
    host and path when it starts with a host name:

    >>> url_host("casino.example:8080/x"), url_host("mailto:a@casino.example")
    ('casino.example', '')
    """
    try:
        host = urlsplit(_with_netloc(url)).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    if ":" in host:  # an IPv6 literal: one spelling
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            pass
    if not host.isascii():  # 例え.jp -> xn--r8jz45g.jp, the form lists are written in
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host[4:] if host.startswith("www.") else host


#: A comment after an entry of a domain list (URLs in those lists hold no " #").
_COMMENT = re.compile(r"\s+#.*$")


def domain_entry(entry: str) -> str:
    """The host a domain-list line names, in the form :func:`url_host` gives.

    Accepts the formats blocklists come in: a bare domain, a URL, a hosts-file
    line (``0.0.0.0 host``), a wildcard or leading dot (``*.host``, ``.host``)
    and Unicode domains (converted to punycode). An IP address stays an entry
    (UT1 lists sites reached by address). Returns ``""`` for a line that names
    no host.

    A trailing ``# comment`` (hosts files, hand-kept lists) is dropped.

    >>> [domain_entry(e) for e in ["Example.JP", "https://www.example.jp/x", "0.0.0.0 ads.example",
    ...                            "*.casino.example", ".dot.example", "例え.jp", "192.0.2.7", "a b",
    ...                            "casino.example  # added 2026-11"]]
    ['example.jp', 'example.jp', 'ads.example', 'casino.example', 'dot.example', 'xn--r8jz45g.jp', '192.0.2.7', '', 'casino.example']
    """
    entry = _COMMENT.sub("", entry)
    fields = entry.split()
    if len(fields) >= 2 and _is_ip(fields[0]):  # hosts file: "0.0.0.0 host [aliases]"
        entry = fields[1]
    elif len(fields) != 1:
        return ""
    entry = entry.lstrip("*").lstrip(".")
    if _is_ip(entry):
        return str(ipaddress.ip_address(entry))
    return url_host(entry if "://" in entry else "http://" + entry)


def is_wildcard(entry: str) -> bool:
    """``*.host`` and ``.host`` name a host and all its subdomains.

    >>> is_wildcard("*.ads.example"), is_wildcard(".ads.example"), is_wildcard("ads.example")
    (True, True, False)
    """
    return entry.startswith(("*.", "."))


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


def _read_domains(path: str | Path) -> tuple[set[str], set[str]]:
    """(hosts, wildcard hosts) named by a domain list's lines."""
    hosts: set[str] = set()
    wildcards: set[str] = set()
    bad = []
    for e in _read_entries(path):
        host = domain_entry(e)
        if not host:
            bad.append(e)
        elif is_wildcard(e):
            wildcards.add(host)
        else:
            hosts.add(host)
    if bad:
        log.warning("%s: %d line(s) name no domain and are ignored, e.g. %r", path, len(bad), bad[0][:80])
    return hosts, wildcards


def _url_key(url: str) -> str:
    # UT1/squidGuard `urls` entries are "host/path" without scheme or www.
    try:
        parts = urlsplit(_with_netloc(url))
    except ValueError:
        return ""
    return url_host(url) + (parts.path or "")


def _host_suffixes(host: str) -> list[str]:
    # "a.b.example.jp" -> ["a.b.example.jp", "b.example.jp", "example.jp", "jp"]
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@dataclass(frozen=True)
class UrlBlocklistFilter(Filter):
    """Drops documents whose URL is on a blocklist (adult, gambling, malware...).

    Matching uses the lower-cased host without port and leading ``www.``:

    * ``domain_files``: exact domains: the host equals an entry.
    * ``suffix_files``: domain suffixes: the host equals an entry or is one of
      its subdomains (``example.jp`` blocks ``a.example.jp``, not ``badexample.jp``).
    * ``regex_files``: Python regexes searched in the full URL (one per line).
    * UT1 blacklists (Université Toulouse 1 Capitole, squidGuard format):
      ``ut1_dir`` holds one folder per category, each with a ``domains`` file
      (suffix semantics, as squidGuard applies them) and a ``urls`` file
      (``host/path`` prefixes, no scheme); ``categories`` selects the folders
      (e.g. ``["adult", "gambling"]``). A missing ``urls`` file is allowed.

    When no source is configured, the bundled
    ``filters/resources/url_blocklist_domains.txt`` (suffixes; shipped with
    only reserved example domains) is used. A document with an empty or
    unparsable URL is kept (it cannot be matched).

    Scores:
        blocked_domain: 1.0 if the host matched a domain or suffix entry.
        blocked_url: 1.0 if the URL matched a URL prefix or regex entry.

    Reasons:
        blocked_domain, blocked_url (domain first).

    Thresholds: none; the lists are the configuration.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", delete=False) as fh:
    ...     _ = fh.write("casino.example\\n")
    >>> f = UrlBlocklistFilter(suffix_files=(fh.name,))
    >>> f.decide(f.score(Doc(id="", url="https://jp.casino.example/x", source="", crawl_date="", text="")))
    'blocked_domain'
    >>> f.decide(f.score(Doc(id="", url="https://news.example/x", source="", crawl_date="", text="")))
    >>> os.unlink(fh.name)
    """

    name: ClassVar[str] = "url_blocklist"
    reasons: ClassVar[tuple[str, ...]] = ("blocked_domain", "blocked_url")
    domain_files: tuple[str, ...] = ()
    suffix_files: tuple[str, ...] = ()
    regex_files: tuple[str, ...] = ()
    ut1_dir: str = ""
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in ("domain_files", "suffix_files", "regex_files", "categories"):
            object.__setattr__(self, field, tuple(str(x) for x in getattr(self, field)))
        super().__post_init__()
        if self.categories and not self.ut1_dir:
            raise ValueError("categories needs ut1_dir")
        if self.ut1_dir and not self.categories:
            # Reading no category would block nothing (and ut1_dir turns the bundled list off).
            raise ValueError("ut1_dir needs categories, the UT1 folders to use (e.g. [\"adult\", \"gambling\"])")

    def check(self) -> None:
        for path in (*self.domain_files, *self.suffix_files, *self.regex_files):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"blocklist file not found: {path}")
        regexes = [(path, entry) for path in self.regex_files for entry in _read_entries(path)]
        if regexes:  # compiled here as load() joins them, not first in every worker
            try:
                _join_regexes(entry for _, entry in regexes)
            except (re.error, OverflowError, RecursionError) as joined_error:  # a{4294967296}, deep nesting
                for path, entry in regexes:  # name the culprit
                    try:
                        re.compile(entry)
                    except (re.error, OverflowError, RecursionError) as exc:
                        raise ValueError(f"blocklist regex file {path}: {entry!r} is not a regular expression "
                                         f"({exc})") from None
                raise ValueError(f"blocklist regexes {', '.join(self.regex_files)} cannot be combined into one "
                                 f"pattern ({joined_error}; e.g. a (?i) flag must be written (?i:...))") from None
        if self.ut1_dir and not Path(self.ut1_dir).is_dir():
            raise FileNotFoundError(f"UT1 folder not found: {self.ut1_dir}")
        for category in self.categories:
            if not (Path(self.ut1_dir) / category).is_dir():
                raise FileNotFoundError(f"UT1 category folder not found: {Path(self.ut1_dir) / category}")

    def load(self) -> None:
        if "suffixes" in self._state:
            return
        # entry -> the list it came from (a file name or "ut1:<category>"), for the
        # reject's detail; the strings are shared, so this costs little over a set.
        exact: dict[str, str] = {}
        suffixes: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        regexes: list[str] = []
        for path in self.domain_files:
            hosts, wildcards = _read_domains(path)
            source = os.path.basename(path)
            exact.update(dict.fromkeys(hosts, source))
            suffixes.update(dict.fromkeys(wildcards, source))  # "*.host" in an exact list still means its subdomains
        suffix_files = list(self.suffix_files)
        if not (self.domain_files or self.suffix_files or self.regex_files or self.ut1_dir):
            suffix_files.append(str(DEFAULT_BLOCKLIST))
        for path in suffix_files:
            source = os.path.basename(path)
            for hosts in _read_domains(path):
                suffixes.update(dict.fromkeys(hosts, source))
        for path in self.regex_files:
            regexes.extend(_read_entries(path))
        for category in self.categories:
            folder = Path(self.ut1_dir) / category
            if not folder.is_dir():
                raise FileNotFoundError(f"UT1 category folder not found: {folder}")
            source = f"ut1:{category}"
            if (folder / "domains").exists():
                for hosts in _read_domains(folder / "domains"):
                    suffixes.update(dict.fromkeys(hosts, source))
            if (folder / "urls").exists():
                prefixes.update(dict.fromkeys(
                    (_url_key("http://" + e).rstrip("/") for e in _read_entries(folder / "urls")), source))
        self._state["exact"] = exact
        self._state["suffixes"] = suffixes
        self._state["prefixes"] = prefixes
        self._state["regex"] = _join_regexes(regexes) if regexes else None

    def _match(self, url: str) -> tuple[str, str] | None:
        """(reason, what matched) for ``url``, domain entries first; ``None`` if nothing."""
        self.load()
        st = self._state
        host = url_host(url) if url else ""
        if not host:
            return None
        if host in st["exact"]:
            return "blocked_domain", f"domain {host} ({st['exact'][host]})"
        for suffix in _host_suffixes(host):
            if suffix in st["suffixes"]:
                return "blocked_domain", f"domain suffix {suffix} ({st['suffixes'][suffix]})"
        if st["prefixes"]:
            key = _url_key(url)
            # Prefix match on path-segment boundaries: "a.jp/x" blocks "a.jp/x/y", not "a.jp/xy".
            cut = len(key)
            while cut > 0:
                prefix = key[:cut].rstrip("/")
                if prefix in st["prefixes"]:
                    return "blocked_url", f"url prefix {prefix} ({st['prefixes'][prefix]})"
                cut = key.rfind("/", 0, cut)
        if st["regex"] is not None:
            m = st["regex"].search(url)
            if m is not None:
                return "blocked_url", f"url pattern matched {m.group(0)[:80]!r}"
        return None

    def score(self, doc: Doc) -> dict[str, float]:
        match = self._match(doc.url)
        reason = match[0] if match else ""
        return {"blocked_domain": float(reason == "blocked_domain"), "blocked_url": float(reason == "blocked_url")}

    def detail(self, doc: Doc, scores: Mapping[str, float], reason: str) -> str:
        """Which entry of which list matched: ``domain suffix casino.example (ut1:gambling)``."""
        match = self._match(doc.url)
        return match[1] if match else ""

    def decide(self, scores: Mapping[str, float]) -> str | None:
        if scores["blocked_domain"]:
            return "blocked_domain"
        if scores["blocked_url"]:
            return "blocked_url"
        return None
