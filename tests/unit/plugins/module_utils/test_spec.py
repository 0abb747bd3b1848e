# SPDX-License-Identifier: GPL-3.0-or-later
"""What every spec stage shares (_core/spec.py): a spec class's fields taken from the task's arguments."""

from dataclasses import dataclass, field

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.spec import spec_arguments
import pytest


@dataclass(frozen=True)
class ExampleSpec:
    name: str
    state: str = "present"
    tags: dict = field(default_factory=dict)
    derived: str = field(init=False, default="")  # computed by the spec, never an argument


def test_the_spec_fields_are_taken_and_the_other_arguments_left_out():
    args = {"name": "web", "state": "absent", "tags": {"a": "b"}, "region": "ap-guangzhou", "secret_key": "x",
            "derived": "not an argument"}
    assert spec_arguments(ExampleSpec, args) == {"name": "web", "state": "absent", "tags": {"a": "b"}}


def test_values_are_passed_as_they_are():
    tags = {"a": "b"}
    taken = spec_arguments(ExampleSpec, {"name": None, "state": 0, "tags": tags})
    assert taken == {"name": None, "state": 0, "tags": tags} and taken["tags"] is tags


def test_every_field_must_be_given_even_one_with_a_default():
    """Ansible fills in the documented defaults, so a missing one is a bug of the caller, named here."""
    with pytest.raises(TypeError, match=r"^ExampleSpec needs the arguments state, tags$"):
        spec_arguments(ExampleSpec, {"name": "web"})
    with pytest.raises(TypeError, match=r"^ExampleSpec needs the arguments name, state, tags$"):
        spec_arguments(ExampleSpec, {})
