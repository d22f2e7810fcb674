#!/bin/bash
# `npm start`: install, bring up a local lab of 3 SSH hosts, apply playbooks/site.yml to it with the TUI.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash src/lab/setup.sh
./bin/orch lab up "${ORCH_LAB_SIZE:-3}"
exec ./bin/orch apply lab "$@"
