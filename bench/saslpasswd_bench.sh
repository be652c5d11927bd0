#!/bin/sh
# saslpasswd_bench.sh: saslpasswd against Cyrus's saslpasswd2 and
# sasldblistusers2 on the same work, in one run; prints times and ratios
# (ratio = Cyrus's time / ours: above 1 means saslkit is faster).
#
#   N_CREATE   users created in the create rows        (default 10000)
#   N_LIST     users in the listing row                (default 100000)
#   SCALE=1    also import and list SCALE_USERS users  (default 1000000)
#
# Run with `make bench`. Works in a fresh directory under /tmp only.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
N_CREATE=${N_CREATE:-10000}
N_LIST=${N_LIST:-100000}
SCALE=${SCALE:-0}
SCALE_USERS=${SCALE_USERS:-1000000}
box=$(mktemp -d /tmp/saslkit-bench.XXXXXX)
chmod 0700 "$box"
trap 'rm -rf "$box"' EXIT
# a copy, so that a rebuild during the run cannot change what is measured
cp "$top/build/bin/saslpasswd" "$box/saslpasswd"
SP="$box/saslpasswd"
export SASLKIT_CONFDIR="$box"
R=bench.example

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
row() { printf '%-44s %9.2fs %9.2fs %7sx\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

users() {	# $1 users as "name<TAB>password" lines
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
		printf "user%07d\tpw-%d-secret\n", i, i }'
}

echo "saslkit bench: $(nproc) cores, $(uname -r), $(date -u +%FT%TZ)"
echo "saslpasswd: SCRAM-SHA-1 + SCRAM-SHA-256 verifiers, 4096 PBKDF2 rounds,"
echo "  synchronous transactions; saslpasswd2: plaintext only, no fsync."
printf '\n%-44s %10s %10s %8s\n' "work" "Cyrus" "saslkit" "ratio"

users "$N_CREATE" > "$box/create.txt"
awk -F '\t' '{ print $1 "\tpassword\t" $2 }' "$box/create.txt" > "$box/import.txt"

# 1. creating N users: one saslpasswd2 process per user
t=$(now)
while IFS="$(printf '\t')" read -r u p; do
	printf '%s\n' "$p" | saslpasswd2 -p -c -u $R -f "$box/cyrus.db" "$u"
done < "$box/create.txt"
cyrus_loop=$(elapsed "$t")

# 2. creating N users: our batch import, one process
t=$(now)
"$SP" -u $R -f "$box/ours-import.db" -i "$box/import.txt" 2>/dev/null
ours_import=$(elapsed "$t")
row "create $N_CREATE users: import vs saslpasswd2 loop" "$cyrus_loop" "$ours_import"

# 3. creating N users: one saslpasswd process per user
t=$(now)
while IFS="$(printf '\t')" read -r u p; do
	printf '%s\n' "$p" | "$SP" -p -c -u $R -f "$box/ours-loop.db" "$u"
done < "$box/create.txt"
ours_loop=$(elapsed "$t")
row "create $N_CREATE users: one process per user" "$cyrus_loop" "$ours_loop"

# 4. listing N_LIST users (built with our import, 1 PBKDF2 round: the
#    listing does not depend on it); best of three runs each
users "$N_LIST" | awk -F '\t' '{ print $1 "\tpassword\t" $2 }' > "$box/list.txt"
"$SP" -I 1 -u $R -f "$box/list.db" -i "$box/list.txt" 2>/dev/null
best() {
	b=""
	for _ in 1 2 3; do
		t=$(now)
		"$@" > "$box/out.txt"
		e=$(elapsed "$t")
		if [ -z "$b" ] || [ "$(echo "$e < $b" | bc -l)" = 1 ]; then b=$e; fi
	done
	echo "$b"
}
cyrus_list=$(best sasldblistusers2 -f "$box/list.db")
cyrus_lines=$(wc -l < "$box/out.txt")
ours_list=$(best "$SP" -f "$box/list.db" -l)
ours_lines=$(wc -l < "$box/out.txt")
row "list $N_LIST users: -l vs sasldblistusers2" "$cyrus_list" "$ours_list"
echo "  (sasldblistusers2 printed $cyrus_lines lines, one per property;" \
	"saslpasswd -l $ours_lines, one per user)"

if [ "$SCALE" = 1 ]; then
	printf '\nscale: %s users, 1 PBKDF2 round\n' "$SCALE_USERS"
	users "$SCALE_USERS" | awk -F '\t' '{ print $1 "\tpassword\t" $2 }' \
		> "$box/scale.txt"
	t=$(now)
	"$SP" -I 1 -u $R -f "$box/scale.db" -i "$box/scale.txt" 2>/dev/null
	printf '  import: %.1fs\n' "$(elapsed "$t")"
	t=$(now)
	n=$("$SP" -f "$box/scale.db" -l | wc -l)
	printf '  list:   %.1fs, %s users\n' "$(elapsed "$t")" "$n"
	t=$(now)
	n=$(sasldblistusers2 -f "$box/scale.db" | wc -l)
	printf '  sasldblistusers2: %.1fs, %s lines\n' "$(elapsed "$t")" "$n"
	printf '  file: %s bytes\n' "$(stat -c %s "$box/scale.db")"
fi
