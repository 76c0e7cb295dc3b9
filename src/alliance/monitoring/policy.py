"""The monitoring policy: every threshold of every rule, as data with its source.

The defaults ship as ``alliance/monitoring/policy.yaml`` (package data). A deployer's policy
file overrides any subset of keys; :func:`load_policy_text` merges it over the defaults and
refuses unknown keys or wrong types with a :class:`~alliance.errors.PolicyError` naming the
key. Instrument values (cutoff, absolute-drop threshold, norms, reliability) come from the
instrument spec unless the policy's ``instruments`` section overrides them;
:meth:`Policy.params_for` resolves the two into one :class:`InstrumentParams`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from alliance.errors import PolicyError
from alliance.instruments import TOTAL, Instrument
from alliance.yamltext import load_yaml


@dataclass(frozen=True)
class LowAlliance:
    consecutive_for_act: int
    source: str


@dataclass(frozen=True)
class Drop:
    lenient_sd: float
    strict_sd: float
    min_history: int
    sd_floor_ratio: float
    rci_z: float
    source: str


@dataclass(frozen=True)
class RuptureRepair:
    window: int
    source: str


@dataclass(frozen=True)
class ComponentDeficit:
    min_gap_pom: float
    history_drop_pom: float
    source: str


@dataclass(frozen=True)
class ContainerStrain:
    recent_window: int
    recurrent_count: int
    lateness_streak: int
    missed_run: int
    rising_rate: float
    source: str


@dataclass(frozen=True)
class Homework:
    run_length: int
    act_run_length: int
    recent_window: int
    rising_rate: float
    source: str


@dataclass(frozen=True)
class Ceiling:
    first_sessions: int
    min_pom: float
    source: str


@dataclass(frozen=True)
class HiddenRupture:
    high_pom: float
    source: str


@dataclass(frozen=True)
class RaterDiscrepancy:
    min_gap_pom: float
    persist_for_act: int
    source: str


@dataclass(frozen=True)
class SplitAlliance:
    spread_pom: float
    one_low_gap_pom: float
    source: str


@dataclass(frozen=True)
class EarlyWarning:
    sessions: int
    source: str


@dataclass(frozen=True)
class Alerts:
    recent_sessions: int
    min_watch: int
    source: str


@dataclass(frozen=True)
class InstrumentOverride:
    cutoff: float | None = None
    absolute_drop: float | None = None
    norm_mean: float | None = None
    norm_sd: float | None = None
    sd_change: float | None = None
    reliability: float | None = None
    source: str = ""


@dataclass(frozen=True)
class InstrumentParams:
    """The numbers the rules use for one instrument's total score (NaN where unknown)."""

    instrument: str
    cutoff: float
    absolute_drop: float
    norm_sd: float
    sd_change: float
    reliability: float
    low: float
    high: float
    sources: Mapping[str, str] = field(default_factory=dict)


_SECTIONS: dict[str, type] = {
    "low_alliance": LowAlliance, "drop": Drop, "rupture_repair": RuptureRepair,
    "component_deficit": ComponentDeficit, "container_strain": ContainerStrain,
    "homework": Homework, "ceiling": Ceiling, "hidden_rupture": HiddenRupture,
    "rater_discrepancy": RaterDiscrepancy, "split_alliance": SplitAlliance,
    "early_warning": EarlyWarning, "alerts": Alerts,
}


@dataclass(frozen=True)
class Policy:
    """All thresholds of the monitoring rules; build with :func:`default_policy` or
    :func:`load_policy_text`."""

    low_alliance: LowAlliance
    drop: Drop
    rupture_repair: RuptureRepair
    component_deficit: ComponentDeficit
    container_strain: ContainerStrain
    homework: Homework
    ceiling: Ceiling
    hidden_rupture: HiddenRupture
    rater_discrepancy: RaterDiscrepancy
    split_alliance: SplitAlliance
    early_warning: EarlyWarning
    alerts: Alerts
    instruments: Mapping[str, InstrumentOverride] = field(default_factory=dict)
    origin: str = "default policy"
    # Resolved parameters, per instrument id, with the instrument object they were built from.
    # The cache belongs to this policy object and holds a reference to the instrument, so
    # neither can be freed and replaced by another object at the same address while an entry
    # exists (a module-level cache keyed by ``id()`` handed one policy's thresholds to another).
    _resolved: dict[str, tuple[Instrument, InstrumentParams]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def params_for(self, instrument: Instrument) -> InstrumentParams:
        """Cutoff, absolute drop, norms and reliability of ``instrument``'s total score."""
        hit = self._resolved.get(instrument.id)
        if hit is not None and hit[0] is instrument:
            return hit[1]
        params = _params(self, instrument)
        self._resolved[instrument.id] = (instrument, params)
        return params

    def section_source(self, name: str) -> str:
        return str(getattr(self, name).source)


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _params(policy: Policy, inst: Instrument) -> InstrumentParams:
    over = policy.instruments.get(inst.id, InstrumentOverride())
    sources: dict[str, str] = {}
    cut = inst.cutoff(TOTAL)
    thr = inst.threshold("absolute_drop", TOTAL)
    norm = inst.norm(TOTAL)
    rel = inst.reliability_of(TOTAL)

    def pick(name: str, override: float | None, spec_value: float | None,
             spec_source: str | None) -> float:
        if override is not None:
            sources[name] = f"policy {policy.origin}: {over.source.strip()}"
            return float(override)
        if spec_value is not None:
            sources[name] = f"{inst.id} spec: {(spec_source or '').strip()}"
        return _nan(spec_value)

    lo, hi = inst.score_range(TOTAL)
    params = InstrumentParams(
        instrument=inst.id,
        cutoff=pick("cutoff", over.cutoff, cut.below if cut else None, cut.source if cut else None),
        absolute_drop=pick("absolute_drop", over.absolute_drop, thr.value if thr else None,
                           thr.source if thr else None),
        norm_sd=pick("norm_sd", over.norm_sd, norm.sd if norm else None,
                     norm.source if norm else None),
        sd_change=pick("sd_change", over.sd_change, norm.sd_change if norm else None,
                       norm.source if norm else None),
        reliability=pick("reliability", over.reliability, rel,
                         next((r.source for r in inst.reliability if r.score == TOTAL), None)),
        low=float(lo), high=float(hi), sources=sources)
    return params


def _check_section(name: str, cls: type, raw: Any, origin: str) -> Any:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{origin}: {name}: must be a mapping of settings")
    allowed = {f.name: f for f in fields(cls)}
    for key in raw:
        if key not in allowed:
            raise PolicyError(f"{origin}: {name}.{key}: unknown setting; {name} has "
                              f"{', '.join(sorted(allowed))}")
    values: dict[str, Any] = {}
    for fname, f in allowed.items():
        if fname not in raw:
            if cls is InstrumentOverride:
                continue
            raise PolicyError(f"{origin}: {name}.{fname}: is required")
        value = raw[fname]
        where = f"{origin}: {name}.{fname}"
        if fname == "source":
            if not isinstance(value, str) or len(value.strip()) < 3:
                raise PolicyError(f"{where}: must say where the numbers come from (text)")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(f"{where}: {value!r} is not a number")
        elif isinstance(value, int) and abs(value) > sys.float_info.max:  # 10**400 in YAML
            raise PolicyError(f"{where}: is out of range (a {len(str(abs(value)))}-digit number)")
        elif f.type == "int":
            if not float(value).is_integer() or value < 1:
                raise PolicyError(f"{where}: {value!r} must be a whole number of at least 1")
            value = int(value)
        elif not math.isfinite(value) or value < 0 or (fname == "reliability" and value >= 1):
            raise PolicyError(f"{where}: {value!r} is out of range")
        values[fname] = value
    return cls(**values)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_policy(raw: Any, origin: str = "<policy>", *, merge_defaults: bool = True) -> Policy:
    """Build a :class:`Policy` from a mapping, merged over the defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{origin}: a policy must be a mapping of sections, "
                          f"not {type(raw).__name__}")
    known = {"version", "instruments", *_SECTIONS}
    for key in raw:
        if key not in known:
            raise PolicyError(f"{origin}: {key}: unknown section; sections are "
                              f"{', '.join(sorted(known))}")
    if raw.get("version", 1) != 1:
        raise PolicyError(f"{origin}: version: {raw['version']!r} is not supported (use 1)")
    merged = _merge(_default_raw(), raw) if merge_defaults else dict(raw)
    sections = {name: _check_section(name, cls, merged.get(name), origin)
                for name, cls in _SECTIONS.items()}
    inst_raw = merged.get("instruments") or {}
    if not isinstance(inst_raw, Mapping):
        raise PolicyError(f"{origin}: instruments: must map instrument ids to overrides")
    instruments = {str(k): _check_section(f"instruments.{k}", InstrumentOverride, v, origin)
                   for k, v in inst_raw.items()}
    for key, over in instruments.items():
        if len(over.source.strip()) < 3:
            raise PolicyError(f"{origin}: instruments.{key}.source: is required (say where the "
                              f"numbers come from)")
    if sections["drop"].strict_sd < sections["drop"].lenient_sd:
        raise PolicyError(f"{origin}: drop.strict_sd must be at least drop.lenient_sd")
    return Policy(**sections, instruments=instruments, origin=origin)


def load_policy_text(text: str, origin: str = "<policy>") -> Policy:
    """Parse policy YAML text (overrides merged over the defaults)."""
    return parse_policy(load_yaml(text, origin, PolicyError), origin)


@lru_cache(maxsize=1)
def _default_text() -> str:
    return (resources.files("alliance.monitoring") / "policy.yaml").read_text("utf-8")


def _default_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(_default_text())
    return raw


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The shipped policy (``alliance/monitoring/policy.yaml``)."""
    return parse_policy(_default_raw(), "default policy", merge_defaults=False)


def default_policy_text() -> str:
    """The shipped policy YAML, e.g. as a starting point for a deployer's own file."""
    return _default_text()
