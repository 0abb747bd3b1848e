# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark probe (not part of the collection): times the play from inside ansible-playbook, so that the
# process start-up and shutdown (about 1.5 s, varying by +-0.1 s from run to run on a shared machine) do not
# blur a per-task figure. Writes JSON to $BENCH_TIMER_OUT when the playbook ends.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._first_task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._first_task is None:
            self._first_task = time.perf_counter()

    def v2_playbook_on_stats(self, stats):
        ended = time.perf_counter()
        # from the start of the first task to the end of the play (0 for a play without tasks)
        out = {"play_s": ended - self._first_task if self._first_task is not None else 0.0}
        with open(os.environ["BENCH_TIMER_OUT"], "w") as handle:
            json.dump(out, handle)
