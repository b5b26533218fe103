# Cinder demo job: a float reduction whose order changes from run to run, as a GPU's atomics
# do. 64 bins, each the f64 sum of 4096 values of very different magnitude, added in an order
# drawn afresh for every run: two honest runs differ in the last bits of most bins, which the
# job's `tolerance` rule accepts. The bins are written as raw little-endian f64 (bins.f64,
# declared with its shape in the spec's verify.raw); their total as text (total.txt, excluded
# from the comparison). POSIX sh and awk only (BusyBox's awk, without `^`, included): awk
# writes each double's bytes as octal escapes, printf turns them into bytes.
set -e
seed=$(od -An -N4 -tu4 /dev/urandom 2>/dev/null | tr -d ' ')
[ -n "$seed" ] || seed=$$
awk -v seed="$seed" '
function le(v, n,   i, out) { for (i = 0; i < n; i++) { out = out sprintf("\\%03o", v % 256); v = int(v / 256) } return out }
function f64(x,   s, e, m, hi, lo) {
  s = 0; if (x < 0) { s = 1; x = -x }
  if (x == 0) return le(0, 4) le(s * 2147483648, 4)
  e = 0
  while (x >= 2) { x /= 2; e++ }
  while (x < 1) { x *= 2; e-- }
  m = (x - 1) * 1048576; hi = int(m); lo = (m - hi) * 4294967296
  return le(lo, 4) le(s * 2147483648 + (e + 1023) * 1048576 + hi, 4)
}
BEGIN {
  # mawk clamps a seed above 2^31 - 1 to it: fold the 32-bit draw below that.
  srand(seed % 2147483646 + 1); n = 4096; bins = 64
  pw[0] = 0.000001; for (k = 1; k < 13; k++) pw[k] = pw[k - 1] * 10
  for (i = 0; i < n; i++) { v[i] = ((i * 7919) % 1000 + 0.5) * pw[i % 13]; p[i] = i }
  for (b = 0; b < bins; b++) {
    for (i = n - 1; i > 0; i--) { j = int(rand() * (i + 1)); t = p[i]; p[i] = p[j]; p[j] = t }
    sum = 0
    for (i = 0; i < n; i++) sum += v[p[i]] * (1 + b / 64)
    printf "%s", f64(sum) > "/dev/stderr"
    total += sum
  }
  printf "%.17g\n", total
}' 2> "$CINDER_OUTPUT_DIR/bins.esc" > "$CINDER_OUTPUT_DIR/total.txt"
printf "$(cat "$CINDER_OUTPUT_DIR/bins.esc")" > "$CINDER_OUTPUT_DIR/bins.f64"
rm "$CINDER_OUTPUT_DIR/bins.esc"
size=$(wc -c < "$CINDER_OUTPUT_DIR/bins.f64")
[ "$size" -eq 512 ] || { echo "bins.f64 has $size bytes, not 64 f64 values" >&2; exit 1; }
