"""Template variables: the facts of the deal, declared by the template, supplied per session, read aloud.

A template declares each variable (name, type, whether required, a format); the integrator supplies the
values when creating a session; ``validate_values`` turns them into canonical values (or problems naming
``variables.<name>``), and ``spoken`` into the words the signer hears and reads: money in Mandarin as on
a contract (人民币伍拾万元整), percentages as 百分之三点八五, dates as 二〇二六年十二月六日,
English amounts in words. Prompts name variables as ``{name}``; ``render`` fills them in. Pure
functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dualsign.domain.errors import FieldProblem

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]{0,39})\}")
MAX_TEXT = 200


class VariableType(StrEnum):
    TEXT = "text"
    MONEY = "money"  # yuan, at most two decimals
    PERCENT = "percent"  # 3.85 means 3.85 %
    DATE = "date"  # ISO 8601 calendar date
    INTEGER = "integer"
    ENUM = "enum"


AgentSource = Literal["agent.name", "agent.number"]


class Variable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    type: VariableType
    label: Annotated[str, Field(max_length=200)] = ""
    required: bool = True
    format: Annotated[str | None, Field(max_length=200)] = Field(
        default=None,
        description="text: a regular expression the whole value must match; money: 'upper' (大写, the "
        "default in Mandarin) or 'digits'; date: 'long' (default)",
    )
    values: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = Field(
        default=(), description="enum: the allowed values"
    )
    unit: Annotated[str, Field(max_length=20)] = Field(default="", description="integer: 个月 / months")
    spell: bool = Field(
        default=False,
        description="text: read digits one by one (licence, staff or project numbers): 零二零零 / 0 2 0 0",
    )
    min: Decimal | None = None
    max: Decimal | None = None
    example: Annotated[str | None, Field(max_length=MAX_TEXT)] = Field(
        default=None, description="a sample value (simulation, demo, documentation)"
    )
    source: AgentSource | None = Field(
        default=None,
        description="text: taken from the agent registered with the session (agent.name, agent.number), "
        "so the integrator gives it once; a value given as well must be the same",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.spell and self.type is not VariableType.TEXT:
            raise ValueError("spell applies to text variables")
        if self.source and self.type is not VariableType.TEXT:
            raise ValueError("source applies to text variables")
        if (self.type is VariableType.ENUM) != bool(self.values):
            raise ValueError("an enum variable lists its values, and only an enum does")
        if self.type is VariableType.TEXT and self.format:
            try:
                re.compile(self.format)
            except re.error as exc:
                raise ValueError(f"format is not a regular expression: {exc}") from None
        if self.type is VariableType.MONEY and self.format not in (None, "upper", "digits"):
            raise ValueError("a money format is 'upper' or 'digits'")
        if self.type in (VariableType.DATE, VariableType.ENUM, VariableType.PERCENT) and self.format not in (
            None,
            "long",
        ):
            raise ValueError(f"a {self.type.value} variable takes no format")
        if (self.min is not None or self.max is not None) and self.type not in (
            VariableType.MONEY,
            VariableType.PERCENT,
            VariableType.INTEGER,
        ):
            raise ValueError("min and max apply to money, percent and integer variables")
        if self.example is not None and (problem := _check(self, self.example)[1]):
            raise ValueError(f"example {self.example!r}: {problem}")
        return self


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def render(text: str, spoken_values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by its spoken value (unknown names are left as written)."""
    return PLACEHOLDER.sub(lambda m: spoken_values.get(m.group(1), m.group(0)), text)


def validate_values(
    declared: Sequence[Variable], supplied: Mapping[str, object]
) -> tuple[dict[str, str], list[FieldProblem]]:
    """Canonical values for the declared variables, and every problem (``variables.<name>``)."""
    problems: list[FieldProblem] = []
    out: dict[str, str] = {}
    names = {v.name for v in declared}
    for extra in sorted(set(supplied) - names):
        problems.append(FieldProblem(f"variables.{extra}", "the template declares no such variable"))
    for var in declared:
        raw = supplied.get(var.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if var.required:
                comes = f", taken from {var.source}" if var.source else ""
                reason = f"is required ({var.type.value}{comes})"
                problems.append(FieldProblem(f"variables.{var.name}", reason))
            continue
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            problems.append(FieldProblem(f"variables.{var.name}", "must be a string or a number"))
            continue
        value, problem = _check(var, str(raw).strip())
        if problem:
            problems.append(FieldProblem(f"variables.{var.name}", problem))
        else:
            out[var.name] = value
    return out, problems


def with_agent(
    declared: Sequence[Variable], supplied: Mapping[str, object], agent_name: str, agent_number: str
) -> tuple[dict[str, object], list[FieldProblem]]:
    """``supplied`` with the variables the template takes from the agent filled in (``source``); one
    the integrator gave as well must say the same (a prompt naming one seller while the camera shows
    another would be evidence against the signer's own record)."""
    out = dict(supplied)
    problems: list[FieldProblem] = []
    taken = {"agent.name": agent_name.strip(), "agent.number": agent_number.strip().upper()}
    for var in declared:
        if var.source is None:
            continue
        value = taken[var.source]
        given = supplied.get(var.name)
        if given is not None and str(given).strip() and str(given).strip().upper() != value.upper():
            problems.append(
                FieldProblem(
                    f"variables.{var.name}",
                    f"is taken from {var.source} ({value!r}); leave it out or give the same value",
                )
            )
        out[var.name] = value
    return out, problems


def _check(var: Variable, raw: str) -> tuple[str, str]:
    """(canonical value, "") or ("", problem)."""
    if len(raw) > MAX_TEXT:
        return "", f"must be at most {MAX_TEXT} characters"
    if any(ord(ch) < 32 for ch in raw) or "{" in raw or "}" in raw:
        return "", "must not contain control characters or braces"
    match var.type:
        case VariableType.TEXT:
            if var.format and not re.fullmatch(var.format, raw):
                return "", f"does not match the format {var.format!r}"
            return raw, ""
        case VariableType.ENUM:
            return (raw, "") if raw in var.values else ("", f"must be one of {list(var.values)}")
        case VariableType.DATE:
            try:
                return date.fromisoformat(raw).isoformat(), ""
            except ValueError:
                return "", "must be a date as YYYY-MM-DD"
        case VariableType.INTEGER:
            if not re.fullmatch(r"-?\d{1,15}", raw):
                return "", "must be a whole number"
            return _bounded(var, Decimal(raw), str(int(raw)))
        case VariableType.MONEY:
            number = _decimal(raw.replace(",", ""))
            if number is None or number < 0 or number != number.quantize(Decimal("0.01")):
                return "", "must be an amount in yuan with at most two decimals, e.g. 500000.00"
            if number >= Decimal("1e15"):
                return "", "is too large"
            return _bounded(var, number, f"{number:.2f}")
        case VariableType.PERCENT:
            digits = raw.removesuffix("%").strip()
            number = _decimal(digits)
            if (
                number is None
                or not Decimal(0) <= number <= Decimal(100)
                or len(digits.partition(".")[2]) > 4
            ):
                return "", "must be a percentage between 0 and 100 with at most 4 decimals, e.g. 3.85"
            return _bounded(var, number, _plain(number))
    return "", "unknown type"  # pragma: no cover (the enum is exhaustive)


def _decimal(raw: str) -> Decimal | None:
    if not re.fullmatch(r"\d{1,16}(\.\d{1,8})?", raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover (the pattern admits only numbers)
        return None


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bounded(var: Variable, number: Decimal, value: str) -> tuple[str, str]:
    if var.min is not None and number < var.min:
        return "", f"must be at least {_plain(var.min)}"
    if var.max is not None and number > var.max:
        return "", f"must be at most {_plain(var.max)}"
    return value, ""


def spoken(var: Variable, value: str, family: Literal["zh", "en"]) -> str:
    """How a canonical value is read aloud and shown in the prompt's subtitle."""
    match var.type:
        case VariableType.MONEY:
            amount = Decimal(value)
            if family == "zh":
                return money_zh(amount) if var.format != "digits" else f"人民币{amount:,.2f}元"
            return money_en(amount) if var.format != "digits" else f"CNY {amount:,.2f}"
        case VariableType.PERCENT:
            return percent_zh(Decimal(value)) if family == "zh" else percent_en(Decimal(value))
        case VariableType.DATE:
            d = date.fromisoformat(value)
            if family == "zh":  # 二〇二六年十二月六日: a year is read digit by digit, as on a contract
                year = "".join("〇一二三四五六七八九"[int(ch)] for ch in str(d.year))
                return f"{year}年{integer_zh(d.month)}月{integer_zh(d.day)}日"
            return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
        case VariableType.INTEGER:
            n = int(value)
            if family == "zh":
                return f"{integer_zh(n)}{var.unit}"
            return f"{n:,} {var.unit}".strip() if var.unit else f"{n:,}"
        case VariableType.TEXT if var.spell:
            return spell_digits(value, family)
        case _:
            return value


def spell_digits(text: str, family: Literal["zh", "en"]) -> str:
    """Digits read one by one: 'No. 0200' → 零二零零 (zh) / '0 2 0 0' (en); other characters kept."""
    if family == "zh":
        return "".join(_LOWER[int(ch)] if "0" <= ch <= "9" else ch for ch in text)
    return re.sub(r"\d{2,}", lambda m: " ".join(m.group(0)), text)


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# --- Mandarin numerals --------------------------------------------------------------------------------
_UPPER = "零壹贰叁肆伍陆柒捌玖"
_LOWER = "零一二三四五六七八九"


def _group(n: int, digits: str, units: tuple[str, str, str]) -> str:
    """0 < n < 10000 in Chinese numerals, with zeros spoken where a digit is skipped."""
    out, zero = "", False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        d = (n // power) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += digits[0]
            zero = False
        out += digits[d] + unit
    return out


def _chinese_integer(n: int, digits: str, units: tuple[str, str, str]) -> str:
    if n == 0:
        return digits[0]
    big = ("", "万", "亿", "万亿")
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, pending_zero = "", False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or g < 1000):
            out += digits[0]
        out += _group(g, digits, units) + big[i]
        pending_zero = False
    return out


def integer_zh(n: int) -> str:
    """36 → 三十六, 10 → 十, 105 → 一百零五 (negative numbers with 负)."""
    if n < 0:
        return "负" + integer_zh(-n)
    text = _chinese_integer(n, _LOWER, ("十", "百", "千"))
    return text[1:] if text.startswith("一十") else text


def money_zh(amount: Decimal) -> str:
    """500000 → 人民币伍拾万元整; 1234.56 → 人民币壹仟贰佰叁拾肆元伍角陆分 (大写, as on a contract)."""
    cents = int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))
    yuan, jiao, fen = cents // 100, (cents // 10) % 10, cents % 10
    text = "人民币"
    if yuan:
        text += _chinese_integer(yuan, _UPPER, ("拾", "佰", "仟")) + "元"
    if not jiao and not fen:
        return text + ("整" if yuan else "零元整")
    if jiao:
        text += _UPPER[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _UPPER[fen] + "分"
    else:
        text += "整"
    return text


def percent_zh(value: Decimal) -> str:
    """3.85 → 百分之三点八五; 12 → 百分之十二."""
    text = _plain(value)
    whole, _, frac = text.partition(".")
    out = "百分之" + integer_zh(int(whole))
    if frac:
        out += "点" + "".join(_LOWER[int(d)] for d in frac)
    return out


# --- English numerals ---------------------------------------------------------------------------------
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def integer_en(n: int) -> str:
    """123456 → one hundred twenty-three thousand four hundred fifty-six."""
    if n < 0:
        return "minus " + integer_en(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return f"{_ONES[n // 100]} hundred" + (f" {integer_en(rest)}" if rest else "")
    for power, name in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand")):
        if n >= power:
            rest = n % power
            return f"{integer_en(n // power)} {name}" + (f" {integer_en(rest)}" if rest else "")
    raise AssertionError(n)  # pragma: no cover


def money_en(amount: Decimal) -> str:
    """500000 → five hundred thousand yuan; 12.5 → twelve yuan and fifty fen."""
    cents = int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))
    yuan, fen = divmod(cents, 100)
    text = f"{integer_en(yuan)} yuan"
    return text + (f" and {integer_en(fen)} fen" if fen else "")


def percent_en(value: Decimal) -> str:
    """3.85 → 3.85 percent."""
    return f"{_plain(value)} percent"
