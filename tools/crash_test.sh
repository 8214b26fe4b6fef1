#!/usr/bin/env bash
# Crash test (issue 16; SQLite's crash tests are the model): runs Nerve Studio's writers on a
# project, kills them with SIGKILL at random moments, and checks the project after every kill:
#
#   - `info --json` lists no problem other than the leftovers of the kill itself (every label
#     and project.toml parses, every mask is an 8-bit 0/255 PNG of its image's size, splits
#     name real images), and after the next editing open not even those;
#   - nothing saved before the writer started is lost or changed: the images, labels and masks
#     it must not touch are byte for byte as they were.
#
# The writers: import (new images into the project), export (elsewhere: the project must not
# change at all), label (many labels at once), train (runs/ only), predict --pre-annotate
# (masks for unlabeled images that have none), and the window's autosave: the real window on
# the Annotate screen under Xvfb, painted with xdotool (only where xvfb-run and xdotool are
# installed; CI has neither, so its short run leaves the window out).
#
# Usage: tools/crash_test.sh BINARY [KILLS] [WORKDIR]     (CI runs 30; the README's run, 1000)
set -euo pipefail

BIN=$(readlink -f "$1")
KILLS=${2:-30}
WORK=${3:-$(mktemp -d)}
mkdir -p "$WORK"
P="$WORK/project"
export NERVE_STUDIO_WEIGHTS_DIR="$WORK/no-weights"
RANDOM=${CRASH_SEED:-7}

fail() {
    echo "crash test FAILED after kill $kill ($writer): $*" >&2
    exit 1
}

# A donor of new images for the imports, and the project itself.
"$BIN" demo "$WORK/donor" --images 24 --seed 9 --size 320x180 >/dev/null 2>&1
"$BIN" demo "$P" --images 40 --seed 5 --size 320x180 >/dev/null 2>&1
mkdir -p "$WORK/import/nerve"
: >"$WORK/no-stems.txt"
# The label writer's images (ones with a class, so that "reviewed" is a valid status), and one
# finished run for pre-annotation.
(cd "$P/labels" && grep -l '"class": "' -- *.json | head -8 | sed 's/\.json$//') >"$WORK/stems.txt"
"$BIN" train "$P" --recipe mu_net --epochs 1 --image-size 32 --batch-size 8 --device cpu >/dev/null 2>&1

# Checksums of the files a writer must leave as they are (all of images/, labels/, masks/;
# the label writer changes only the labels of its stems, pre-annotation only adds masks).
snapshot() {
    (cd "$P" && find images labels masks -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum) >"$1"
}

# Files in the earlier snapshot that are gone or changed, except those `$2` (a regex) allows.
compare() {
    local before=$1 allowed=${2:-^$}
    snapshot "$WORK/after.sha"
    join -j 2 -a 1 -e MISSING -o 1.1,2.1,0 <(sort -k2 "$before") <(sort -k2 "$WORK/after.sha") |
        awk '$1 != $2 { print $3 }' | grep -Ev "$allowed" || true
}

# The stems of a snapshot's labels that had no mask, as a regex alternation.
without_masks() {
    comm -23 <(grep -o 'labels/.*\.json$' "$1" | sed 's|labels/||; s|\.json$||' | sort) \
        <(grep -o 'masks/.*\.png$' "$1" | sed 's|masks/||; s|\.png$||' | sort) | paste -sd'|'
}

check() {
    local info problems
    info=$("$BIN" info "$P" --json) || fail "info failed"
    problems=$(printf '%s' "$info" | grep -o '"problem": *"[^"]*"' | grep -v 'removed when the project is next opened' || true)
    [ -z "$problems" ] || fail "info: $problems"
    # An editing open (label, on no image, takes the lock and writes nothing) removes the
    # leftovers.
    "$BIN" label "$P" --status labeled --stems "$WORK/no-stems.txt" >/dev/null 2>&1 || true
    info=$("$BIN" info "$P" --json) || fail "info failed after reopening"
    printf '%s' "$info" | grep -q '"problems": *\[\]' || fail "left after reopening: $info"
}

writer_import() {
    # Five new images each round, under new names.
    rm -rf "$WORK/import/nerve"/*
    local i
    for i in 0 1 2 3 4; do
        cp "$WORK/donor/images/$(ls "$WORK/donor/images" | sed -n "$(( (kill * 5 + i) % 24 + 1 ))p")" \
            "$WORK/import/nerve/k${kill}_$i.jpg"
    done
    "$BIN" import folders "$WORK/import" "$P"
}

writer_export() {
    rm -rf "$WORK/export"
    "$BIN" export voc "$P" "$WORK/export"
}

writer_label() {
    "$BIN" label "$P" --status reviewed --stems "$WORK/stems.txt"
}

writer_train() {
    "$BIN" train "$P" --recipe mu_net --epochs 2 --image-size 32 --batch-size 8 --device cpu
}

writer_predict() {
    local run
    run=$(ls -t "$P/runs" 2>/dev/null | grep -v active.json | head -1)
    [ -n "$run" ] || return 0
    "$BIN" predict "$P" --run "$run" --pre-annotate --device cpu
}

# The window, painting strokes on one image (autosave writes its mask and label).
writer_autosave() {
    xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
        "$0" open "$1" --image "$2" --screen annotate >/dev/null 2>&1 &
        for _ in $(seq 60); do
            win=$(xdotool search --name "Nerve Studio" 2>/dev/null | head -1)
            [ -n "$win" ] && break
            sleep 0.2
        done
        xdotool windowfocus --sync "$win" 2>/dev/null
        for _ in $(seq 30); do
            x=$((300 + RANDOM % 600)); y=$((150 + RANDOM % 400))
            xdotool mousemove $x $y mousedown 1 mousemove $((x + 40)) $((y + 25)) mouseup 1
            sleep 0.15
        done
        wait' "$BIN" "$P" "$(head -1 "$WORK/stems.txt")"
}

WRITERS=(import export label train predict)
if command -v xvfb-run >/dev/null && command -v xdotool >/dev/null; then
    WRITERS+=(autosave)
fi
# CRASH_WRITERS="autosave label" runs only those.
if [ -n "${CRASH_WRITERS:-}" ]; then
    read -r -a WRITERS <<<"$CRASH_WRITERS"
fi
for ((kill = 1; kill <= KILLS; kill++)); do
    writer=${WRITERS[$((RANDOM % ${#WRITERS[@]}))]}
    snapshot "$WORK/before.sha"
    "writer_$writer" >/dev/null 2>&1 &
    pid=$!
    # Anywhere from at once to 1.5 s in (most writers end within that); the window gets 2 to 6
    # s (it starts in about two, then paints).
    [ "$writer" = autosave ] && sleep $((2 + RANDOM % 4))
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
    [ $((RANDOM % 2)) -eq 0 ] && sleep "0.$((RANDOM % 5))"
    kill -9 "$pid" 2>/dev/null || true
    pkill -9 -f "$BIN (import|export|label|train|predict|open) " 2>/dev/null || true
    pkill -9 -f "Xvfb .*-screen 0 1280x800x24" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true
    case $writer in
        label) allowed="^labels/($(paste -sd'|' "$WORK/stems.txt"))\.json$" ;;
        # Pre-annotation marks the labels of the images it drew a mask for (they had none).
        predict) allowed="^labels/($(without_masks "$WORK/before.sha"))\.json$" ;;
        autosave) allowed="^(labels|masks)/$(head -1 "$WORK/stems.txt")\.(json|png)$" ;;
        *) allowed='^$' ;;
    esac
    changed=$(compare "$WORK/before.sha" "$allowed")
    [ -z "$changed" ] || fail "saved files changed or lost: $changed"
    check
    if [ $((kill % 50)) -eq 0 ] || [ "$kill" -eq "$KILLS" ]; then
        echo "$kill kills: nothing lost, nothing corrupt, no leftovers after reopening"
    fi
done
