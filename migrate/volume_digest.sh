# wsl2-migrate volume digest (docs/verify.md, "Volume digest"), for a helper container with busybox or GNU tools.
# Usage: sh -c "$(cat volume_digest.sh)" sh DIR OUT  -> writes "sha256:<hex> <entries>" to OUT.
# One walk of DIR and one read of each file. Processes start per batch of paths (find -exec {} +), never per path.
# Nothing is written but OUT (and, for a huge volume, GNU sort's spill files next to it): no /tmp is needed.
set -eu
export LC_ALL=C QUOTING_STYLE=literal
dir=$1
out=$2
case $out in /*) ;; *) out=$PWD/$out ;; esac
spill=${out%/*}
cd "$dir"
# One batch of paths of one kind (f: regular files, l: symlinks, o: the rest) prints: "KIND COUNT", a stat line
# per path, the od hex of the NUL-ended paths (for l, followed by stat's "PATH -> TARGET"), for f sha256sum's
# lines, then K. Hex is how names with newlines or any other byte cross into awk intact.
# A batch of up to 1,000 files is hashed by two sha256sum at once (the hash is what a digest of large files waits
# for): the second half's lines wait in the pipe (64 KiB, some hundreds) until the first half's are out, so the
# order stays; its failure adds a line no hash reads as. A larger batch holds small files (a batch is bounded by
# the length of its names), for which a second process would mostly wait on that pipe.
b='printf "%s %d\n" "$0" "$#" && stat -c "%f %u %g %s %t %T %i %h" "$@" &&
{ printf "%s\0" "$@" && if [ "$0" = l ]; then stat -c %N "$@"; fi; } | od -An -v -tx1 &&
if [ "$0" != f ]; then true; elif [ $# -lt 2 ] || [ $# -gt 1000 ]; then sha256sum "$@"; else
h=$(($# / 2)) i=1 r=; while [ $i -le $h ]; do r="$r \"\${$i}\""; i=$((i + 1)); done
{ (shift $h && exec sha256sum "$@") || echo FAIL; } | { eval "sha256sum $r" && cat; }; fi && echo K'
# The records (docs/verify.md), then "#ENTRIES" (sorts first). A record is checked against what its batch said at
# every step, so output that is cut short or that the tools print differently fails instead of digesting wrong.
p='function die(m) { print "volume digest: " m > "/dev/stderr"; bad = 1; exit 1 }
function num(h,  v, i) {
  if (h in NUM) return NUM[h]
  v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return NUM[h] = v
}
function link(  n, s, w, e, pre) {
  n = length(P[nl + 1]) / 2; split(R[nl + 1], W, " "); s = W[4] + 0
  if (length(buf) < 3) return 0
  w = 3 * (n + s + (substr(buf, 2, 2) == "27" ? 9 : 5))
  if (length(buf) < w) return 0
  e = substr(buf, 1, w); buf = substr(buf, w + 1); gsub(/ /, "", e); nl++
  # busybox puts PATH and TARGET in single quotes (27), GNU with QUOTING_STYLE=literal does not; TARGET is S bytes.
  pre = substr(e, 1, 2) == "27" ? "27" P[nl] "27202d3e2027" : P[nl] "202d3e20"
  if (substr(e, 1, length(pre)) != pre || substr(e, length(pre) + 2 * s + 1) != (substr(e, 1, 2) == "27" ? "270a" : "0a")) die("unexpected stat %N output")
  L[nl] = substr(e, length(pre) + 1, 2 * s); return 1
}
function mode(h,  v) { v = num(h); TY[h] = int(v / 4096); PM[h] = sprintf("%04o", v % 4096) }
# The record of path j of the batch (its stat, path, link target and hash are in).
function rec(j,  m, t, p, y, z, l, h, d, r) {
  $0 = R[j]; m = $1; if (!(m in TY)) mode(m); t = TY[m]; p = P[j]
  if ((k == "f") != (t == 8) || (k == "l") != (t == 10)) die("a path changed type while it was read")
  if (p != "2e") { if (substr(p, 1, 4) != "2e2f") die("unexpected path"); p = substr(p, 5) }
  z = 0; l = "-"; h = "-"; d = "-"
  if (t == 4) y = "dir"; else if (t == 8) { y = "file"; z = $4; h = D[j] } else if (t == 10) { y = "symlink"; l = L[j] }
  else if (t == 2 || t == 6) { y = t == 2 ? "char" : "block"; d = num($5) "," num($6) } else if (t == 1) y = "fifo"
  else if (t == 12) return; else die("unsupported file type " t)
  r = p " " y " " PM[m] " " $2 " " $3 " " z " "
  # A name of an inode with more links waits for the end: its link field is the smallest of its names here.
  if (t != 4 && $8 > 1) { q++; QR[q] = r; QL[q] = l; QT[q] = h " " d; QI[q] = $7; QN[$7]++
    if (!($7 in QM) || p < QM[$7]) QM[$7] = p }
  else { print r l " " h " " d; e++ }
}
BEGIN { st = "h" }
st == "h" { if ($0 !~ /^[flo] [0-9]+$/) die("unexpected output"); k = $1; c = $2 + 0; j = 0; np = 0; nl = 0; buf = ""; st = "s"; next }
st == "s" {
  if (NF != 8 || $0 ~ /[^0-9a-f ]/) die("unexpected stat output")
  j++; R[j] = $0
  if (j == c) st = "x"; next
}
st == "x" {
  if ($0 !~ /^ /) die("the path list ends early")
  x = $0; sub(/ +$/, "", x); buf = buf x
  if (np < c) {
    # Each " 00" (od puts a space before every byte, so it cannot match across two) ends a path.
    m = split(buf, Q, / 00/)
    for (i = 1; i < m && np < c; i++) {
      x = Q[i]; np++; F[np] = index(x, " 0a") ? gsub(/ 0a/, "&", x) : 0; gsub(/ /, "", x); P[np] = x
    }
    for (buf = Q[i++]; i <= m; i++) buf = buf " 00" Q[i]
    if (np < c) next
  }
  if (k == "l") { while (nl < c && link()) ; if (nl < c) next }
  if (buf != "") die("unexpected bytes after the path list")
  j = 0; st = k == "f" ? "c" : "k"; next
}
st == "c" {
  # GNU marks a line whose name it escaped with a leading backslash; otherwise the raw name ends the line.
  j++; if (substr($0, 1, 1) == "\\") { h = substr($0, 2, 64); x = 0 } else { h = substr($0, 1, 64); x = F[j] }
  if (length(h) != 64 || h ~ /[^0-9a-f]/) die("unexpected sha256sum output")
  D[j] = h; while (x-- > 0) if ((getline) <= 0) die("sha256sum output ends early")
  # The record of a file is written as its hash arrives: awk works while sha256sum reads the next files.
  rec(j); if (j == c) st = "k"; next
}
st == "k" { if ($0 != "K") die("a batch did not finish"); if (k != "f") for (j = 1; j <= c; j++) rec(j); st = "h"; next }
END {
  if (bad) exit 1
  if (st != "h") die("the listing ends early")
  for (i = 1; i <= q; i++) { print QR[i] (QN[QI[i]] > 1 ? QM[QI[i]] : QL[i]) " " QT[i]; e++ }
  print "#" (e + 0)
}'
# Without pipefail, a failing stage says so on fd 3, which the command substitution collects with the result.
r=$( { { find . -type f -exec sh -c "$b" f {} + -o -type l -exec sh -c "$b" l {} + -o -exec sh -c "$b" o {} + ||
  echo FAIL >&3; } | { awk "$p" || echo FAIL >&3; } | { TMPDIR=${spill:-/} sort || echo FAIL >&3; } |
  { IFS= read -r n && echo "$n" && { echo wsl2-migrate/volume-digest/2; cat || echo FAIL >&3; } | sha256sum; }
  } 3>&1 ) || r=FAIL
set -f
set -- $r
if [ $# -ne 3 ] || [ "$3" != - ] || [ "${1#\#}" = "$1" ]; then
  echo "volume digest: reading $dir failed" >&2
  exit 1
fi
printf "sha256:%s %s\n" "$2" "${1#\#}" > "$out"
