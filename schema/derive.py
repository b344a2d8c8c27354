#!/usr/bin/env python3
"""Derive the checked-in OData CSDL 4.0 documents ``beta.xml`` and ``v1.0.xml``.

Usage (from the repository root)::

    python3 schema/derive.py [TYPES_JSON [CSDL_V1_EXCERPT_XML]]

Defaults: ``../shared/spec/types.json`` and ``../shared/spec/csdl-v1.0-excerpt.xml``,
relative to the repository root (the parent directory of this script's folder).

What it does
------------
* Reads the research schema ``types.json`` (the beta schema of the Intune
  deviceEnrollmentConfiguration / enrollmentConfigurationAssignment family, every
  type/property/enum member/operation flagged ``inV1``) and the verbatim v1.0 CSDL
  excerpt ``csdl-v1.0-excerpt.xml``.
* Writes, next to this script, two CSDL documents:
  ``beta.xml`` (everything in types.json) and ``v1.0.xml`` (only what has ``inV1``
  true). Output is deterministic: same inputs give byte-identical files.
* Description annotations (Org.OData.Core.V1.Description) are copied from the v1.0
  excerpt; beta-only types/properties get the ``notes`` text of types.json instead.
* Cross-checks ``v1.0.xml`` against the excerpt (types, properties, keys, navigation
  properties, enum members, actions, singleton: same Type, Nullable, BaseType,
  Abstract; nothing missing, nothing extra; order and annotations ignored) and runs
  a few self-consistency checks on both documents. Prints the differences and exits
  with status 1 if there are any, prints ``ok`` otherwise.

The two XML files are the source of truth for the server: it loads them at start-up,
serves their bytes unchanged as ``$metadata`` and derives its EDM model (types,
nullability, property order used for JSON output) from them. The server never reads
types.json; re-run this script and commit its outputs when types.json changes.

Decisions (see also schema/README.md)
-------------------------------------
* Abstract: ``entity``, ``deviceEnrollmentConfiguration`` and the complex
  ``deviceAndAppManagementAssignmentTarget`` are Abstract="true" in both files.
  types.json has ``abstractBeta: null`` (unknown; the beta SDK cannot express it)
  for the latter two; we fall back to the v1.0 value (abstract).
* Property order: a type's own properties follow its ``docsJsonPropertyOrder``
  ("beta" list for beta.xml; the "v1.0" list for v1.0.xml if present, else the
  beta list filtered to v1 properties). A type without such a list (e.g. the base
  types) takes the order from a derived type's list, which names the inherited
  properties first. Properties not named in the list follow, in types.json order.
* Enum members are emitted in value order; all integers are Edm.Int32.
"""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET

NS_MS = "microsoft.graph."
ALIAS = "graph."
EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"
DESCRIPTION_TERM = "Org.OData.Core.V1.Description"

# Entity types that carry the root navigation properties, and how the entity
# container exposes them (types.json "containers"; the beta `me` singleton is not
# part of this schema).
CONTAINER_MEMBERS = {
    "deviceManagement": ("Singleton", "deviceManagement"),
    "user": ("EntitySet", "users"),
}

# Orders the brief fixes explicitly; guarded so a change of types.json that would
# alter them is noticed (beta document, own properties only).
EXPECTED_BETA_OWN_ORDER = {
    "deviceEnrollmentConfiguration": [
        "displayName", "description", "priority", "createdDateTime",
        "lastModifiedDateTime", "version", "roleScopeTagIds",
        "deviceEnrollmentConfigurationType",
    ],
    "enrollmentConfigurationAssignment": ["target", "source", "sourceId"],
    "deviceAndAppManagementAssignmentTarget": [
        "deviceAndAppManagementAssignmentFilterId",
        "deviceAndAppManagementAssignmentFilterType",
    ],
}
EXPECTED_ABSTRACT = {"entity", "deviceEnrollmentConfiguration",
                     "deviceAndAppManagementAssignmentTarget"}


# --------------------------------------------------------------------------- helpers

def xml_attr(value: str) -> str:
    """Escape a string for a double-quoted XML attribute (apostrophes kept as-is)."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")
            .replace("\t", "&#9;"))


def short(qualified: str) -> str:
    """microsoft.graph.x -> graph.x; Collection(...) handled; Edm.* unchanged."""
    if qualified.startswith("Collection(") and qualified.endswith(")"):
        return "Collection(" + short(qualified[len("Collection("):-1]) + ")"
    if qualified.startswith(NS_MS):
        return ALIAS + qualified[len(NS_MS):]
    return qualified


def type_ref(t: str, collection: bool) -> str:
    t = short(t)
    return f"Collection({t})" if collection else t


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class Writer:
    def __init__(self) -> None:
        self.lines: list[str] = ['<?xml version="1.0" encoding="utf-8"?>']
        self.depth = 0

    def _fmt(self, name: str, attrs: list[tuple[str, str]]) -> str:
        a = "".join(f' {k}="{xml_attr(v)}"' for k, v in attrs)
        return "  " * self.depth + f"<{name}{a}"

    def empty(self, name: str, attrs: list[tuple[str, str]]) -> None:
        self.lines.append(self._fmt(name, attrs) + " />")

    def open(self, name: str, attrs: list[tuple[str, str]]) -> None:
        self.lines.append(self._fmt(name, attrs) + ">")
        self.depth += 1

    def close(self, name: str) -> None:
        self.depth -= 1
        self.lines.append("  " * self.depth + f"</{name}>")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# --------------------------------------------------------------------------- model

class Spec:
    def __init__(self, data: dict, version: str) -> None:
        self.data = data
        self.version = version  # "beta" or "v1.0"
        self.v1 = version == "v1.0"
        self.entities = data["entityTypes"]
        self.complexes = data["complexTypes"]
        self.enums = data["enumTypes"]
        self.all_structured = {**self.entities, **self.complexes}

    def included(self, item: dict) -> bool:
        return (not self.v1) or bool(item.get("inV1"))

    def base_name(self, t: dict) -> str | None:
        base = t.get("v1BaseType") if self.v1 else t.get("baseType")
        return base[len(NS_MS):] if base else None

    def abstract(self, t: dict) -> bool:
        if self.v1:
            return bool(t.get("abstractV1"))
        ab = t.get("abstractBeta")
        if ab is None:  # unknown in beta: fall back to the v1.0 CSDL value
            ab = t.get("abstractV1")
        return bool(ab)

    def ancestors(self, name: str) -> list[str]:
        out = []
        cur = self.base_name(self.all_structured[name])
        while cur:
            out.append(cur)
            cur = self.base_name(self.all_structured[cur])
        return out

    def docs_order(self, t: dict) -> list[str] | None:
        orders = t.get("docsJsonPropertyOrder") or {}
        if not self.v1:
            return orders.get("beta")
        if "v1.0" in orders:
            return orders["v1.0"]
        if "beta" in orders:
            v1_names = self.v1_property_names(t)
            return [n for n in orders["beta"] if n in v1_names]
        return None

    def v1_property_names(self, t: dict) -> set[str]:
        names = {p["name"] for p in t.get("properties", []) if p.get("inV1")}
        # inherited properties too (docs lists name them first)
        cur = t.get("v1BaseType")
        while cur:
            bt = self.all_structured[cur[len(NS_MS):]]
            names |= {p["name"] for p in bt.get("properties", []) if p.get("inV1")}
            cur = bt.get("v1BaseType")
        return names

    def order_source(self, name: str, problems: list[str]) -> list[str] | None:
        """The docs property order for `name`, or one borrowed from a derived type."""
        own = self.docs_order(self.all_structured[name])
        if own is not None:
            return own
        candidates = []
        for other, t in self.all_structured.items():
            if not self.included(t) or name not in self.ancestors(other):
                continue
            o = self.docs_order(t)
            if o is not None:
                candidates.append((other, o))
        if not candidates:
            return None
        own_names = [p["name"] for p in self.all_structured[name].get("properties", [])]
        first_name, first = candidates[0]
        ref = [n for n in first if n in own_names]
        for other, o in candidates[1:]:
            got = [n for n in o if n in own_names]
            if got != ref:
                problems.append(
                    f"{self.version}: derived types {first_name} and {other} disagree on "
                    f"the order of {name}'s properties: {ref} vs {got}")
        return first

    def own_properties(self, name: str, problems: list[str]) -> list[dict]:
        t = self.all_structured[name]
        props = [p for p in t.get("properties", []) if self.included(p)]
        order = self.order_source(name, problems) or []
        rank = {n: i for i, n in enumerate(order)}
        listed = sorted((p for p in props if p["name"] in rank), key=lambda p: rank[p["name"]])
        rest = [p for p in props if p["name"] not in rank]
        return listed + rest


# --------------------------------------------------------------------------- emit

def property_attrs(p: dict) -> list[tuple[str, str]]:
    attrs = [("Name", p["name"]), ("Type", type_ref(p["type"], p.get("collection", False)))]
    if p.get("nullable") is False:
        attrs.append(("Nullable", "false"))
    return attrs


def emit_structured(w: Writer, spec: Spec, kind: str, name: str, t: dict,
                    problems: list[str], stats: dict) -> None:
    attrs = [("Name", name)]
    base = spec.base_name(t)
    if base:
        attrs.append(("BaseType", ALIAS + base))
    if spec.abstract(t):
        attrs.append(("Abstract", "true"))
    props = spec.own_properties(name, problems)
    keys = [p for p in props if p.get("key")]
    navs = [n for n in t.get("navigationProperties", []) if spec.included(n)]
    stats["types"] += 1
    stats["properties"] += len(props)
    stats["navigationProperties"] += len(navs)
    if not (props or navs):
        w.empty(kind, attrs)
        return
    w.open(kind, attrs)
    if keys:
        w.open("Key", [])
        for p in keys:
            w.empty("PropertyRef", [("Name", p["name"])])
        w.close("Key")
    for p in props:
        w.empty("Property", property_attrs(p))
    for n in navs:
        nattrs = [("Name", n["name"]), ("Type", type_ref(n["type"], n.get("collection", False)))]
        if n.get("nullable") is False:
            nattrs.append(("Nullable", "false"))
        if n.get("containsTarget"):
            nattrs.append(("ContainsTarget", "true"))
        w.empty("NavigationProperty", nattrs)
    w.close(kind)


def excerpt_descriptions(excerpt_root: ET.Element) -> dict[str, str]:
    out = {}
    for ann in excerpt_root.iter():
        if local(ann.tag) != "Annotations":
            continue
        target = ann.get("Target")
        for a in ann:
            if local(a.tag) == "Annotation" and a.get("Term") == DESCRIPTION_TERM:
                out[target] = a.get("String")
    return out


def build(data: dict, version: str, excerpt_root: ET.Element,
          problems: list[str]) -> tuple[str, dict]:
    spec = Spec(data, version)
    stats = {"enumTypes": 0, "enumMembers": 0, "types": 0, "properties": 0,
             "navigationProperties": 0, "operations": 0}
    w = Writer()
    w.open("edmx:Edmx", [("Version", "4.0"), ("xmlns:edmx", EDMX_NS)])
    w.open("edmx:DataServices", [])
    w.open("Schema", [("Namespace", "microsoft.graph"), ("Alias", "graph"), ("xmlns", EDM_NS)])

    # Targets that exist in this document, with the types.json notes as fallback text.
    targets: dict[str, str | None] = {}

    # Enum types
    for name, e in spec.enums.items():
        if not spec.included(e):
            continue
        attrs = [("Name", name)]
        if e.get("isFlags"):
            attrs.append(("IsFlags", "true"))
        members = sorted((m for m in e["members"] if spec.included(m)), key=lambda m: m["value"])
        stats["enumTypes"] += 1
        stats["enumMembers"] += len(members)
        targets[NS_MS + name] = e.get("notes")
        w.open("EnumType", attrs)
        for m in members:
            w.empty("Member", [("Name", m["name"]), ("Value", str(m["value"]))])
            targets[f"{NS_MS}{name}/{m['name']}"] = m.get("notes")
        w.close("EnumType")

    # Entity and complex types
    for kind, table in (("EntityType", spec.entities), ("ComplexType", spec.complexes)):
        for name, t in table.items():
            if not spec.included(t):
                continue
            emit_structured(w, spec, kind, name, t, problems, stats)
            targets[NS_MS + name] = t.get("notes")
            for p in t.get("properties", []) + t.get("navigationProperties", []):
                if spec.included(p):
                    targets[f"{NS_MS}{name}/{p['name']}"] = p.get("notes")
            if version == "beta" and name in EXPECTED_BETA_OWN_ORDER:
                got = [p["name"] for p in spec.own_properties(name, [])]
                if got != EXPECTED_BETA_OWN_ORDER[name]:
                    problems.append(f"beta: own property order of {name} is {got}, "
                                    f"expected {EXPECTED_BETA_OWN_ORDER[name]}")

    # Entity types carrying the root navigation properties
    container = []
    for name, c in data["containers"].items():
        if not spec.included(c):
            continue
        nattrs = [("Name", c["navigationProperty"]), ("Type", short(c["type"]))]
        if c.get("containsTarget"):
            nattrs.append(("ContainsTarget", "true"))
        w.open("EntityType", [("Name", name), ("BaseType", ALIAS + "entity")])
        w.empty("NavigationProperty", nattrs)
        w.close("EntityType")
        stats["types"] += 1
        stats["navigationProperties"] += 1
        targets[f"{NS_MS}{name}/{c['navigationProperty']}"] = c.get("notes")
        element, member_name = CONTAINER_MEMBERS[name]
        type_attr = "Type" if element == "Singleton" else "EntityType"
        container.append((element, [("Name", member_name), (type_attr, NS_MS + name)]))

    # Bound actions and functions
    for name, op in data["operations"].items():
        if not spec.included(op):
            continue
        element = {"action": "Action", "function": "Function"}[op["kind"]]
        w.open(element, [("Name", name), ("IsBound", "true")])
        w.empty("Parameter", [("Name", "bindingParameter"), ("Type", short(op["boundTo"]))])
        for p in op["parameters"]:
            w.empty("Parameter", property_attrs(p))
        if op.get("returnType"):
            w.empty("ReturnType", [("Type", short(op["returnType"]))])
        w.close(element)
        stats["operations"] += 1

    w.open("EntityContainer", [("Name", "GraphService")])
    for element, attrs in container:
        w.empty(element, attrs)
    w.close("EntityContainer")

    # Description annotations: excerpt text where it has one, else (beta-only items)
    # the types.json notes.
    from_excerpt = excerpt_descriptions(excerpt_root)
    for target in from_excerpt:
        if target not in targets:
            problems.append(f"{version}: excerpt annotation target {target} not in the document")
    descriptions = {}
    for target, notes in targets.items():
        if target in from_excerpt:
            descriptions[target] = from_excerpt[target]
        elif version == "beta" and notes and not _in_v1(data, target):
            descriptions[target] = notes
    for target in sorted(descriptions):
        w.open("Annotations", [("Target", target)])
        w.empty("Annotation", [("Term", DESCRIPTION_TERM), ("String", descriptions[target])])
        w.close("Annotations")
    stats["annotations"] = len(descriptions)

    w.close("Schema")
    w.close("edmx:DataServices")
    w.close("edmx:Edmx")
    return w.text(), stats


def _in_v1(data: dict, target: str) -> bool:
    """True if the annotation target (type or type/member) exists in v1.0."""
    name, _, member = target[len(NS_MS):].partition("/")
    for table in ("entityTypes", "complexTypes", "enumTypes", "containers"):
        t = data[table].get(name)
        if t is None:
            continue
        if not member:
            return bool(t.get("inV1"))
        if table == "containers":
            return bool(t.get("inV1")) and t["navigationProperty"] == member
        items = t.get("members", []) + t.get("properties", []) + t.get("navigationProperties", [])
        return any(i["name"] == member and i.get("inV1") for i in items)
    return False


# --------------------------------------------------------------------------- checks

DEFAULTS = {"Nullable": "true", "Abstract": "false", "IsFlags": "false",
            "ContainsTarget": "false", "IsBound": "false"}


def facts(root: ET.Element) -> dict[tuple, dict]:
    """Flatten the schema elements we compare into {path: normalised attributes}."""
    out: dict[tuple, dict] = {}

    def attrs(el: ET.Element, skip=("Name",)) -> dict:
        d = {k: v for k, v in el.attrib.items() if k not in skip}
        for k in _RELEVANT[local(el.tag)]:
            d.setdefault(k, DEFAULTS[k])
        return d

    for el in root.iter():
        tag = local(el.tag)
        if tag in ("EntityType", "ComplexType", "EnumType"):
            key = (tag, el.get("Name"))
            out[key] = attrs(el)
            for child in el:
                ct = local(child.tag)
                if ct in ("Property", "NavigationProperty", "Member"):
                    out[key + (ct, child.get("Name"))] = attrs(child)
                elif ct == "Key":
                    for ref in child:
                        out[key + ("Key", ref.get("Name"))] = {}
        elif tag in ("Action", "Function"):
            params = [c for c in el if local(c.tag) == "Parameter"]
            binding = params[0].get("Type") if params else None
            key = (tag, el.get("Name"), binding)
            out[key] = attrs(el)
            for child in el:
                ct = local(child.tag)
                if ct == "Parameter":
                    out[key + ("Parameter", child.get("Name"))] = attrs(child)
                elif ct == "ReturnType":
                    out[key + ("ReturnType",)] = attrs(child, skip=())
        elif tag in ("Singleton", "EntitySet"):
            out[(tag, el.get("Name"))] = attrs(el)
    return out


_RELEVANT = {
    "EntityType": ("Abstract",), "ComplexType": ("Abstract",), "EnumType": ("IsFlags",),
    "Property": ("Nullable",), "NavigationProperty": ("Nullable", "ContainsTarget"),
    "Member": (), "Action": ("IsBound",), "Function": ("IsBound",),
    "Parameter": ("Nullable",), "ReturnType": ("Nullable",),
    "Singleton": (), "EntitySet": (),
}


def compare_with_excerpt(v1_root: ET.Element, excerpt_root: ET.Element) -> list[str]:
    mine, theirs = facts(v1_root), facts(excerpt_root)
    diffs = []
    for key in sorted(set(theirs) | set(mine), key=repr):
        label = "/".join(str(k) for k in key)
        if key not in mine:
            diffs.append(f"v1.0.xml lacks {label} {theirs[key]} (present in excerpt)")
        elif key not in theirs:
            diffs.append(f"v1.0.xml has {label} {mine[key]} (absent from excerpt)")
        elif mine[key] != theirs[key]:
            diffs.append(f"{label}: v1.0.xml {mine[key]} != excerpt {theirs[key]}")
    return diffs


def check_references(name: str, root: ET.Element) -> list[str]:
    """Every graph.* / microsoft.graph.* type referenced must be declared."""
    declared = {el.get("Name") for el in root.iter()
                if local(el.tag) in ("EntityType", "ComplexType", "EnumType")}
    problems = []
    for el in root.iter():
        for attr in ("Type", "BaseType", "EntityType"):
            ref = el.get(attr)
            if not ref:
                continue
            inner = ref[len("Collection("):-1] if ref.startswith("Collection(") else ref
            for prefix in (ALIAS, NS_MS):
                if inner.startswith(prefix):
                    if inner[len(prefix):] not in declared:
                        problems.append(f"{name}: {local(el.tag)} {el.get('Name')} "
                                        f"references undeclared {ref}")
                    break
            else:
                if not inner.startswith("Edm."):
                    problems.append(f"{name}: {local(el.tag)} {el.get('Name')} "
                                    f"has unqualified type {ref}")
    abstract = {el.get("Name") for el in root.iter() if el.get("Abstract") == "true"}
    if abstract != EXPECTED_ABSTRACT:
        problems.append(f"{name}: abstract types {sorted(abstract)}, "
                        f"expected {sorted(EXPECTED_ABSTRACT)}")
    return problems


# --------------------------------------------------------------------------- main

def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    repo_root = os.path.dirname(here)
    types_path = argv[1] if len(argv) > 1 else os.path.join(repo_root, "..", "shared", "spec", "types.json")
    excerpt_path = argv[2] if len(argv) > 2 else os.path.join(
        repo_root, "..", "shared", "spec", "csdl-v1.0-excerpt.xml")
    if len(argv) > 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2

    with open(types_path, encoding="utf-8") as f:
        data = json.load(f)
    excerpt_root = ET.parse(excerpt_path).getroot()

    problems: list[str] = []
    outputs = {}
    for version, filename in (("beta", "beta.xml"), ("v1.0", "v1.0.xml")):
        text, stats = build(data, version, excerpt_root, problems)
        path = os.path.join(here, filename)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        outputs[filename] = path
        print(f"wrote {path}: " + ", ".join(f"{k}={v}" for k, v in stats.items()))

    roots = {name: ET.parse(path).getroot() for name, path in outputs.items()}
    for name, root in roots.items():
        problems += check_references(name, root)
    problems += compare_with_excerpt(roots["v1.0.xml"], excerpt_root)

    if problems:
        for p in problems:
            print(p)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
