# SPDX-License-Identifier: GPL-3.0-or-later
# The two commands of README.md, plus helpers. Each sets up .venv itself (scripts/venv.sh).
.PHONY: demo test nightly sanity-matrix certification docs venv emulator clean

demo:  ## start the emulator, run examples/demo.yml twice (changed, then ok), stop the emulator
	@scripts/demo.sh

test:  ## every test: unit, emulator (with the official SDK), integration playbooks
	@scripts/test.sh

nightly:  ## what make test leaves out for time: the tests marked nightly (4 of the 6 rotation kill points), the sanity matrix
	@QUALITY=0 OLDEST=0 scripts/test.sh -m nightly
	@scripts/sanity-matrix.sh

sanity-matrix:  ## ansible-test sanity on ansible-core 2.16, 2.18, 2.20 and the newest, every target Python here (nightly)
	@scripts/sanity-matrix.sh

certification:  ## the partner certification checker's jobs with its pins: galaxy-importer, ansible-lint, sanity matrix
	@scripts/certification.sh

docs:  ## build the documentation site (modules, roles, plugins, guides) into .build/docsite, warnings as errors
	@scripts/docs.sh

venv:
	@scripts/venv.sh

emulator:  ## run the emulator in the foreground on port 8080
	@scripts/venv.sh && . scripts/env.sh && python -m cvm_emulator --port 8080

clean:
	rm -rf .venv .build tests/output .pytest_cache
