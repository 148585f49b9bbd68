"""Category taxonomy: police.uk crime types, the partnership (Home Office) hierarchy, fire
categories and named groups, loaded from ``taxonomy.csv`` (data, not code).

Vocabulary
----------
category
    A leaf name, e.g. ``Shoplifting`` or ``Deliberate secondary fire``. Matching is
    case-insensitive and tolerant of ``&``/``and`` and spacing; aliases are listed in the CSV.
group
    The taxonomy path of the leaf's parent, e.g. ``Victim Based Crime/Violence``. Unrecognised
    categories get the group ``Unknown`` (kept, never dropped).
kind
    ``crime``, ``asb`` or ``fire``.
named groups
    ``crime``, ``asb``, ``fire``, ``deliberate-fires``, ``deliberate-primary-fires``,
    ``deliberate-secondary-fires``, ``neighbourhood-crime``.
listed
    ``always`` (a table lists the row even when it counts nothing) or ``if-present`` (force-export
    labels with no Home Office row of their own, e.g. ``Robbery - Personal``, ``Fraud & Forgery``:
    listed only when the data use them).
caveat
    Where a police.uk category is coarser than the measure asked for (``Burglary`` includes
    business burglary, ``Criminal damage and arson`` cannot give arson, ...), the sentence every
    output that counts it must carry (`caveats`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Iterable

import numpy as np
import pandas as pd

from hotspot_app.core.errors import InputError

UNKNOWN = "Unknown"
KINDS = ("crime", "asb", "fire", "council")
#: The kind of rows from sources that are not the police or the fire service (a council's
#: fly-tipping, noise and graffiti reports): their own rows and blocks, never in a crime Total.
COUNCIL = "council"
#: Named groups that are defined by kind rather than by listing categories.
KIND_GROUPS = {"crime": "crime", "asb": "asb", "fire": "fire", "council": "council"}


def normalise(name: object) -> str:
    """Key used to match category names: lower case, '&' as 'and', single spaces, no dashes."""
    text = str(name).strip().lower().replace("&", " and ")
    text = re.sub(r"[\u2013\u2014\-_/]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def load() -> pd.DataFrame:
    """The taxonomy table: taxonomy, category, parent, kind, groups (list), aliases (list)."""
    with resources.files(__package__).joinpath("taxonomy.csv").open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df["groups"] = df["groups"].map(lambda s: [g for g in s.split("|") if g])
    df["aliases"] = df["aliases"].map(lambda s: [a for a in s.split("|") if a])
    for col, default in (("listed", "always"), ("caveat", "")):
        if col not in df.columns:
            df[col] = default
    return df


@lru_cache(maxsize=1)
def lookup() -> dict[str, tuple[str, str, str]]:
    """normalised name or alias -> (canonical category, parent path, kind)."""
    out: dict[str, tuple[str, str, str]] = {}
    for row in load().itertuples(index=False):
        value = (row.category, row.parent, row.kind)
        for key in [row.category, *row.aliases]:
            k = normalise(key)
            # The same leaf name in two taxonomies (e.g. Shoplifting) must agree on its place.
            if k in out and out[k][1:] != value[1:]:
                raise RuntimeError(f"taxonomy.csv: '{key}' has two different parents")
            out.setdefault(k, value)
    return out


def classify(categories: Iterable[object], default_kind: str = "crime") -> pd.DataFrame:
    """Canonical category, group and kind for each input category name.

    Unrecognised (or empty) names keep their text as ``category`` (``Unknown`` when empty) and
    get group ``Unknown`` and ``default_kind``. Vectorised over the distinct values.
    """
    cats = pd.Series(list(categories) if not isinstance(categories, pd.Series) else categories,
                     dtype=object)
    uniques = pd.unique(cats)
    table = lookup()
    canon, group, kind = [], [], []
    for value in uniques:
        if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
            canon.append(UNKNOWN), group.append(UNKNOWN), kind.append(default_kind)
            continue
        hit = table.get(normalise(value))
        if hit is None:
            canon.append(str(value).strip()), group.append(UNKNOWN), kind.append(default_kind)
        else:
            canon.append(hit[0]), group.append(hit[1] or hit[0]), kind.append(hit[2])
    codes = pd.Index(uniques).get_indexer(cats)
    return pd.DataFrame(
        {
            "category": np.asarray(canon, dtype=object)[codes],
            "group": np.asarray(group, dtype=object)[codes],
            "kind": np.asarray(kind, dtype=object)[codes],
        },
        index=cats.index,
    )


def named_groups() -> dict[str, set[str]]:
    """Named group -> set of canonical categories (kind groups list their known leaves)."""
    groups: dict[str, set[str]] = {}
    for row in load().itertuples(index=False):
        for g in row.groups:
            groups.setdefault(g, set()).add(row.category)
        groups.setdefault(row.kind, set()).add(row.category)
    return groups


def nodes() -> set[str]:
    """Every inner node of the hierarchies (e.g. 'Violence', 'Victim Based Crime')."""
    out: set[str] = set()
    for parent in load()["parent"]:
        out.update(p for p in parent.split("/") if p)
    return out


def choices() -> list[str]:
    """Everything `select` accepts, for help texts and error messages."""
    return sorted(set(named_groups()) | nodes() | set(load()["category"]) | {UNKNOWN})


def choices_present(incidents: pd.DataFrame) -> list[str]:
    """What a user can pick for these incidents, in the order the app offers it: the named
    groups whose kind is present (`GROUP_LABELS` order), then the hierarchy nodes and the
    categories present."""
    # the distinct values first (a few dozen), not every row's (a force's data: 270,000 rows)
    kinds = {str(k) for k in pd.unique(incidents["kind"].dropna())}
    named = [g for g in GROUP_LABELS
             if (g in kinds) or (g.startswith(("deliberate", "fire")) and "fire" in kinds)
             or (g == "neighbourhood-crime" and "crime" in kinds)]
    groups = sorted({p for g in pd.unique(incidents["group"].dropna()) for p in str(g).split("/") if p} & nodes())
    cats = sorted({str(c) for c in pd.unique(incidents["category"].dropna())})
    return list(dict.fromkeys(named + groups + cats))


def select(incidents: pd.DataFrame, selection: str | Iterable[str] | None,
           known: pd.DataFrame | None = None) -> pd.Series:
    """Boolean mask of incidents matching any of the named groups, hierarchy nodes or categories.

    ``None`` or an empty selection selects everything. ``crime``/``asb``/``fire`` select by
    ``kind`` (so unrecognised crime categories are included in ``crime``); ``Unknown`` selects
    the unrecognised categories. Raises `InputError` (parameter ``category``) for a name that
    is none of these, listing what is accepted. `known`: when `incidents` are only part of what
    is loaded (a read with a selection pushed in), the categories of everything loaded (e.g. the
    workspace's summary): a data category named is then accepted when `known` holds it.
    """
    tokens = category_list(selection)
    if not tokens:
        return pd.Series(True, index=incidents.index)
    groups = {normalise(k): v for k, v in named_groups().items()}
    node_keys = {normalise(n): n for n in nodes()}
    leaves = lookup()
    mask = pd.Series(False, index=incidents.index)
    cat_norm = None
    for token in tokens:
        key = normalise(token)
        if key in {normalise(k) for k in KIND_GROUPS}:
            mask |= incidents["kind"].eq(key)
        elif key in groups:
            mask |= incidents["category"].isin(groups[key])
        elif key == normalise(UNKNOWN):
            mask |= incidents["group"].eq(UNKNOWN)
        elif key in node_keys:
            node = node_keys[key]
            parts = incidents["group"].astype(str).str.split("/")
            mask |= parts.map(lambda p, n=node: n in p)
        elif key in leaves:
            mask |= incidents["category"].eq(leaves[key][0])
        else:
            if cat_norm is None:
                cat_norm = incidents["category"].astype(str).map(normalise)
            hit = cat_norm.eq(key)
            if not hit.any() and (known is None or not known["category"].astype(str).map(normalise).eq(key).any()):
                raise InputError(
                    f"unknown category or group '{token}'; use one of: " + ", ".join(choices()),
                    parameter="category",
                )
            mask |= hit
    return mask


def detect(categories: Iterable[object]) -> str:
    """Which crime taxonomy the categories come from: 'police-uk' or 'home-office'."""
    df = load()
    present = {normalise(c) for c in pd.unique(pd.Series(list(categories), dtype=object)) if c}
    score = {}
    for name in ("police-uk", "home-office"):
        sub = df[(df["taxonomy"] == name) & (df["kind"] == "crime")]
        keys = {normalise(k) for row in sub.itertuples() for k in [row.category, *row.aliases]}
        score[name] = len(present & keys)
    return "home-office" if score["home-office"] > score["police-uk"] else "police-uk"


def if_present() -> set[str]:
    """Categories a table lists only when the data use them (``listed`` = ``if-present``)."""
    df = load()
    return set(df.loc[df["listed"].eq("if-present"), "category"])


def caveats(categories: Iterable[object]) -> list[str]:
    """The caveats (taxonomy.csv ``caveat``) of the canonical categories given, in taxonomy
    order, once each: e.g. police.uk ``Burglary`` -> 'police.uk "Burglary" includes business and
    community burglary ...'."""
    present = {str(c) for c in categories}
    df = load()
    hits = df[df["category"].isin(present) & df["caveat"].ne("")]
    return list(dict.fromkeys(hits["caveat"]))


def taxonomy_of(category: str) -> set[str]:
    """The taxonomies (police-uk, home-office, fire) that list a canonical category."""
    df = load()
    return set(df.loc[df["category"].eq(category), "taxonomy"])


def indistinct(categories: Iterable[str], data_categories: Iterable[object], kind: str = "crime") -> list[str]:
    """Of `categories` (canonical leaf names a table or indicator asks for), those the data cannot
    distinguish: the data's own taxonomy (`detect` on `data_categories`) does not list them and no
    incident carries them. police.uk data cannot give 'Violence With Injury' or 'Arson'; such a
    count is unknown (null), never 0."""
    present = {str(c) for c in pd.unique(pd.Series(list(data_categories), dtype=object)) if c is not None}
    if not present:
        return []
    if kind == "asb":
        ho = set(load().query("taxonomy == 'home-office' and kind == 'asb'")["category"])
        data_tax = "home-office" if present & ho else "police-uk"
    else:
        data_tax = detect(present)
    out = []
    for cat in categories:
        if cat in present or cat == UNKNOWN:
            continue
        if data_tax not in taxonomy_of(cat):
            out.append(cat)
    return out


def selection_kinds(selection) -> set[str]:
    """The kinds (crime, asb, fire) a selection of groups, nodes or categories reaches in the
    taxonomy (a category of the data only reaches none)."""
    tax = load()
    frame = pd.DataFrame({"category": tax["category"].to_numpy(),
                          "group": [p or c for p, c in zip(tax["parent"], tax["category"])],
                          "kind": tax["kind"].to_numpy()})
    try:
        return set(frame.loc[select(frame, selection).to_numpy(), "kind"].astype(str))
    except InputError:
        return set()


def unsplit(incidents: pd.DataFrame, selection) -> list[str]:
    """The categories or hierarchy nodes of `selection` that the loaded data cannot give: finer
    than the data's own categories (police.uk has no 'Violence With Injury', no 'Arson' apart from
    criminal damage, no residential burglary). Counting them would give a false 0 everywhere, so
    a question refuses them (a table shows their rows as n/a). Named groups (crime, ASB,
    neighbourhood crime, ...) are not listed: they are counted with their caveats."""
    tokens = category_list(selection)
    if not tokens or "category" not in incidents.columns:
        return []
    groups = {normalise(k) for k in named_groups()} | {normalise(k) for k in KIND_GROUPS}
    node_keys = {normalise(n): n for n in nodes()}
    leaves = lookup()
    tax = load()
    out = []
    for token in tokens:
        key = normalise(token)
        if key in groups or key == normalise(UNKNOWN):
            continue
        if key in leaves:
            cats, kind = [leaves[key][0]], leaves[key][2]
        elif key in node_keys:
            node = node_keys[key]
            under = tax[tax["parent"].astype(str).str.split("/").map(lambda p, n=node: n in p)]
            cats, kind = list(under["category"]), (under["kind"].iloc[0] if len(under) else "crime")
        else:
            continue  # a category of the data itself
        data = incidents.loc[incidents["kind"].eq(kind).to_numpy(), "category"] if "kind" in incidents.columns \
            else incidents["category"]
        if cats and len(indistinct(cats, data, kind)) == len(cats):
            out.append(str(token))
    return out


# --------------------------------------------------------------------------- labels
#: The named groups users pick, in the order the app offers them, and how each reads in
#: sentences, titles and app labels (the one place these words live).
GROUP_LABELS: dict[str, str] = {
    "crime": "crime",
    "asb": "ASB",
    "neighbourhood-crime": "neighbourhood crime",
    "deliberate-fires": "deliberate fires",
    "deliberate-primary-fires": "deliberate primary fires (F1)",
    "deliberate-secondary-fires": "deliberate secondary fires (F3)",
    "fire": "fire service incidents",
    "council": "council reports",
}


#: How each kind heads a table, titles a page or labels a choice (the one spelling of each).
KIND_LABELS: dict[str, str] = {"crime": "Crime", "asb": "Anti-social behaviour",
                               "fire": "Fire service incidents", "council": "Council reports"}


def kind_label(kind: str | None) -> str:
    """'Crime', 'Anti-social behaviour', 'Fire service incidents' or 'Council reports' (`KIND_LABELS`)."""
    return KIND_LABELS.get(str(kind), KIND_LABELS["crime"])


def category_list(category: str | Iterable[str] | None) -> list[str]:
    """The category selection as a flat list of names (commas split, blanks dropped)."""
    if category is None:
        return []
    items = [category] if isinstance(category, str) else list(category)
    return [t.strip() for tok in items for t in str(tok).split(",") if t.strip()]


def _reach(token: str) -> tuple[str, frozenset]:
    """(label, what the token selects) judged on the taxonomy alone: a set of canonical
    categories, plus ``kind:<k>`` for a kind group (which also takes unrecognised categories of
    its kind)."""
    key = normalise(token)
    tax = load()
    if key in KIND_GROUPS:
        cats = set(tax.loc[tax["kind"] == key, "category"])
        return GROUP_LABELS[key], frozenset(cats | {f"kind:{key}"})
    groups = {normalise(k): k for k in named_groups()}
    if key in groups:
        name = groups[key]
        return GROUP_LABELS.get(name, name), frozenset(named_groups()[name])
    node_keys = {normalise(n): n for n in nodes()}
    if key in node_keys:
        node = node_keys[key]
        cats = {row.category for row in tax.itertuples()
                if node in row.parent.split("/") or row.category == node}
        return node, frozenset(cats)
    hit = lookup().get(key)
    if hit is not None:
        return hit[0], frozenset({hit[0]})
    return token, frozenset({f"text:{key}"})


def selection_label(category: str | Iterable[str] | None, everything: str = "incidents",
                    capital: bool = False) -> str:
    """How a category selection reads: ``["asb"]`` -> 'ASB', ``["asb", "Anti-social
    behaviour"]`` -> 'ASB' (a name already covered by another is dropped), ``["crime",
    "deliberate-fires"]`` -> 'crime and deliberate fires'; `everything` when nothing is
    selected. `capital` starts the text with a capital letter (for headlines)."""
    reached = []
    for token in category_list(category):
        label, cats = _reach(token)
        if any(cats <= other for _, other in reached):
            continue  # covered by a name already listed (or the same name twice)
        reached = [(lab, other) for lab, other in reached if not other < cats]
        reached.append((label, cats))
    from hotspot_app.core.measures import join_names

    text = join_names(dict.fromkeys(lab for lab, _ in reached)) or everything
    return text[:1].upper() + text[1:] if capital else text


def resolve_taxonomy(incidents: pd.DataFrame, kind: str = "crime", taxonomy_name: str = "auto") -> str:
    """The taxonomy a table uses: ``police-uk`` or ``home-office`` for crime and ASB (``auto``
    picks by the categories present, `detect`), always ``fire`` for fires."""
    if taxonomy_name not in TABLE_TAXONOMIES:
        raise InputError(f"unknown taxonomy '{taxonomy_name}'; use one of: {', '.join(TABLE_TAXONOMIES)}",
                         parameter="taxonomy")
    if kind not in KINDS:
        raise InputError(f"unknown kind '{kind}'; use one of: {', '.join(KINDS)}", parameter="kind")
    if kind == "fire":
        return "fire"
    if taxonomy_name != "auto":
        return taxonomy_name
    cats = incidents.loc[incidents["kind"].eq(kind), "category"]
    if kind == "crime":
        return detect(cats)
    ho = set(load().query("taxonomy == 'home-office' and kind == 'asb'")["category"])
    return "home-office" if cats.isin(ho).any() else "police-uk"



def tree(kind: str, taxonomy_name: str, present: pd.DataFrame) -> list[dict]:
    """Ordered nodes (depth first): dicts with category, parent, level, node, path.

    Leaves are the taxonomy's categories of `kind` plus any recognised category present in the
    data (`present`: columns category, group) that the chosen taxonomy lacks, under its own group.
    """
    tax = load()
    leaves: dict[tuple[str, str], None] = {}
    for row in tax[(tax["taxonomy"] == taxonomy_name) & (tax["kind"] == kind)].itertuples():
        leaves[(row.category, row.parent)] = None
    for row in present.itertuples(index=False):
        if row.group == UNKNOWN:
            continue
        parent = "" if row.group == row.category else row.group
        if (row.category, parent) not in leaves:
            leaves[(row.category, parent)] = None
    csv_pos = {name: i for i, name in enumerate(
        dict.fromkeys([p for par in tax["parent"] for p in par.split("/") if p] + list(tax["category"])))}
    order = {name: i for i, name in enumerate(TABLE_ORDER)}

    def rank(name: str) -> tuple[int, int]:
        return (order.get(name, len(order)), csv_pos.get(name, len(csv_pos)))

    children: dict[str, list[tuple[str, str, str]]] = {}  # parent path -> [(kind, name, path)]
    for category, parent in leaves:
        parts = [p for p in parent.split("/") if p]
        for depth in range(len(parts)):
            up = "/".join(parts[:depth])
            path = "/".join(parts[:depth + 1])
            entry = ("group", parts[depth], path)
            if entry not in children.setdefault(up, []):
                children[up].append(entry)
        children.setdefault(parent, []).append(("leaf", category, parent))

    out: list[dict] = []

    def walk(path: str, level: int, parent_name: str | None) -> None:
        for node, name, npath in sorted(children.get(path, []), key=lambda e: rank(e[1])):
            only = children.get(npath, []) if node == "group" else []
            if len(only) == 1 and only[0][0] == "leaf" and normalise(only[0][1]) == normalise(name):
                # a group whose one leaf is itself ('Criminal Damage & Arson' holding police.uk's
                # 'Criminal damage and arson') is one row, named as the data name it
                out.append({"category": only[0][1], "parent": parent_name, "level": level, "node": "leaf",
                            "path": only[0][2]})
                continue
            out.append({"category": name, "parent": parent_name, "level": level, "node": node,
                        "path": npath})
            if node == "group":
                walk(npath, level + 1, name)

    walk("", 0, None)
    return out


# =========================================================================== hierarchy
#: Sibling order of the partnership-table hierarchy (the town-centre paper), for both crime taxonomies.
#: Names not listed keep csv order after the listed ones.
TABLE_ORDER: tuple[str, ...] = (
    "Victim Based Crime", "Violence", "Violence and sexual offences", "Violence Without Injury",
    "Violence With Injury", "Stalking and Harassment",
    "Death or serious injury caused by illegal driving", "Homicide", "Theft Offences",
    "Shoplifting", "All Other Theft Offences", "Other theft", "Vehicle Offences", "Vehicle crime",
    "Burglary Residential", "Burglary Business and Community", "Burglary", "Theft From The Person",
    "Theft from the person", "Bicycle Theft", "Bicycle theft", "Criminal Damage & Arson",
    "Criminal Damage", "Arson", "Criminal damage and arson", "Sexual Offences", "Robbery",
    "Non victim based", "Public Order Offences", "Public order", "Drug Offences", "Drugs",
    "Misc Crimes Against Society", "Other crime", "Weapons Possession Offences",
    "Possession of weapons",
    "Anti-social behaviour", "ASB Personal", "ASB Nuisance", "ASB Environmental",
    "Fires", "Deliberate", "Deliberate primary fire", "Deliberate secondary fire", "Accidental",
    "Accidental primary fire", "Accidental secondary fire", "Fire (cause not known)",
    "Other fire service incidents", "False alarm", "Special service",
)



TABLE_TAXONOMIES = ("auto", "police-uk", "home-office")
