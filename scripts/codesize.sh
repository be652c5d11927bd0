#!/bin/sh
# codesize.sh: lines per production .c file and per function (median, p90, max).
# A function is a body that opens with "{" in column 0 and closes with "}"
# in column 0 (the project's style); its length counts the lines between.
cd "$(dirname "$0")/.." || exit 1
files=$(ls authd/*.c common/*.c smtpd/*.c libsecret/*.c saslpasswd/*.c 2>/dev/null)
stats() {
	sort -n | awk -v what="$1" '{ v[NR] = $1 }
	END {
		if (NR == 0) exit
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = v[int((NR - 1) * 0.9) + 1]
		printf "%-10s n=%-5d median=%-6s p90=%-6s max=%s\n", what, NR, m, p, v[NR]
	}'
}
wc -l $files | awk '$2 != "total" { print $1 }' | stats files
awk 'FNR == 1 { inb = 0 } /^\{/ { inb = 1; n = 0; next }
	inb && /^\}/ { print n; inb = 0; next } inb { n++ }' $files | stats functions
echo "over 500 lines:"
wc -l $files | awk '$2 != "total" && $1 > 500 { print "  " $2 " " $1 }'
