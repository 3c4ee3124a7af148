"""One industry model and one rule for "is industry X banned in zone Z?".

Industries are placed in the national industry classification **GB/T 4754-2017**
(国民经济行业分类: 20 sections, 97 divisions, 473 groups, 1,380 classes; the table ships
as ``geo/data/gbt4754_2017.csv``). A name resolves to classification codes by, in order:

1. a code: ``C26``, ``26``, ``2614``, ``C2614`` (a section letter alone, ``C``, is a
   section); a section letter that does not fit the digits is not a code;
2. an exact classification name, Chinese or English (``化学原料和化学制品制造业``,
   ``Manufacture of medicines``);
3. an alias: a regulated sector's names (:data:`SECTORS`), common industry names
   (:data:`ALIASES`), the chain maps' industries (id, Chinese and English names, and
   their ``gbt4754`` codes) and the study's ``[redlines.sectors]``;
4. containment: the name contains an alias as whole words (``fine chemicals
   manufacturing`` ⊃ ``fine chemicals``) or, in Chinese, contains a Chinese alias
   (``化工新材料`` ⊃ ``化工``) or is part of class names of a single division
   (``农药`` ⊂ ``化学农药制造``, both in C26).

Anything else is **unknown**. A ban list holds sector ids (``chemicals``), codes or
names, resolved the same way. :meth:`SectorModel.is_banned` gives each industry one of
three verdicts: *banned* (its codes lie inside a banned code), *review* (unknown, or
broader than a ban — ``C26`` against a ban of ``2645`` dyes only), or *allowed*. The
red-line gate turns review into a ``review`` row: an industry the gate cannot judge
never passes a restricted zone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

import pandas as pd

#: Regulated sectors: id → (Chinese name, English name, GB/T 4754-2017 codes, aliases).
#: Chemicals are divisions 25 (petroleum and coal processing: refining, petrochemicals)
#: and 26 (raw chemical materials and products); pharmaceuticals division 27;
#: papermaking groups 221–222 (pulp, paper; not paper products such as cartons);
#: dyeing the dyeing-and-finishing classes of division 17;
#: electroplating class 3360 (metal surface treatment); tanning class 1910.
SECTORS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "chemicals": ("化工", "Chemicals", ("C25", "C26"), (
        "chemicals", "chemical", "chemical industry", "petrochemicals", "petrochemical",
        "fine chemicals", "basic chemicals", "chemical materials", "化工", "石化",
        "石油化工", "精细化工", "化学工业", "化学品")),
    "pharmaceuticals": ("医药", "Pharmaceuticals", ("C27",), (
        "pharmaceuticals", "pharmaceutical", "pharma", "biomedicine", "biopharmaceuticals",
        "biopharma", "api", "drug manufacturing", "medicines", "医药", "生物医药", "制药",
        "原料药", "医药制造")),
    "papermaking": ("造纸", "Papermaking", ("C221", "C222"), (
        "papermaking", "paper", "paper packaging", "pulp", "paper making", "造纸", "制浆")),
    "dyeing": ("印染", "Dyeing", ("C1713", "C1723", "C1733", "C1743", "C1752", "C1762"), (
        "dyeing", "printing and dyeing", "textile dyeing", "印染", "染整")),
    "electroplating": ("电镀", "Electroplating", ("C3360",), (
        "electroplating", "plating", "surface treatment", "电镀", "表面处理")),
    "tanning": ("制革", "Tanning", ("C1910",), ("tanning", "leather tanning", "制革", "鞣制")),
}

#: Common industry names (the parks' own wording) → GB/T 4754-2017 codes.
ALIASES: dict[str, tuple[str, ...]] = {
    "electronics": ("C39",), "electronic equipment": ("C39",), "电子": ("C39",),
    "电子信息": ("C39",), "microelectronics": ("C397",), "微电子": ("C397",),
    "integrated circuits": ("C3973",), "semiconductors": ("C397",), "集成电路": ("C3973",),
    "半导体": ("C397",), "electronic components": ("C398",), "电子元器件": ("C398",),
    "notebook computers": ("C3911",), "computers": ("C391",), "motherboards": ("C3912",),
    "it assembly": ("C391",), "笔记本电脑": ("C3911",),
    "precision machinery": ("C34", "C35"), "精密机械": ("C34", "C35"),
    "equipment": ("C34", "C35"), "装备制造": ("C34", "C35"), "smart equipment": ("C34", "C35"),
    "智能装备": ("C34", "C35"), "wind equipment": ("C3415", "C3811"), "风电装备": ("C3415",),
    "medical supplies": ("C358", "C2770"), "medical devices": ("C358",),
    "医疗器械": ("C358",), "auto parts": ("C3670",), "汽车零部件": ("C3670",),
    "automobiles": ("C36",), "汽车": ("C36",), "battery recycling": ("C4210",),
    "电池回收": ("C4210",), "lithium batteries": ("C3841",), "锂电池": ("C3841",),
    "port logistics": ("G5532", "G59"), "港口物流": ("G5532", "G59"), "logistics": ("G",),
    "物流": ("G",), "textiles": ("C17",), "纺织": ("C17",), "food processing": ("C13", "C14"),
    "agro processing": ("C13",), "农副食品加工": ("C13",), "building materials": ("C30",),
    "建材": ("C30",), "petroleum machinery": ("C3512",), "石油机械": ("C3512",),
    "software": ("I65",), "软件": ("I65",), "r&d": ("M73",), "研发": ("M73",),
}

#: Chinese words too generic to decide anything by containment.
_GENERIC_ZH = frozenset({"制造", "制造业", "加工", "产业", "工业", "行业", "生产", "服务", "其他",
                         "制品", "产品", "材料", "新材料", "设备", "专用", "技术"})

Verdict = Literal["banned", "review", "allowed"]


def _norm(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"\s+", " ", s.replace("_", " ").replace("-", " "))


def _is_zh(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def split_industries(value: object) -> list[str]:
    """Split an industry field on ``;``, ``,``, ``|``, ``、`` and their full-width forms.

    Parameters
    ----------
    value
        A field value: text, a list/tuple/set of names, None or NaN.

    Returns
    -------
    list of str
        The stripped, non-empty names (``[]`` for None/NaN).
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value if str(v).strip()]
    text = unicodedata.normalize("NFKC", str(value))
    return [p.strip() for p in re.split(r"[;,|、]", text) if p.strip()]


@functools.cache
def classification() -> pd.DataFrame:
    """GB/T 4754-2017: one row per code (index ``C2614``-style: section letter + digits).

    Read once from the bundled ``geo/data/gbt4754_2017.csv`` (cached).

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` {"section", "division", "group", "class"}, ``section``,
        ``code``, ``parent``, ``name_zh``, ``name_en`` (sections and divisions only).
    """
    path = files("geo") / "data" / "gbt4754_2017.csv"
    with path.open(encoding="utf-8") as fh:
        t = pd.read_csv(fh, dtype=str, keep_default_na=False)
    t["key"] = t["section"] + t["code"].where(t["level"] != "section", "")
    return t.set_index("key")


def gbt_code(text: object) -> str | None:
    """The canonical GB/T 4754-2017 code of ``text``.

    Parameters
    ----------
    text
        A code as typed: ``2614``, ``c26``, ``Ｃ２６``, ``C2614`` (case, spaces and
        full-width forms ignored).

    Returns
    -------
    str or None
        The canonical code (``"C2614"``), or None when it is not a code of the
        classification.
    """
    codes = _code_keys(_norm(text))
    return min(codes) if codes else None


def _code_keys(n: str) -> frozenset[str] | None:
    m = re.fullmatch(r"([a-t])?\s*(\d{2}|\d{3}|\d{4})?", n)
    if not m or not (m.group(1) or m.group(2)):
        return None
    table = classification()
    letter, digits = (m.group(1) or "").upper(), m.group(2) or ""
    if not digits:
        return frozenset({letter}) if letter in table.index else None
    hit = table[table["code"] == digits]
    if hit.empty or (letter and hit["section"].iloc[0] != letter):
        return None
    return frozenset(hit.index)


@dataclass(frozen=True)
class Industry:
    """What an industry name resolves to.

    Attributes
    ----------
    given
        The name as written.
    codes
        GB/T 4754-2017 codes (``C2614``; ``X:<sector>`` for a study-defined sector
        without codes); empty when unknown.
    via
        How it was resolved (``code``, ``classification name``, ``alias 'x'``,
        ``contains 'x'``), or ``unknown``.
    """

    given: str
    codes: frozenset[str]
    via: str

    @property
    def known(self) -> bool:
        return bool(self.codes)


@dataclass(frozen=True)
class BanVerdict:
    """The verdict on a list of industries against one ban list.

    ``banned`` holds (industry, ban) pairs; ``review`` (industry, why) pairs;
    ``allowed`` the industries that no ban touches.
    """

    banned: tuple[tuple[str, str], ...]
    review: tuple[tuple[str, str], ...]
    allowed: tuple[str, ...]

    @property
    def status(self) -> Verdict:
        return "banned" if self.banned else "review" if self.review else "allowed"

    def describe(self) -> str:
        """One line: what was banned, what needs review and what is allowed.

        Returns
        -------
        str
            ``"banned: …; to review: …; not banned: …"`` (empty parts left out).
        """
        parts = []
        if self.banned:
            parts.append("banned: " + ", ".join(f"{i} ({b})" for i, b in self.banned))
        if self.review:
            parts.append("to review: " + ", ".join(f"{i} ({w})" for i, w in self.review))
        if self.allowed:
            parts.append("not banned: " + ", ".join(self.allowed))
        return "; ".join(parts)


class SectorModel:
    """The classification, the regulated sectors and every alias, in one index.

    Parameters
    ----------
    extra
        More names: sector or code → names (the study's ``[redlines.sectors]``). A key
        that is neither a regulated sector nor a classification code defines a new
        sector (``X:<key>``) that ban lists may name.
    chain_industries
        Chain-map industries: id → (Chinese name, English name, GB/T codes).
    """

    def __init__(self, extra: Mapping[str, Iterable[str]] | None = None,
                 chain_industries: Mapping[str, tuple[str, str, tuple[str, ...]]] | None = None
                 ) -> None:
        self.table = classification()
        self._memo: dict[str, Industry] = {}
        self._names: dict[str, frozenset[str]] = {}
        for col in ("name_zh", "name_en"):
            for key, n in zip(self.table.index, self.table[col], strict=True):
                if n:
                    self._names.setdefault(_norm(n), frozenset({str(key)}))
        self._alias: dict[str, frozenset[str]] = {}
        for sid, (zh, en, codes, names) in SECTORS.items():
            for n in (sid, zh, en, *names):
                self._add(n, codes)
        for n, alias_codes in ALIASES.items():
            self._add(n, alias_codes)
        for iid, (zh, en, codes) in (chain_industries or {}).items():
            for n in (iid, zh, en):  # a chain map's own codes beat a generic alias
                if n and codes:
                    self._add(n, codes, replace=True)
        for key, extra_names in (extra or {}).items():
            key_codes = self._sector_codes(str(key))
            for n in (key, *extra_names):
                self._add(n, key_codes)

    def _sector_codes(self, key: str) -> tuple[str, ...]:
        if key in SECTORS:
            return SECTORS[key][2]
        code = _code_keys(_norm(key))
        return tuple(code) if code else (f"X:{_norm(key)}",)

    def _add(self, name: str, codes: Iterable[str], *, replace: bool = False) -> None:
        n = _norm(name)
        old = frozenset() if replace else self._alias.get(n, frozenset())
        self._alias[n] = old | frozenset(codes)

    def _contained(self, n: str) -> tuple[frozenset[str], str] | None:
        words = f" {n} "
        found = [a for a in self._alias if len(a) >= 2 and (
            (_is_zh(a) and _is_zh(n) and a in n and a not in _GENERIC_ZH)
            or (not _is_zh(a) and f" {a} " in words))]
        if found:
            best = max(found, key=len)
            return self._alias[best], f"contains {best!r}"
        if _is_zh(n) and len(n) >= 2 and n not in _GENERIC_ZH:
            cls = self.table[(self.table["level"] == "class")
                             & self.table["name_zh"].str.contains(n, regex=False)]
            if (cls["section"] == "C").any():  # a park's industry: manufacturing first
                cls = cls[cls["section"] == "C"]
            # only a term specific to one division places an industry ("农药" ⊂ two
            # classes of C26); a word spread over divisions ("综合") places nothing
            if len(cls) and cls.index.str[:3].nunique() == 1:
                return frozenset(cls.index), f"part of class names ({', '.join(cls.name_zh[:3])})"
        return None

    def resolve(self, name: str) -> Industry:
        """Place one industry name in the classification (see the module docstring);
        each distinct name is resolved once per model.

        Parameters
        ----------
        name
            An industry as written: a GB/T code, a classification name (中文 or English),
            a regulated-sector id or alias, or a chain-map industry.

        Returns
        -------
        Industry
            Its codes and how they were found; ``codes`` empty when unknown.
        """
        if name not in self._memo:
            self._memo[name] = self._resolve(name)
        return self._memo[name]

    def _resolve(self, name: str) -> Industry:
        n = _norm(name)
        if (code := _code_keys(n)) is not None:
            return Industry(name, code, "code")
        if n in self._names:
            return Industry(name, self._names[n], "classification name")
        if n in self._alias:
            return Industry(name, self._alias[n], f"alias {n!r}")
        if (hit := self._contained(n)) is not None:
            return Industry(name, hit[0], hit[1])
        return Industry(name, frozenset(), "unknown")

    def is_banned(self, industries: Iterable[str], bans: Iterable[str]) -> BanVerdict:
        """Judge ``industries`` against a zone's ``bans``.

        An industry is banned when each of its codes lies inside a banned code (``C2614``
        inside ``C26``) or ``bans`` holds ``all``; it is to review when it is unknown,
        only partly inside a ban (``medical supplies`` = C358 or C2770 against
        pharmaceuticals) or broader than a ban (``C26`` against ``C2645``); else it is
        allowed.

        Parameters
        ----------
        industries
            Industry names, as :meth:`resolve` accepts.
        bans
            The zone's banned sectors, codes or classification names, or ``all``.

        Returns
        -------
        BanVerdict
            Each industry in exactly one of ``banned``, ``review`` and ``allowed``.

        Raises
        ------
        ValueError
            A ban that resolves to nothing (the zone's list must name sectors, codes or
            classification names).
        """
        ban_list = [b for b in (str(x).strip() for x in bans) if b]
        banned, review, allowed = [], [], []
        if any(_norm(b) == "all" for b in ban_list):
            return BanVerdict(tuple((i, "all") for i in industries), (), ())
        resolved_bans = []
        for b in ban_list:
            r = self.resolve(b)
            if not r.known:
                raise ValueError(f"ban {b!r} names no sector, code or industry of GB/T "
                                 f"4754-2017; use one of {', '.join(SECTORS)} or a code "
                                 "such as C26")
            resolved_bans.append(r)
        for ind in industries:
            r = self.resolve(ind)
            if not r.known:
                review.append((ind, "industry not recognised"))
                continue
            inside = {c: [b.given for b in resolved_bans if any(c.startswith(bc)
                                                               for bc in b.codes)]
                      for c in r.codes}
            hit = [b for bs in inside.values() for b in bs]
            broader = [b.given for b in resolved_bans
                       if any(bc.startswith(c) and bc != c for c in r.codes for bc in b.codes)]
            if hit and all(inside.values()):
                banned.append((ind, hit[0]))
            elif hit:
                review.append((ind, f"partly under the ban on {hit[0]}"))
            elif broader:
                review.append((ind, f"broader than the ban on {broader[0]}"))
            else:
                allowed.append(ind)
        return BanVerdict(tuple(banned), tuple(review), tuple(allowed))

    def sectors_of(self, name: str) -> frozenset[str]:
        """The regulated sectors (:data:`SECTORS` ids) an industry falls in.

        Parameters
        ----------
        name
            An industry name, as :meth:`resolve` accepts.

        Returns
        -------
        frozenset of str
            Sector ids (e.g. ``{"chemicals"}``); empty when unknown or in none.
        """
        codes = self.resolve(name).codes
        return frozenset(s for s, (_, _, scodes, _) in SECTORS.items()
                         if any(c.startswith(sc) for c in codes for sc in scodes))


@functools.cache
def _model(extra: tuple[tuple[str, tuple[str, ...]], ...],
           chain: tuple[tuple[str, tuple[str, str, tuple[str, ...]]], ...]) -> SectorModel:
    return SectorModel(dict(extra), dict(chain))


def sector_model(extra: Mapping[str, Iterable[str]] | None = None,
                 chain_industries: Mapping[str, tuple[str, str, tuple[str, ...]]] | None = None
                 ) -> SectorModel:
    """A :class:`SectorModel`, built once per distinct set of extra names (cached).

    Parameters
    ----------
    extra
        Sector or code → more names (a study's ``[redlines.sectors]``).
    chain_industries
        Chain-map industry id → (Chinese name, English name, GB/T codes).

    Returns
    -------
    SectorModel
        The shared model for these arguments.
    """
    ex = tuple(sorted((str(k), tuple(map(str, v))) for k, v in (extra or {}).items()))
    ch = tuple(sorted((chain_industries or {}).items()))
    return _model(ex, ch)


def is_banned(industries: Iterable[str], bans: Iterable[str], *,
              model: SectorModel | None = None) -> BanVerdict:
    """:meth:`SectorModel.is_banned` with the default model (or ``model``).

    Parameters
    ----------
    industries
        Industry names.
    bans
        The zone's banned sectors, codes or names, or ``all``.
    model
        The model to use; default :func:`sector_model` with no extra names.

    Returns
    -------
    BanVerdict

    Raises
    ------
    ValueError
        A ban that resolves to nothing (from :meth:`SectorModel.is_banned`).
    """
    return (model or sector_model()).is_banned(industries, bans)
