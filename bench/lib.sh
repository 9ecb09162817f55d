# shellcheck shell=bash
# Shared by the bench/*.sh scripts.

# doc_section DOC NAME SECTIONFILE: replace the part of DOC between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" (SECTIONFILE carries both
# markers); append it when DOC has none, create DOC when missing. Written
# next to DOC and renamed over it, so a reader never sees half a file.
doc_section() {
    local doc=$1 name=$2 section=$3 tmpdoc
    local begin="<!-- $name:begin -->" end="<!-- $name:end -->"
    mkdir -p -- "$(dirname -- "$doc")"
    tmpdoc=$(mktemp "$doc.XXXXXX") || return 1
    if [[ -f $doc ]] && grep -qxF -- "$begin" "$doc" && grep -qxF -- "$end" "$doc"; then
        awk -v b="$begin" -v e="$end" -v f="$section" '
            $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
            skip && $0 == e { skip = 0; next }
            !skip { print }
        ' "$doc" >"$tmpdoc" || return 1
    elif [[ -f $doc ]]; then
        { cat -- "$doc" && printf '\n' && cat -- "$section"; } >"$tmpdoc" || return 1
    else
        { printf '# Benchmarks\n\nEach section is written by the bench script it names;\n'
          printf 'rerun a script to refresh its section.\n\n'
          cat -- "$section"; } >"$tmpdoc" || return 1
    fi
    chmod 0644 "$tmpdoc"
    mv -f -- "$tmpdoc" "$doc"
}
