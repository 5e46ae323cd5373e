# wsl2-migrate volume digest (docs/verify.md, "Volume digest"), for a helper container with busybox or GNU tools.
# Usage: sh -c "$(cat volume_digest.sh)" sh DIR OUT  -> writes "sha256:<hex> <entries>" to OUT.
set -eu
export LC_ALL=C
dir=$1
out=$2
cd "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One line per path: hexpath type mode uid gid size link sha256 device inode nlink (the last two for hard links).
find . -print0 | xargs -0 sh -c '
for p do
  if [ "$p" = . ]; then r=.; else r=${p#./}; fi
  h=$(printf "%s" "$r" | od -An -v -tx1 | tr -d " \n")
  set -- $(stat -c "%a %u %g %s %t %T %i %h" "$p") "$@"
  mode=$(printf "%04o" "0$1"); uid=$2; gid=$3; size=0; link=-; sha=-; dev=-; ino=$7; nl=$8
  shift 8
  if [ -L "$p" ]; then t=symlink
    link=$(printf "%s" "$(readlink "$p")" | od -An -v -tx1 | tr -d " \n")
    [ -n "$link" ] || link=-
  elif [ -d "$p" ]; then t=dir
  elif [ -f "$p" ]; then t=file
    size=$(stat -c %s "$p")
    sha=$(sha256sum < "$p" | cut -d" " -f1)
  elif [ -p "$p" ]; then t=fifo
  elif [ -c "$p" ] || [ -b "$p" ]; then
    if [ -c "$p" ]; then t=char; else t=block; fi
    set -- $(stat -c "%t %T" "$p") "$@"
    dev=$(printf "%d,%d" "0x$1" "0x$2")
    shift 2
  else
    echo "unsupported file type: $r" >&2; exit 3
  fi
  [ "$t" = file ] || nl=1
  printf "%s %s %s %s %s %s %s %s %s %s %s\n" "$h" "$t" "$mode" "$uid" "$gid" "$size" "$link" "$sha" "$dev" "$ino" "$nl"
done' sh > "$tmp/raw"
# A hard-linked file names the smallest (byte order = hex order) of its names in this volume as its link.
awk '$2 == "file" && $11 > 1 { k = "" $1; if (!($10 in m) || k < m[$10]) m[$10] = k; n[$10]++ }
     END { for (i in m) if (n[i] > 1) print i, m[i] }' "$tmp/raw" > "$tmp/links"
awk -v links="$tmp/links" '
  BEGIN { while ((getline line < links) > 0) { split(line, f, " "); l[f[1]] = f[2] } }
  { if ($2 == "file" && ($10 in l)) $7 = l[$10]; print $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$tmp/raw" |
  sort > "$tmp/lines"
entries=$(wc -l < "$tmp/lines" | tr -d " ")
digest=$( { printf "wsl2-migrate/volume-digest/2\n"; cat "$tmp/lines"; } | sha256sum | cut -d" " -f1)
printf "sha256:%s %s\n" "$digest" "$entries" > "$out"
