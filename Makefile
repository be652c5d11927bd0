# saslkit: one non-recursive Makefile for every program, test and page.
# Targets: all check deps demo install fuzz bench clean. No recursive make:
# check, demo and bench list their steps as prerequisites, made in order.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
PKGCONFIGDIR = $(LIBDIR)/pkgconfig
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system

CC ?= cc
CLANG ?= clang
PYTHON ?= /usr/bin/python3
WARN = -Wall -Wextra -Werror
SASL_PLUGIN_DIR ?= /usr/lib/$(shell $(CC) -print-multiarch)/sasl2
CPPFLAGS += -D_GNU_SOURCE -Icommon -Iinclude -DSASL_PLUGIN_DIR='"$(SASL_PLUGIN_DIR)"'
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDLIBS_COMMON = -ldb-5.3 -lcrypto -lcrypt
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

B = build
BA = build/asan
BF = build/fuzz

# Each program's sources are the .c files of its directory; common/ is
# libcommon.a. A file added to or moved between directories needs no edit here.
COMMON_SRC = $(wildcard common/*.c)
# libsecret: its own files and the few common/ ones it needs, built PIC
# with hidden symbols; only the sksecret_ names are exported
LIBSECRET_SRC = $(wildcard libsecret/*.c)
LIBSECRET_COMMON = common/alloc.c common/b64.c common/err.c common/line.c \
	common/sbuf.c common/verb.c
LIBSECRET_VERSION = 1.2.0
LIBSECRET_SONAME = libsaslkit-secret.so.1
LIBSECRET_SO = $(B)/lib/libsaslkit-secret.so.$(LIBSECRET_VERSION)
PIC = $(B)/pic
# the libsasl2 server plugin, alone in its directory
PLUGIN_SRC = $(wildcard plugin/*.c)
PLUGIN_DIR = $(B)/sasl2
PLUGIN_SO = $(PLUGIN_DIR)/libsaslkit.so
saslpasswd_SRC = $(wildcard saslpasswd/*.c) $(LIBSECRET_SRC)
saslpasswd_LIBS = -lsasl2 -lssl -lreadline -lpthread
authd_SRC = $(wildcard authd/*.c)
authd_LIBS = -lsasl2 -lpam -levent -levent_pthreads -lpthread
smtpd_SRC = $(wildcard smtpd/*.c) $(LIBSECRET_SRC)
smtpd_LIBS = -lssl -levent_openssl -levent -levent_pthreads -lpthread
# Dovecot's checkpassword passdb on authd (installed as saslkit-checkpassword)
checkpassword_SRC = $(wildcard checkpw/*.c) $(LIBSECRET_SRC)
checkpassword_LIBS =
BINARIES = saslpasswd authd smtpd checkpassword
PROGRAMS_LIB_SRC = $(filter-out %/main.c,$(sort $(foreach p,$(BINARIES),$($(p)_SRC))))
UNIT_SRC = $(wildcard tests/unit/test_*.c)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
MANPAGES = $(wildcard man/*.[0-9])
HEADERS = $(wildcard common/*.h saslpasswd/*.h authd/*.h smtpd/*.h libsecret/*.h \
	checkpw/*.h plugin/*.h include/saslkit/*.h)

UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
UNIT_BIN_ASAN = $(UNIT_SRC:tests/unit/%.c=$(BA)/tests/%)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(BF)/%)

PROGRAMS = $(B)/bin/saslpasswd $(B)/bin/authd $(B)/bin/smtpd \
	$(B)/bin/checkpassword \
	$(B)/tests/cyrus_peer \
	$(B)/tests/sasl_client $(LIBSECRET_SO) $(B)/tests/sks_client \
	$(B)/tests/sks_agent $(PLUGIN_SO) \
	$(B)/bench/authbench $(B)/bench/smtpbench $(B)/bench/secretbench \
	$(B)/bench/saslbench

.PHONY: all check deps demo install install-lib authbench smtpbench secretbench fuzz fuzz-build bench clean unit unit-asan \
	integration integration-asan lint install-check size

all: $(PROGRAMS) $(UNIT_BIN)

# objects, libcommon.a, the programs and their archives (a program's
# objects but main.o, for the unit tests), once for each of the plain
# build (dir $(B)) and the ASan+UBSan build (dir $(BA), flags $(SAN))
define variant
$(1)/%.o: %.c $$(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@

$(1)/libcommon.a: $$(COMMON_SRC:%.c=$(1)/%.o)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/tests/test_%: tests/unit/test_%.c tests/unit/unit.h $(1)/libprograms.a \
		$(1)/libcommon.a $$(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -o $$@ $$< $(1)/libprograms.a \
		$(1)/libcommon.a -lcmocka $$(LDLIBS_COMMON) $$(LDLIBS_PROGRAMS)

$(1)/libprograms.a: $$(PROGRAMS_LIB_SRC:%.c=$(1)/%.o)
	rm -f $$@ && ar rcs $$@ $$^
endef

define binary
$(2)/bin/$(1): $$($(1)_SRC:%.c=$(2)/%.o) $(2)/libcommon.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $(3) -o $$@ $$^ $$(LDLIBS_COMMON) $$($(1)_LIBS)
endef

LDLIBS_PROGRAMS = -lsasl2 -lpam -lssl -levent_openssl -levent -levent_pthreads -lpthread
$(eval $(call variant,$(B),))
$(eval $(call variant,$(BA),$$(SAN)))
$(foreach p,$(BINARIES),$(eval $(call binary,$(p),$(B),))$(eval $(call binary,$(p),$(BA),$$(SAN))))

$(PIC)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIBSECRET_SO): $(LIBSECRET_SRC:%.c=$(PIC)/%.o) \
		$(LIBSECRET_COMMON:%.c=$(PIC)/%.o) libsecret/libsecret.map
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIBSECRET_SONAME) \
		-Wl,--version-script=libsecret/libsecret.map -Wl,-z,defs \
		-o $@ $(filter %.o,$^) -lcrypto
	ln -sf libsaslkit-secret.so.$(LIBSECRET_VERSION) \
		$(B)/lib/$(LIBSECRET_SONAME)
	ln -sf $(LIBSECRET_SONAME) $(B)/lib/libsaslkit-secret.so

# the libsasl2 server plugin: libsecret inside, only its entry point
# exported; alone in its directory, which an application names in
# SASL_PATH (see saslkit-sasl.8)
$(PLUGIN_SO): $(PLUGIN_SRC:%.c=$(PIC)/%.o) $(LIBSECRET_SRC:%.c=$(PIC)/%.o) \
		$(LIBSECRET_COMMON:%.c=$(PIC)/%.o) plugin/plugin.map
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -Wl,--version-script=plugin/plugin.map \
		-Wl,-z,defs -o $@ $(filter %.o,$^) -lcrypto

# a driver of libsecret against a live authd, for the tests
$(B)/tests/sks_client: tests/integration/sks_client.c $(LIBSECRET_SO) \
		tests/integration/sasl_client_cb.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -L$(B)/lib -lsaslkit-secret \
		-Wl,-rpath,$(CURDIR)/$(B)/lib -lsasl2

# a driver of libsecret's secret-store calls (lookup, agent exchanges)
$(B)/tests/sks_agent: tests/integration/sks_agent.c $(LIBSECRET_SO)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -L$(B)/lib -lsaslkit-secret \
		-Wl,-rpath,$(CURDIR)/$(B)/lib

# the same drivers with libsecret's sources built in, under ASan+UBSan
$(BA)/tests/sks_agent: tests/integration/sks_agent.c $(LIBSECRET_SRC) \
		$(LIBSECRET_COMMON) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -o $@ tests/integration/sks_agent.c \
		$(LIBSECRET_SRC) $(LIBSECRET_COMMON) -lcrypto

$(BA)/tests/sks_client: tests/integration/sks_client.c $(LIBSECRET_SRC) \
		$(LIBSECRET_COMMON) $(HEADERS) tests/integration/sasl_client_cb.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -o $@ tests/integration/sks_client.c \
		$(LIBSECRET_SRC) $(LIBSECRET_COMMON) -lsasl2 -lcrypto

# the load generator of bench/authbench.sh, on libsecret
$(B)/bench/authbench: bench/authbench.c $(LIBSECRET_SRC:%.c=$(B)/%.o) \
		$(B)/libcommon.a bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS_COMMON) -lpthread

# the load generator of bench/secretbench.sh: socketmap lookups, agent exchanges
$(B)/bench/secretbench: bench/secretbench.c $(LIBSECRET_SO) bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -L$(B)/lib -lsaslkit-secret \
		-Wl,-rpath,$(CURDIR)/$(B)/lib -lpthread

# both ends of libsasl2 exchanges in one process: the plugin's tests
# (channel binding, threads, fork) and bench/saslbench.sh
$(B)/bench/saslbench: bench/saslbench.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lsasl2 -lpthread

# the load generator of bench/smtpbench.sh: SMTP sessions with STARTTLS
$(B)/bench/smtpbench: bench/smtpbench.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -levent_openssl -levent -lssl -lcrypto

# a Cyrus-linked peer: libsasl2 with its own sasldb plugin, for the tests
$(B)/tests/cyrus_peer: tests/integration/cyrus_peer.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lsasl2

# a client of authd's auth protocol with client-side libsasl2, for the tests
$(B)/tests/sasl_client: tests/integration/sasl_client.c \
		tests/integration/sasl_client_cb.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lsasl2 -lcrypto

# unit tests that include the smtpd file they test
$(B)/tests/test_iptable $(BA)/tests/test_iptable: smtpd/iptable.c
$(B)/tests/test_smtpd_conf $(BA)/tests/test_smtpd_conf: smtpd/config.c
$(B)/tests/test_senders $(BA)/tests/test_senders: smtpd/senders.c
$(B)/tests/test_handoff $(BA)/tests/test_handoff: smtpd/handoff.c
$(B)/tests/test_privdrop $(BA)/tests/test_privdrop: smtpd/privdrop.c

# the seal tests share their fixture
$(B)/tests/test_seal $(BA)/tests/test_seal $(B)/tests/test_seal_keys \
	$(BA)/tests/test_seal_keys: tests/unit/seal_unit.h

# the smtpd targets include the file they fuzz
$(BF)/fuzz_smtpd_conf: smtpd/config.c
$(BF)/fuzz_smtpd_conf: FUZZ_WITH = smtpd/conflists.c
$(BF)/fuzz_senders: smtpd/senders.c

# the smtpd targets that link the module they fuzz
$(BF)/fuzz_smtp_cmd: FUZZ_WITH = smtpd/smtp_cmd.c smtpd/smtp_addr.c \
	smtpd/smtp_lex.c
$(BF)/fuzz_smtp_data: FUZZ_WITH = smtpd/smtp_data.c

# a target that fuzzes a program's module names it in FUZZ_WITH
FUZZ_WITH =
$(BF)/fuzz_mux: FUZZ_WITH = authd/mux_proto.c
$(BF)/fuzz_plugin_parse: FUZZ_WITH = plugin/parse.c
$(BF)/fuzz_checkpw: FUZZ_WITH = checkpw/input.c
$(BF)/fuzz_master: FUZZ_WITH = authd/master_proto.c
.SECONDEXPANSION:
$(BF)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(COMMON_SRC) \
		$(LIBSECRET_SRC) $$(FUZZ_WITH) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< \
		$(COMMON_SRC) $(LIBSECRET_SRC) $(FUZZ_WITH) $(LDLIBS_COMMON) \
		-levent -levent_pthreads

# the private sendmail of the tests: fetched and unpacked, never installed,
# by root (the tests run as root, and fetch it themselves if it is missing)
deps:
	@sh scripts/deps.sh
	@if [ "$$(id -u)" = 0 ]; then sh scripts/sendmail-peer.sh >/dev/null; fi

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

unit-asan: $(UNIT_BIN_ASAN)
	@set -e; for t in $(UNIT_BIN_ASAN); do echo "== $$t (asan+ubsan)"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

# lines per production file and per function: median, p90, max
size:
	@sh scripts/codesize.sh

lint:
	mandoc -Tlint -Wwarning $(MANPAGES)

fuzz-build: $(FUZZ_BIN)

# short runs from the seed corpora; `make fuzz FUZZ_TIME=600` for longer
FUZZ_TIME ?= 20
fuzz: fuzz-build
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
		mkdir -p $(BF)/corpus/$$n; \
		echo "== $$n ($(FUZZ_TIME)s)"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=8192 -artifact_prefix=$(BF)/ \
			$(BF)/corpus/$$n tests/fuzz/corpus/$$n; done

integration: all
	$(PYTHON) -m pytest -q tests/integration

# the same suite against saslpasswd built with ASan+UBSan
integration-asan: all $(BA)/bin/saslpasswd $(BA)/bin/authd $(BA)/bin/smtpd \
		$(BA)/bin/checkpassword \
		$(BA)/tests/sks_client $(BA)/tests/sks_agent
	SASLKIT_BINDIR=$(BA)/bin ASAN_OPTIONS=detect_leaks=1 \
		$(PYTHON) -m pytest -q tests/integration

# make install into a staging tree: the installed names and modes, and
# systemd-analyze verify on the units (pointed at the staged programs);
# a warning of systemd-analyze fails it too
STAGE = $(B)/stage
install-check: $(B)/bin/saslpasswd $(B)/bin/authd $(B)/bin/smtpd \
		$(B)/bin/checkpassword $(PLUGIN_SO)
	rm -rf $(STAGE) && $(MAKE) -s install DESTDIR=$(CURDIR)/$(STAGE) PREFIX=/usr
	@set -e; cd $(STAGE); for f in usr/sbin/saslkit-authd \
		usr/sbin/saslkit-smtpd usr/sbin/saslkit-passwd \
		usr/sbin/saslkit-checkpassword \
		usr/share/man/man8/saslkit-checkpassword.8 \
		usr/share/man/man8/saslkit-authd.8 usr/share/man/man8/saslkit-smtpd.8 \
		usr/share/man/man8/saslkit-passwd.8 usr/share/man/man3/saslkit-secret.3 \
		usr/share/man/man5/saslkit-authd.conf.5 \
		usr/share/man/man5/saslkit-smtpd.conf.5 \
		usr/share/man/man7/saslkit-secrets.7 \
		usr/share/man/man7/saslkit-migrate.7 \
		usr/share/man/man8/saslkit-plugin.8 \
		usr/lib/saslkit/sasl2/libsaslkit.so \
		usr/lib/systemd/system/saslkit-authd.service \
		usr/lib/systemd/system/saslkit-smtpd.service; do \
		test -f $$f || { echo "install-check: $$f not installed"; exit 1; }; done; \
		test "$$(stat -c %a:%U etc/saslkit)" = 755:root || \
		{ echo "install-check: etc/saslkit is not 0755 root"; exit 1; }; \
		test ! -e usr/sbin/smtpd && test ! -e usr/sbin/authd
	@set -e; rm -rf $(B)/units && mkdir -p $(B)/units; \
		for u in saslkit-authd saslkit-smtpd; do \
		sed 's|/usr/sbin/|$(CURDIR)/$(STAGE)/usr/sbin/|g' \
			$(STAGE)/usr/lib/systemd/system/$$u.service > $(B)/units/$$u.service; \
		done; out=$$(systemd-analyze verify --man=no $(B)/units/*.service 2>&1) || \
		{ echo "$$out"; exit 1; }; \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
		echo "install-check: names, modes and systemd units ok"

# deps comes first: prerequisites are made in order (run these without -j)
check: FUZZ_TIME = 10
check: deps all unit unit-asan lint install-check fuzz integration integration-asan

demo: deps all
	sh scripts/demo.sh

bench: deps all
	sh bench/saslpasswd_bench.sh
	bash bench/authbench.sh
	bash bench/saslbench.sh
	bash bench/smtpbench.sh
	bash bench/secretbench.sh

# the secret store's socketmap and agent against Postfix's proxymap and hash:
secretbench: deps all
	bash bench/secretbench.sh

# authd against Dovecot's auth server and Cyrus saslauthd, in one run; then
# a Cyrus-linked server through saslkit's plugin against Cyrus's sasldb plugin
authbench: deps all
	bash bench/authbench.sh
	bash bench/saslbench.sh

smtpbench: deps all
	bash bench/smtpbench.sh

# Installed names carry "saslkit" (OpenSMTPD has /usr/sbin/smtpd, Postfix
# and OpenSMTPD man8/smtpd.8): saslkit-authd, saslkit-smtpd, saslkit-passwd
# and their pages; the source tree keeps its short names.
install: $(B)/bin/saslpasswd $(B)/bin/authd $(B)/bin/smtpd \
		$(B)/bin/checkpassword $(PLUGIN_SO) install-lib
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR)
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/saslkit
	install -m 0755 $(B)/bin/saslpasswd $(DESTDIR)$(SBINDIR)/saslkit-passwd
	install -m 0755 $(B)/bin/authd $(DESTDIR)$(SBINDIR)/saslkit-authd
	install -m 0755 $(B)/bin/smtpd $(DESTDIR)$(SBINDIR)/saslkit-smtpd
	install -m 0755 $(B)/bin/checkpassword \
		$(DESTDIR)$(SBINDIR)/saslkit-checkpassword
	install -m 0644 man/saslpasswd.8 $(DESTDIR)$(MANDIR)/man8/saslkit-passwd.8
	install -m 0644 man/authd.8 $(DESTDIR)$(MANDIR)/man8/saslkit-authd.8
	install -m 0644 man/smtpd.8 $(DESTDIR)$(MANDIR)/man8/saslkit-smtpd.8
	install -m 0644 man/saslkit-checkpassword.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/authd.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/saslkit-authd.conf.5
	install -m 0644 man/smtpd.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/saslkit-smtpd.conf.5
	install -m 0644 man/saslkit-secrets.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/saslkit-migrate.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/saslkit-plugin.8 $(DESTDIR)$(MANDIR)/man8/
	# the libsasl2 plugin, in a directory of its own (saslkit-plugin.8)
	install -d $(DESTDIR)$(LIBDIR)/saslkit/sasl2
	install -m 0644 $(PLUGIN_SO) $(DESTDIR)$(LIBDIR)/saslkit/sasl2/
	for u in saslkit-authd saslkit-smtpd; do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			contrib/systemd/$$u.service.in > $(DESTDIR)$(UNITDIR)/$$u.service; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service; done
	# smtpd's own system user, on a real install only
	if [ -z "$(DESTDIR)" ] && ! id saslkit-smtpd >/dev/null 2>&1; then \
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin saslkit-smtpd; fi
	install -d $(DESTDIR)$(PREFIX)/share/saslkit/fail2ban
	install -m 0644 contrib/fail2ban/saslkit-authd.conf \
		$(DESTDIR)$(PREFIX)/share/saslkit/fail2ban/

# libsecret alone: the library, its header, pkg-config file and page
install-lib: $(LIBSECRET_SO)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/saslkit \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 0755 $(LIBSECRET_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libsaslkit-secret.so.$(LIBSECRET_VERSION) \
		$(DESTDIR)$(LIBDIR)/$(LIBSECRET_SONAME)
	ln -sf $(LIBSECRET_SONAME) $(DESTDIR)$(LIBDIR)/libsaslkit-secret.so
	install -m 0644 include/saslkit/secret.h $(DESTDIR)$(INCLUDEDIR)/saslkit/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(LIBSECRET_VERSION)|' libsecret/saslkit-secret.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/saslkit-secret.pc
	install -m 0644 man/libsecret.3 $(DESTDIR)$(MANDIR)/man3/saslkit-secret.3

clean:
	rm -rf build
