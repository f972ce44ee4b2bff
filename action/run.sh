#!/usr/bin/env bash
# The GitHub Action's run step. On hosted runners the job's cgroup is not
# writable by the `runner` user, so memgate is started through sudo: it
# creates the cgroup as root and runs the fixtures as the invoking user
# (SUDO_UID), never as root. memgate itself writes the job summary, the
# step outputs and the annotations (GITHUB_ACTIONS=true).
set -uo pipefail
mg=${MEMGATE_BIN:?MEMGATE_BIN is not set}
report="${RUNNER_TEMP:-$PWD}/memgate-report.json"
args=(run -c "${INPUT_CONFIG:-memgate.json}" --json "$report")
# The `only` and `args` inputs are word lists: split on spaces, tabs and
# newlines, never expanded as file patterns (unquoted, `args: --*` met a
# workspace file named --json=evil.json and passed it as an option).
read -r -d '' -a only <<<"${INPUT_ONLY:-}" || true
for name in "${only[@]}"; do
	args+=(--only "$name")
done
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
post=${INPUT_POST_STATUS:-}
if [ -z "$post" ]; then
	case "${GITHUB_EVENT_NAME:-}" in
	push | pull_request | pull_request_target) post=true ;;
	*) post=false ;;
	esac
fi
case "$post" in
true) args+=(--post-status --context-prefix "${INPUT_CONTEXT_PREFIX:-memgate}/") ;;
false) ;;
*)
	echo "::error title=memgate::input post-status must be true or false, got \"$post\""
	exit 2
	;;
esac
# One pull-request comment, edited in place on later pushes; memgate says
# so and posts none when the event is not a pull request.
case "${INPUT_COMMENT:-false}" in
true) args+=(--comment) ;;
false) ;;
*)
	echo "::error title=memgate::input comment must be true or false, got \"$INPUT_COMMENT\""
	exit 2
	;;
esac
read -r -d '' -a extra <<<"${INPUT_ARGS:-}" || true
sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo -E env "PATH=$PATH")
fi
# Under sudo memgate writes every file with the job user's rights (see the
# README's security model): the report is already the runner's.
"${sudo[@]}" "$mg" "${args[@]}" "${extra[@]}"
