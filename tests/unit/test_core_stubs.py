"""pyspec/_core.pyi against the compiled extension: the stub declares exactly
the public functions and classes ``pyspec._core`` exports, with the runtime
parameter names (in order), kinds and defaults wherever the builtin exposes
``__text_signature__``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from pyspec import _core

STUB = Path(__file__).resolve().parents[2] / "pyspec" / "_core.pyi"

_P = inspect.Parameter
_NO_DEFAULT = object()


def _public(name: str) -> bool:
    return not name.startswith("_")


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"), filename=str(STUB))


def _stub_defs() -> dict[str, ast.FunctionDef | ast.ClassDef]:
    """Public top-level functions and classes of the stub, by name."""
    defs: dict[str, ast.FunctionDef | ast.ClassDef] = {}
    for node in _stub_tree().body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and _public(node.name):
            defs[node.name] = node
    return defs


STUB_DEFS = _stub_defs()
STUB_FUNCS = sorted(n for n, d in STUB_DEFS.items() if isinstance(d, ast.FunctionDef))
STUB_CLASSES = sorted(n for n, d in STUB_DEFS.items() if isinstance(d, ast.ClassDef))


def _runtime_public() -> set[str]:
    """Public callables (functions and classes) exported by the extension."""
    return {n for n in dir(_core) if _public(n) and callable(getattr(_core, n))}


def _default(node: ast.expr | None) -> Any:
    """Literal value of a stub default; ``...`` (unspecified) compares equal to anything."""
    if node is None:
        return _NO_DEFAULT
    return ast.literal_eval(node)


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, Any, Any]]:
    """``(name, kind, default)`` of every parameter of a stub function, in order."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    pos_defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out: list[tuple[str, Any, Any]] = []
    for i, (arg, d) in enumerate(zip(positional, pos_defaults, strict=True)):
        kind = _P.POSITIONAL_ONLY if i < len(a.posonlyargs) else _P.POSITIONAL_OR_KEYWORD
        out.append((arg.arg, kind, _default(d)))
    if a.vararg is not None:
        out.append((a.vararg.arg, _P.VAR_POSITIONAL, _NO_DEFAULT))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        out.append((arg.arg, _P.KEYWORD_ONLY, _default(d)))
    if a.kwarg is not None:
        out.append((a.kwarg.arg, _P.VAR_KEYWORD, _NO_DEFAULT))
    return out


def _runtime_params(sig: inspect.Signature) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, _NO_DEFAULT if p.default is _P.empty else p.default)
        for p in sig.parameters.values()
    ]


def _assert_same_params(
    name: str, stub: list[tuple[str, Any, Any]], runtime: list[tuple[str, Any, Any]]
) -> None:
    assert [p[0] for p in stub] == [p[0] for p in runtime], f"{name}: parameter names"
    assert [p[1] for p in stub] == [p[1] for p in runtime], f"{name}: parameter kinds"
    for (pname, _, sd), (_, _, rd) in zip(stub, runtime, strict=True):
        assert (sd is _NO_DEFAULT) == (rd is _NO_DEFAULT), f"{name}({pname}): has a default"
        # ``...`` stands for a default the text signature cannot spell (or the stub omits).
        if sd is _NO_DEFAULT or sd is Ellipsis or rd is Ellipsis:
            continue
        assert type(sd) is type(rd) and sd == rd, f"{name}({pname}): default {sd!r} != {rd!r}"


def _text_signature(obj: object) -> inspect.Signature:
    if getattr(obj, "__text_signature__", None) is None:
        pytest.skip(f"{obj!r} exposes no __text_signature__")
    return inspect.signature(obj)


def _is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def _class_members(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


# -- the set of names ----------------------------------------------------------


def test_stub_parses_and_is_not_empty():
    assert STUB.is_file(), STUB
    assert STUB_FUNCS and STUB_CLASSES


def test_stub_names_match_runtime_exports():
    stub = set(STUB_DEFS)
    runtime = _runtime_public()
    assert sorted(runtime - stub) == [], "exported by pyspec._core but missing from _core.pyi"
    assert sorted(stub - runtime) == [], "declared in _core.pyi but not exported"


def test_stub_names_match_dunder_all():
    assert set(STUB_DEFS) == set(_core.__all__)


def test_stub_kinds_match_runtime():
    for name in STUB_FUNCS:
        obj = getattr(_core, name)
        assert not isinstance(obj, type) and callable(obj), name
    for name in STUB_CLASSES:
        assert isinstance(getattr(_core, name), type), name


# -- signatures ----------------------------------------------------------------


@pytest.mark.parametrize("name", STUB_FUNCS)
def test_function_signature(name: str):
    sig = _text_signature(getattr(_core, name))
    fn = STUB_DEFS[name]
    assert isinstance(fn, ast.FunctionDef)
    _assert_same_params(name, _stub_params(fn), _runtime_params(sig))


@pytest.mark.parametrize("name", STUB_CLASSES)
def test_class_constructor_signature(name: str):
    cls = getattr(_core, name)
    sig = _text_signature(cls)
    node = STUB_DEFS[name]
    assert isinstance(node, ast.ClassDef)
    members = _class_members(node)
    ctor = members.get("__init__") or members.get("__new__")
    assert ctor is not None, f"{name}: the stub declares no constructor"
    # drop ``self`` / ``cls``: the runtime signature of a class has neither
    _assert_same_params(name, _stub_params(ctor)[1:], _runtime_params(sig))


@pytest.mark.parametrize("name", STUB_CLASSES)
def test_class_members(name: str):
    cls = getattr(_core, name)
    node = STUB_DEFS[name]
    assert isinstance(node, ast.ClassDef)
    members = {n: f for n, f in _class_members(node).items() if _public(n)}
    stub_props = {n for n, f in members.items() if _is_property(f)}
    stub_methods = set(members) - stub_props

    public = {n: inspect.getattr_static(cls, n) for n in dir(cls) if _public(n)}
    rt_props = {n for n, o in public.items() if inspect.isdatadescriptor(o)}
    rt_methods = {n for n, o in public.items() if n not in rt_props and callable(o)}
    assert stub_props == rt_props, f"{name}: properties"
    assert stub_methods == rt_methods, f"{name}: methods"

    for meth in sorted(stub_methods):
        sig = getattr(getattr(cls, meth), "__text_signature__", None)
        if sig is None:
            continue
        # drop the receiver on both sides (``$self`` is positional-only at runtime)
        runtime = _runtime_params(inspect.signature(getattr(cls, meth)))[1:]
        _assert_same_params(f"{name}.{meth}", _stub_params(members[meth])[1:], runtime)
