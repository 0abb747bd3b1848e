# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials and region: task options, then environment, then profile files. First found wins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import configparser
import json
import os

# A task's options (or an inventory source's), as Ansible gives them: the credential options are strings or None.
TaskOptions = Mapping[str, object]

TOKEN_VARIABLES = ("TENCENTCLOUD_SECURITY_TOKEN", "TENCENTCLOUD_TOKEN", "TENCENTCLOUD_SESSION_TOKEN")


class CredentialsError(Exception):
    """No credentials or no region (code MissingCredentials), or malformed ones (code InvalidArgument). The message
    never holds a secret."""

    def __init__(self, message: str, code: str = "MissingCredentials") -> None:
        super().__init__(message)
        self.code = code


class Credentials:
    __slots__ = ("secret_id", "secret_key", "token", "source")

    def __init__(self, secret_id: str, secret_key: str, token: str | None = None, source: str = "") -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.token = token or None
        self.source = source

    def __repr__(self) -> str:  # never show the secret
        return "Credentials(secret_id=%r, source=%r)" % (self.secret_id, self.source)


def _home(environ: Mapping[str, str]) -> str:
    return environ.get("HOME") or os.path.expanduser("~")


def _profile(options: TaskOptions, environ: Mapping[str, str]) -> str:
    profile = options.get("profile")
    if profile:
        return str(profile)
    return environ.get("TENCENTCLOUD_PROFILE") or environ.get("TCCLI_PROFILE") or "default"


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _env_token(environ: Mapping[str, str]) -> str | None:
    for name in TOKEN_VARIABLES:
        if _clean(environ.get(name)):
            return environ[name].strip()
    return None


def resolve_credentials(options: TaskOptions, environ: Mapping[str, str] | None = None,
                        origin: str = "task options") -> Credentials:
    """The first of: the options (`origin` names where they were given), the environment (not with `profile`),
    ~/.tencentcloud/credentials, tccli's credential file. Raises CredentialsError naming every place it looked, and
    which half of a pair is missing where only half was found."""
    environ = os.environ if environ is None else environ
    search = _Search(options, environ, _profile(options, environ), origin)
    sources: tuple[Callable[[_Search], Credentials | None], ...] = (_from_options, _from_environment, _from_ini,
                                                                    _from_tccli)
    for source in sources:
        found = source(search)
        if found is not None:
            return _checked(found)
    if search.halves:
        raise CredentialsError("Incomplete Tencent Cloud credentials: %s. Give both, or neither. No complete pair "
                               "anywhere; looked in: %s." % ("; ".join(search.halves), "; ".join(search.looked)))
    raise CredentialsError("No Tencent Cloud credentials found. Looked in: %s." % "; ".join(search.looked))


class _Search:
    """What resolve_credentials reads from, and what it has seen: the places looked in, and the half pairs."""

    def __init__(self, options: TaskOptions, environ: Mapping[str, str], profile: str, origin: str) -> None:
        self.options, self.environ, self.profile, self.origin = options, environ, profile, origin
        self.looked: list[str] = []
        self.halves: list[str] = []

    def pair(self, where: str, sid: str | None, skey: str | None, names: tuple[str, str]) -> tuple[str, str] | None:
        """(sid, skey) when both are there; else None, and a half is noted: "<where> <name> but not <other>"."""
        if sid and skey:
            return sid, skey
        if sid or skey:
            given, missing = names if sid else names[::-1]
            self.halves.append("%s %s but not %s (missing or empty)" % (where, given, missing))
        return None


def _from_options(search: _Search) -> Credentials | None:
    options = search.options
    sid, skey = _clean(options.get("secret_id")), _clean(options.get("secret_key"))
    if sid or skey:
        if not (sid and skey):
            given, missing = ("secret_id", "secret_key") if sid else ("secret_key", "secret_id")
            raise CredentialsError("Incomplete Tencent Cloud credentials: %s is given in the %s but %s is not. Give "
                                   "both secret_id and secret_key, or neither (then the environment and profile files "
                                   "are used)." % (given, search.origin, missing))
        return Credentials(sid, skey, _clean(options.get("security_token")), search.origin)
    search.looked.append("the secret_id/secret_key options")
    return None


def _from_environment(search: _Search) -> Credentials | None:
    options, environ = search.options, search.environ
    if options.get("profile"):
        return None
    search.looked.append("the TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY environment variables")
    pair = search.pair("the environment sets", _clean(environ.get("TENCENTCLOUD_SECRET_ID")),
                       _clean(environ.get("TENCENTCLOUD_SECRET_KEY")),
                       ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"))
    if pair is None:
        return None
    return Credentials(pair[0], pair[1], _clean(options.get("security_token")) or _env_token(environ), "environment")


def _from_ini(search: _Search) -> Credentials | None:
    options, profile = search.options, search.profile
    ini = os.path.join(_home(search.environ), ".tencentcloud", "credentials")
    where = "%s [%s]" % (ini, profile)
    search.looked.append(where)
    if not os.path.isfile(ini):
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error as exc:
        raise CredentialsError("Cannot parse %s: %s" % (ini, exc.__class__.__name__))
    if not parser.has_section(profile):
        return None
    pair = search.pair(where + " has", _clean(parser.get(profile, "secret_id", fallback=None)),
                       _clean(parser.get(profile, "secret_key", fallback=None)), ("secret_id", "secret_key"))
    if pair is None:
        return None
    token = _clean(options.get("security_token")) or _clean(parser.get(profile, "token", fallback=None))
    return Credentials(pair[0].strip(), pair[1].strip(), token, where)


def _from_tccli(search: _Search) -> Credentials | None:
    tccli = os.path.join(_home(search.environ), ".tccli", "%s.credential" % search.profile)
    search.looked.append(tccli)
    data = _read_json(tccli) or {}
    pair = search.pair(tccli + " has", _clean(data.get("secretId")), _clean(data.get("secretKey")),
                       ("secretId", "secretKey"))
    if pair is None:
        return None
    token = _clean(search.options.get("security_token")) or _clean(data.get("token"))
    return Credentials(pair[0].strip(), pair[1].strip(), token, tccli)


def resolve_region(options: TaskOptions, environ: Mapping[str, str] | None = None, required: bool = True) -> str | None:
    """The region of the options, TENCENTCLOUD_REGION or the profile; with required=False None when none gives one
    (a call that needs no region: the Region API's DescribeRegions)."""
    environ = os.environ if environ is None else environ
    region = _clean(options.get("region"))
    if region:
        return _checked_region(region.strip(), "the region option")
    region = _clean(environ.get("TENCENTCLOUD_REGION"))
    if region:
        return _checked_region(region.strip(), "TENCENTCLOUD_REGION")
    profile = _profile(options, environ)
    configure = os.path.join(_home(environ), ".tccli", "%s.configure" % profile)
    data = _read_json(configure) or {}
    sys_param = data.get("_sys_param")
    region = _clean(sys_param.get("region") if isinstance(sys_param, dict) else None)
    if region:
        return _checked_region(region.strip(), configure)
    if not required:
        return None
    raise CredentialsError("No region given. Looked in: the region option; the TENCENTCLOUD_REGION environment "
                           "variable; %s (_sys_param.region)." % configure)


def _read_json(path: str) -> dict[str, object] | None:
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise CredentialsError("Cannot read %s: %s" % (path, exc.__class__.__name__))
    return data if isinstance(data, dict) else None


def _unprintable(value: str) -> bool:
    return any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)


def _checked(creds: Credentials) -> Credentials:
    """Credentials go into HTTP headers: a newline or another control character there would fail the request with
    the value in the error. Say which one is malformed, never its value."""
    for what, value in (("secret_id", creds.secret_id), ("secret_key", creds.secret_key),
                        ("security token", creds.token)):
        if value is not None and _unprintable(value):
            raise CredentialsError("The %s from %s contains white space or a control character (a newline at its "
                                   "end, from a YAML `|` block?); remove it." % (what, creds.source),
                                   code="InvalidArgument")
    return creds


def _checked_region(region: str, source: str) -> str:
    if len(region) > 64 or not all(c.isalnum() or c in "-_" for c in region) or not region.isascii():
        raise CredentialsError("The region from %s is not a region name (letters, digits and hyphens, such as "
                               "ap-guangzhou)." % source, code="InvalidArgument")
    return region
