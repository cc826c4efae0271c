"""moto's XML responses, fast: the text xmltodict.unparse writes for moto's serialised answers, written directly."""

# What moto does: its XML serialisers (EC2, query, rest-xml) build a dict of the answer and hand it to
# xmltodict.unparse, which validates every element name (a generator over each character), wraps every value in a
# one-item list and a dict, and writes through xml.sax's XMLGenerator one call per tag. DescribeInstances answers
# in pages of 100 reservations (~300 KB of XML each): a 1,000-server side spends 3.0 s of 41 s there (500 servers:
# 8.9 s of 81 s under cProfile, 118k _emit calls). This writer takes 0.017 s for a page xmltodict takes 0.078 s for.
# What we do: while a moto world runs, moto.core.serialize's `xmltodict` is a stand-in whose unparse writes the
# same text for the dicts moto makes (str/number/bool/None leaves, dicts, lists, '@' attributes, '#text'), each
# element name checked once per process. Anything else (pretty printing, comments, '@xmlns' maps, bytes, other
# iterables, two roots, a name xmltodict would refuse) goes to xmltodict itself, which writes it or raises.
# Suggested to moto: a direct dict -> XML writer in BaseXMLSerializer._serialize_body (xmltodict's generality is
# not needed for answers moto builds itself).

from __future__ import annotations

from typing import Any, Callable, Mapping
from xml.sax.saxutils import quoteattr

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

_HEADER = '<?xml version="1.0" encoding="utf-8"?>\n'  # what XMLGenerator.startDocument writes for utf-8
_FAST_OPTIONS = frozenset({"full_document", "short_empty_elements", "pretty", "encoding"})
_NAME_FORBIDDEN = frozenset('<>/"\'=')
_valid_names: set[str] = set()  # element and attribute names already found to be what xmltodict accepts


class Unsupported(Exception):
    """A dict this writer does not vouch for: xmltodict writes it instead (or raises what it raises)."""


def xml_text(body: Mapping[Any, Any], full_document: bool = True, short_empty_elements: bool = False) -> str:
    """xmltodict.unparse(body, full_document=..., short_empty_elements=...) for the dicts moto's serialisers build.

    Raises Unsupported, having changed nothing, for anything else."""
    parts: list[str] = [_HEADER] if full_document else []
    roots = 0
    for name, value in body.items():
        if full_document and (roots or isinstance(value, (list, tuple))):
            raise Unsupported("xmltodict decides about documents with several roots")
        _elements(parts, name, value, short_empty_elements)
        roots += 1
    if full_document and not roots:
        raise Unsupported("xmltodict refuses a document without a root")
    return "".join(parts)


def _elements(parts: list[str], name: Any, value: Any, short: bool) -> None:
    """One element per item of a list or tuple, else one element (xmltodict._emit's iteration)."""
    if name not in _valid_names:
        _check_name(name)
    if isinstance(value, (list, tuple)):
        for item in value:
            _element(parts, name, item, short)
    elif isinstance(value, (dict, str)) or not hasattr(value, "__iter__"):
        _element(parts, name, value, short)
    else:  # bytes, sets, generators...: xmltodict's rules, and a generator must not be half read before it
        raise Unsupported(f"element {name!r} holds a {type(value).__name__}")


def _element(parts: list[str], name: str, value: Any, short: bool) -> None:
    if type(value) is str:  # most of an answer: a leaf, written at once
        if value:
            parts.append(f"<{name}>{_escape(value)}</{name}>")
        else:
            parts.append(f"<{name}/>" if short else f"<{name}></{name}>")
        return
    opening = len(parts)
    parts.append("")  # the opening tag, once its attributes and whether anything is written inside are known
    attributes: dict[str, str] = {}
    text: str | None = None
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "#text":
                text = None if child is None else _text(child)
            elif isinstance(key, str) and key.startswith("@"):
                attributes[_attribute_name(key, child)] = "" if child is None else _text(child)
            elif not (type(child) is list and not child):  # xmltodict leaves out an empty list's element
                _elements(parts, key, child, short)  # after the opening tag, in order, as xmltodict writes them
    elif value is not None:
        text = _text(value)
    if text:
        parts.append(_escape(text))
    tag = "<" + name + ("".join(f" {key}={quoteattr(item)}" for key, item in attributes.items()) if attributes else "")
    if short and len(parts) == opening + 1:
        parts[opening] = tag + "/>"
    else:
        parts[opening] = tag + ">"
        parts.append("</" + name + ">")


def _escape(text: str) -> str:
    """xml.sax.saxutils.escape."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def _attribute_name(key: str, value: Any) -> str:
    if key == "@xmlns" and isinstance(value, dict):
        raise Unsupported("a map of namespace declarations")
    name = key[1:]
    _check_name(name)
    return name


def _text(value: Any) -> str:
    """xmltodict._convert_value_to_string, bytes left to xmltodict."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise Unsupported("bytes are decoded by xmltodict's rules")
    return str(value)


def _check_name(name: Any) -> None:
    """What xmltodict._validate_name accepts, remembered; anything else is Unsupported (xmltodict raises)."""
    if name in _valid_names:
        return
    if name == "#comment":
        raise Unsupported("xmltodict writes comments")
    if (not isinstance(name, str) or name[:1] in ("?", "!") or any(char in _NAME_FORBIDDEN for char in name)
            or any(char.isspace() for char in name)):
        raise Unsupported(f"name {name!r}")
    _valid_names.add(name)


class MotoXmltodict:
    """What moto's serialiser module sees as `xmltodict`: a fast unparse, the real module for everything else."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def unparse(self, input_dict: Any, *args: Any, **options: Any) -> Any:
        if not args and isinstance(input_dict, dict) and _fast(options):
            try:
                return xml_text(input_dict, options.get("full_document", True),
                                options.get("short_empty_elements", False))
            except Unsupported:
                pass
        return self._module.unparse(input_dict, *args, **options)


def _fast(options: dict[str, Any]) -> bool:
    """Whether xmltodict's options are those this writer follows: a string back, compact, utf-8."""
    return (_FAST_OPTIONS.issuperset(options) and not options.get("pretty", False)
            and options.get("encoding", "utf-8") == "utf-8")


def install_fast_xml() -> Callable[[], None]:
    """Make moto's serialisers write XML with the fast writer (once for any number of worlds); returns the undo."""
    return _PATCH.install()


def _swap_moto_xmltodict() -> Callable[[], None]:
    from moto.core import serialize  # moto's core takes 0.3 s to import: only a moto world needs it

    return patch_attribute(serialize, "xmltodict", MotoXmltodict(serialize.__dict__["xmltodict"]))


_PATCH = SharedPatch(_swap_moto_xmltodict)
