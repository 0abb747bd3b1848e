# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection and rate limiting, configured through the admin API."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import TypedDict

from .store import JSON

PRE_MODES = ("latency", "error", "http_error", "close_before")
POST_MODES = ("hold", "close_after", "private_key_no_newline", "malformed_json", "missing_fields", "no_response",
              "wrong_content_type")
# modes the action itself carries out: an Associate/Disassociate accepted whose operation ends FAILED
ACTION_MODES = ("operation_failed",)
MODES = PRE_MODES + POST_MODES + ACTION_MODES


class FaultError(ValueError):
    pass


class FaultRule(TypedDict):
    """A fault rule. action, count, probability, code and message are kept as the admin API gave them (count and
    probability are meant as numbers; probability is read with float() when it applies)."""
    action: str
    mode: str
    count: int | None
    probability: JSON
    latency: float
    code: str
    message: str | None
    status: int
    after: int
    fired: int


class FaultState(TypedDict):
    rules: list[FaultRule]
    rate_limits: dict[str, int]


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self.lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.rate_limits: dict[str, int] = {}
        self.hits: dict[str, deque[float]] = {}
        self.random = random.Random(seed)

    def add(self, spec: Mapping[str, JSON]) -> FaultRule:
        mode = spec.get("mode")
        if mode not in MODES:
            raise FaultError("mode must be one of %s" % ", ".join(MODES))
        rule: FaultRule = {
            "action": spec.get("action", "*"),
            "mode": mode,
            "count": spec.get("count"),
            "probability": spec.get("probability"),
            "latency": float(spec.get("latency", 0)),
            "code": spec.get("code", "InternalError"),
            "message": spec.get("message"),
            "status": int(spec.get("status", 500)),
            "after": int(spec.get("after", 0)),  # matching requests let through untouched before it applies
            "fired": 0,
        }
        if rule["count"] is None and rule["probability"] is None:
            rule["count"] = 1
        if mode == "http_error" and not 400 <= rule["status"] <= 599:
            raise FaultError("status must be an HTTP error status")
        if rule["after"] < 0:
            raise FaultError("after must be 0 or more")
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules = []
            self.rate_limits = {}
            self.hits = {}

    def take(self, action: str) -> list[FaultRule]:
        """Returns the rules that fire for this request (at most one per mode), consuming counts."""
        fired: list[FaultRule] = []
        with self.lock:
            for rule in list(self.rules):
                if rule["action"] not in ("*", action):
                    continue
                if any(f["mode"] == rule["mode"] for f in fired):
                    continue
                if rule["after"] > 0:  # this request passes; a later one gets the fault
                    rule["after"] -= 1
                    continue
                if rule["probability"] is not None and self.random.random() >= float(rule["probability"]):
                    continue
                rule["fired"] += 1
                fired.append(rule.copy())
                if rule["count"] is not None:
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        self.rules.remove(rule)
        return fired

    def set_rate_limit(self, action: str, per_second: JSON) -> None:
        with self.lock:
            if per_second:
                self.rate_limits[action] = int(per_second)
            else:
                self.rate_limits.pop(action, None)

    def over_rate(self, action: str) -> tuple[int, int] | None:
        with self.lock:
            limit = self.rate_limits.get(action, self.rate_limits.get("*"))
            if not limit:
                return None
            now = time.monotonic()
            window = self.hits.setdefault(action, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:  # refused requests do not use up the allowance
                return len(window) + 1, limit
            window.append(now)
            return None

    def describe(self) -> FaultState:
        with self.lock:
            return {"rules": [r.copy() for r in self.rules], "rate_limits": dict(self.rate_limits)}
