"""The legacy `config.yaml` `${…}` expansion, reproduced exactly (spec/legacy.md §2.2).

Existing configuration files must keep their meaning, so this follows the legacy two-pass rules
rather than any shell or YAML convention.
"""

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

_MAX_RESCANS = 10
_MAX_PARAM_PASSES = 5
_PARAM = re.compile(r"\$\{([a-z_][a-z0-9_]*)(?:\.([a-z_][a-z0-9_]*))?(?::-([^}]*))?\}")


class ExpansionError(ValueError):
    """A `${…}` reference that cannot be expanded (a cycle); names the key involved."""


def _matching_brace(text: str, start: int) -> int:
    """Index of the `}` closing the `${` at `start`, counting nested `${…}`; -1 if none."""
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _env_once(text: str, environ: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            out.append(text[i:])
            return "".join(out)
        end = _matching_brace(text, start)
        if end < 0:
            out.append(text[i : start + 2])
            i = start + 2
            continue
        out.append(text[i:start])
        inner = text[start + 2 : end]
        if inner[:1].isascii() and inner[:1].isupper():
            name, has_default, default = inner.partition(":-")
            if name in environ:
                out.append(environ[name])
            elif has_default:
                out.append(expand_env(default, environ))
            else:
                out.append("")
        else:
            out.append(text[start : end + 1])
        i = end + 1


def expand_env(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Pass 1: `${NAME}` / `${NAME:-default}` from the environment, re-scanned while it changes."""
    env = os.environ if environ is None else environ
    for _ in range(_MAX_RESCANS):
        expanded = _env_once(text, env)
        if expanded == text:
            break
        text = expanded
    return text


def _walk_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """Apply `fn` to every string value at any depth; keys and non-strings are untouched."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _walk_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk_strings(v, fn) for v in value]
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _expand_params(root: dict[str, Any]) -> dict[str, Any]:
    """Pass 2: `${name}` / `${section.name}` references between keys of top-level sections."""

    def lookup(section: str, key: str, stack: tuple[str, ...]) -> Any:
        owner = root.get(section)
        if not isinstance(owner, dict) or key not in owner:
            raise KeyError(key)
        value = owner[key]
        if isinstance(value, str) and "${" in value:
            ref = f"{section}.{key}"
            if ref in stack:
                raise ExpansionError(f"Circular reference detected: {ref}")
            value = substitute(value, section, (*stack, ref))
            owner[key] = value
        return value

    def substitute(text: str, section: str, stack: tuple[str, ...]) -> str:
        for _ in range(_MAX_RESCANS):

            def replace(match: re.Match[str]) -> str:
                first, second, default = match.group(1), match.group(2), match.group(3)
                target_section, key = (first, second) if second else (section, first)
                try:
                    return _as_text(lookup(target_section, key, stack))
                except KeyError:
                    return default if default is not None else match.group(0)

            new = _PARAM.sub(replace, text)
            if new == text:
                break
            text = new
        return text

    for _ in range(_MAX_PARAM_PASSES):
        changed = False
        for section, body in root.items():
            if not isinstance(body, dict):
                continue
            for key in list(body):
                before = body[key]
                after = _walk_strings(
                    before, lambda s, sec=section, k=key: substitute(s, sec, (f"{sec}.{k}",))
                )
                if after != before:
                    body[key] = after
                    changed = True
        if not changed:
            break
    return root


def expand_config(raw: dict[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Both legacy passes over a loaded YAML mapping; returns a new mapping."""
    env = os.environ if environ is None else environ
    expanded = _walk_strings(raw, lambda s: expand_env(s, env))
    return _expand_params(expanded)
