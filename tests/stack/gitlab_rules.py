"""Which jobs of a GitLab CI configuration a pipeline runs: ``workflow:rules`` and ``rules:if``.

A small evaluator of GitLab's CI/CD variable expressions (``$VAR``, ``"string"``, ``null``,
``/regex/``, ``==``, ``!=``, ``=~``, ``!~``, ``&&``, ``||`` and parentheses; ``&&`` binds tighter
than ``||``), so that tests can ask what a push, a merge request or a tag runs without a GitLab
instance. Anything it does not know (``rules:changes``, ``only``/``except``, an unknown token)
raises instead of being guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<variable>\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}?)"
    r"|(?P<string>\"[^\"]*\"|'[^']*')"
    r"|(?P<regex>/(?:\\.|[^/\\])*/[a-z]*)"
    r"|(?P<null>null\b)"
    r"|(?P<operator>==|!=|=~|!~|&&|\|\||\(|\))"
    r")"
)
KEYWORDS = {
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
}
"""Top-level keys of a CI configuration that are no job."""


def tokens(expression: str) -> list[tuple[str, str]]:
    """Split an expression into ``(kind, text)`` tokens.

    Raises:
        ValueError: a part of the expression is no token of GitLab's syntax.
    """
    found, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read {expression[position:]!r} in {expression!r}")
        kind = match.lastgroup if match.lastgroup != "name" else "variable"
        found.append((kind, match.group(kind) if kind != "variable" else match.group("name")))
        position = match.end()
    return found


def regex(literal: str) -> re.Pattern[str]:
    """Compile a ``/pattern/flags`` literal (flag ``i`` only)."""
    body, flags = literal[1:].rsplit("/", 1)
    if set(flags) - {"i"}:
        raise ValueError(f"unsupported regex flags in {literal!r}")
    return re.compile(body, re.IGNORECASE if flags else 0)


def evaluate(expression: str, variables: Mapping[str, str]) -> bool:
    """Evaluate a ``rules:if`` expression against the pipeline's variables.

    An undefined variable is ``null``; a variable alone is true when defined and not empty;
    ``=~`` searches the regex in the value (false for ``null``), ``!~`` is its negation.

    Raises:
        ValueError: the expression is not valid GitLab syntax (as far as this evaluator knows).
    """
    stream = tokens(expression)
    position = 0

    def peek() -> tuple[str, str] | None:
        return stream[position] if position < len(stream) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(stream):
            raise ValueError(f"unexpected end of {expression!r}")
        position += 1
        return stream[position - 1]

    def operand() -> Any:
        kind, text = take()
        if kind == "variable":
            return variables.get(text)
        if kind == "string":
            return text[1:-1]
        if kind == "null":
            return None
        if kind == "regex":
            return regex(text)
        raise ValueError(f"unexpected {text!r} in {expression!r}")

    def comparison() -> bool:
        if peek() == ("operator", "("):
            take()
            value = disjunction()
            if take() != ("operator", ")"):
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return value
        left = operand()
        following = peek()
        if following is None or following[1] not in {"==", "!=", "=~", "!~"}:
            if isinstance(left, re.Pattern):
                raise ValueError(f"a regex alone in {expression!r}")
            return bool(left)
        operator = take()[1]
        right = operand()
        if operator in {"==", "!="}:
            return (left == right) is (operator == "==")
        if not isinstance(right, re.Pattern):
            raise ValueError(f"{operator} needs a regex on its right in {expression!r}")
        matched = left is not None and right.search(left) is not None
        return matched is (operator == "=~")

    def conjunction() -> bool:
        value = comparison()
        while peek() == ("operator", "&&"):
            take()
            value = comparison() and value
        return value

    def disjunction() -> bool:
        value = conjunction()
        while peek() == ("operator", "||"):
            take()
            value = conjunction() or value
        return value

    result = disjunction()
    if position != len(stream):
        raise ValueError(f"unexpected {stream[position][1]!r} in {expression!r}")
    return result


def first_matching_when(rules: list[dict[str, Any]], variables: Mapping[str, str]) -> str | None:
    """Return the ``when`` of the first rule that matches (``on_success`` by default), else None.

    Raises:
        NotImplementedError: a rule uses ``changes``, ``exists`` or another unknown clause.
    """
    for rule in rules:
        unknown = set(rule) - {"if", "when", "variables", "allow_failure"}
        if unknown:
            raise NotImplementedError(f"rules clauses {sorted(unknown)} are not evaluated")
        if "if" not in rule or evaluate(rule["if"], variables):
            return rule.get("when", "on_success")
    return None


def config_variables(config: Mapping[str, Any]) -> dict[str, str]:
    """The configuration's top-level ``variables`` (``{value: ...}`` entries read too)."""
    found = {}
    for name, value in (config.get("variables") or {}).items():
        found[name] = str(value["value"] if isinstance(value, dict) else value)
    return found


def jobs(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs of a configuration: every top-level mapping that is no keyword nor hidden."""
    return {
        name: job
        for name, job in config.items()
        if name not in KEYWORDS and not name.startswith(".") and isinstance(job, dict)
    }


def pipeline_jobs(config: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str] | None:
    """Return ``{job: when}`` of the jobs a pipeline with these variables runs.

    Args:
        config: the parsed ``.gitlab-ci.yml`` (includes already resolved by the caller).
        variables: the pipeline's predefined variables (``CI_COMMIT_BRANCH``...); they win over
            the configuration's own ``variables``.

    Returns:
        The jobs whose rules (or absence of rules) let them run, or ``None`` when
        ``workflow:rules`` create no pipeline at all.

    Raises:
        NotImplementedError: a job uses ``only``/``except`` or a rule clause not evaluated here.
    """
    scope = {**config_variables(config), **variables}
    workflow = (config.get("workflow") or {}).get("rules")
    if workflow is not None and first_matching_when(workflow, scope) in {None, "never"}:
        return None
    selected = {}
    for name, job in jobs(config).items():
        if {"only", "except"} & set(job):
            raise NotImplementedError(f"{name}: only/except are not evaluated")
        when = (
            first_matching_when(job["rules"], scope)
            if "rules" in job
            else job.get("when", "on_success")
        )
        if when not in {None, "never"}:
            selected[name] = when
    return selected
