# Sourced by scripts that need Python tools: `ensure_venv DIR REQUIREMENT...` makes DIR a
# venv holding exactly these pinned requirements (pip, on first use or when the pins change).
# The pins are recorded in DIR/.packages, so an unchanged venv costs one file read.
ensure_venv() {
    local venv=$1
    shift
    local want="$*"
    if [[ -f $venv/.packages && $(cat "$venv/.packages") == "$want" ]]; then
        return 0
    fi
    printf '  installing %s into %s (pip)\n' "$want" "$venv" >&2
    [[ -x $venv/bin/pip ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$@" >&2
    echo "$want" >"$venv/.packages"
}
