# memgate — build, test, bench, demo. See README.md.
CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0

# libcurl is not linked: gate/ci/curl_dl.c loads it at the first HTTP request
# (linked, it would cost every run 6 MiB of RSS); its headers are needed.
#
# CFLAGS, CPPFLAGS and LDFLAGS are the user's (a packager's hardening flags
# included); the project's own flags are kept apart and always added.
# Warnings are errors only with WERROR=1, which `make test` and CI set.
PKGS        := jansson
CFLAGS      ?= -O2 -g
WERROR      ?=
MG_CPPFLAGS := -D_GNU_SOURCE -DMG_VERSION='"$(VERSION)"' -Igate
MG_CFLAGS   := -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
LDLIBS      := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson) -lm -ldl
SANFLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The C sources, by layer: gate/ (the core model), gate/cmd, gate/measure,
# gate/heap, gate/report, gate/ci (README, "Hacking").
GATE_SRC := $(wildcard gate/*.c gate/*/*.c)
GATE_HDR := $(wildcard gate/*.h gate/*/*.h)
LIB_SRC  := $(filter-out gate/cmd/main.c,$(GATE_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
IT_SRC   := $(wildcard tests/integration/it_*.c)

COMPILE = $(CC) $(MG_CPPFLAGS) $(CPPFLAGS) $(MG_CFLAGS) $(CFLAGS)
LINK    = $(CC) $(MG_CFLAGS) $(CFLAGS) $(LDFLAGS)

# Two builds of the same sources: plain (build/) and sanitized (build/san/).
define build_tree
$(1)/obj/%.o: gate/%.c $$(GATE_HDR)
	@mkdir -p $$(@D)
	$$(COMPILE) $(2) -c $$< -o $$@
$(1)/memgate: $$(patsubst gate/%.c,$(1)/obj/%.o,$$(LIB_SRC) gate/cmd/main.c)
	$$(LINK) $(2) $$^ -o $$@ $$(LDLIBS)
$(1)/tests/test_%: tests/unit/test_%.c $$(patsubst gate/%.c,$(1)/obj/%.o,$$(LIB_SRC)) tests/unit/testutil.h
	@mkdir -p $$(@D)
	$$(COMPILE) $(2) $$< $$(patsubst gate/%.c,$(1)/obj/%.o,$$(LIB_SRC)) -o $$@ $$(LDFLAGS) $$(LDLIBS) -lcmocka
$(1)/tests/it_%: tests/integration/it_%.c tests/integration/itutil.h
	@mkdir -p $$(@D)
	$$(COMPILE) $(2) $$< -o $$@ $$(LDFLAGS) $$(LDLIBS) -lcmocka
# it_post_http calls the library in-process (and starts Prism, so it is not
# a unit test): linked like the unit tests; this rule wins over it_%.
$(1)/tests/it_post_http: tests/integration/it_post_http.c $$(patsubst gate/%.c,$(1)/obj/%.o,$$(LIB_SRC)) tests/unit/testutil.h tests/peer/prism.h
	@mkdir -p $$(@D)
	$$(COMPILE) $(2) $$< $$(patsubst gate/%.c,$(1)/obj/%.o,$$(LIB_SRC)) -o $$@ $$(LDFLAGS) $$(LDLIBS) -lcmocka
endef
$(eval $(call build_tree,build,))
$(eval $(call build_tree,build/san,$(SANFLAGS)))

UNIT_BINS = $(patsubst tests/unit/%.c,$(1)/tests/%,$(UNIT_SRC))
IT_BINS   = $(patsubst tests/integration/%.c,$(1)/tests/%,$(IT_SRC))

.PHONY: all check test test-plain test-san test-extra test-fault test-deb test-vm bench demo deps install deb clean fuzz fuzz-build fuzz-smoke
all: build/memgate

# The workload is never sanitized: its memory is what the tests measure.
build/workload: tests/workload.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@

# The native lab service (configs/lab/native_service.c): never sanitized, and
# with -g so that heaptrack names its leaking lines (configs/lab-native.json).
build/native_service: configs/lab/native_service.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -g -O1 -Wall -Wextra -Werror $< -o $@

# The fault matrix's helper: huge trees, bystanders, exact wait statuses.
build/faulthelp: tests/fault/faulthelp.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE $< -o $@

# Offline and as a plain user: the layer rule, the unit and integration
# tests in the backends this machine offers (the others are counted as
# skipped, each with its reason), and the lab's acceptance test.
check: build/memgate build/workload build/native_service $(call UNIT_BINS,build) $(call IT_BINS,build)
	tests/lint/layers
	MG_TEST_OFFLINE=1 tests/run-suite build
	/usr/bin/python3 -B -m unittest discover -s tests/lab

# Everything, on a fresh machine too: installs what is missing first, then
# check, the same under ASan+UBSan, the fuzz smoke, and what needs the
# network (the npm-based lints and API peers) or root (the fault matrix).
test:
	tests/install-deps test
	$(MAKE) WERROR=1 test-plain test-san fuzz-smoke test-extra

# The parts that are not C: the lab's lint and acceptance test, the example
# workflows' lint, the GitHub Action run as a runner would, the fault
# matrix, and the Debian package.
test-extra: build/memgate build/workload build/faulthelp
	tests/lint/run
	tests/lint-workflows/run
	tests/action/run-sh-words
	tests/action/run
	tests/fault/run
	tests/deb/run

test-plain: build/memgate build/workload build/native_service $(call UNIT_BINS,build) $(call IT_BINS,build)
	tests/lint/layers
	tests/run-suite build
	/usr/bin/python3 -B -m unittest discover -s tests/lab

test-san: build/san/memgate build/workload build/native_service $(call UNIT_BINS,build/san) $(call IT_BINS,build/san)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run-suite build/san

# Faults that hurt before (issue 9): every case in its own pid namespace; as
# root also device nodes on a private /dev, cgroup v1 and sudo (tests/fault/run).
test-fault: build/memgate build/workload build/faulthelp
	tests/fault/run

# libFuzzer harnesses (tests/fuzz/README.md): a third build of the library
# with clang, coverage and ASan+UBSan, as an archive so each harness links
# only the objects it uses. `make fuzz` replays the saved reproducers, then
# runs each harness FUZZ_SECONDS seconds on a copy of its seed corpus
# (FUZZ_SECONDS=600 make fuzz for a long run); fuzz-smoke is the same run
# at the default, the one `make test` does (12 targets, about 150 s).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 12
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -DMG_VERSION='"$(VERSION)"'
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

build/fuzz/obj/%.o: gate/%.c $(GATE_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Igate -c $< -o $@
build/fuzz/libgate.a: $(patsubst gate/%.c,build/fuzz/obj/%.o,$(LIB_SRC))
	rm -f $@
	$(AR) rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) build/fuzz/libgate.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -Igate $< build/fuzz/libgate.a -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)
fuzz fuzz-smoke: $(FUZZ_BINS)
	tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BINS)

# The Debian package (debian/), built from `git archive HEAD` in a temp dir
# with dpkg-buildpackage (which runs make check), then lintian and a scratch
# install (tests/deb/run). `make deb` is the same and keeps the packages in
# build/deb. Uncommitted changes are not in the package.
test-deb:
	tests/deb/run
deb:
	tests/deb/run --out build/deb

# A memgate that needs only libc at run time, for the GitHub Action to build
# once and cache: jansson linked in (libcurl is dlopen'ed anyway), the
# Python helper where memgate looks first (bin/../share/memgate/python).
PY_HELPERS := sitecustomize.py marks/memgate_mark.py marks/memgate_pytest.py
static: build/static/bin/memgate $(addprefix build/static/share/memgate/python/,$(PY_HELPERS))
build/static/bin/memgate: $(patsubst gate/%.c,build/obj/%.o,$(LIB_SRC) gate/cmd/main.c)
	mkdir -p $(@D)
	$(LINK) $^ -o $@ -Wl,-Bstatic -ljansson -Wl,-Bdynamic $(filter-out -ljansson,$(LDLIBS))
build/static/share/memgate/python/%.py: gate/heap/python/%.py
	install -D -m 0644 $< $@
.PHONY: static

# cgroup v2 for real: boots Debian kernels under qemu (see tests/vm/README.md)
test-vm: build/memgate build/workload build/tests/it_measure build/tests/it_phases
	tests/vm/run

bench: build/memgate build/workload
	tests/bench/run

# Installs what is missing (Debian/Ubuntu: the compiler, jansson, Python and
# NumPy; no Node.js, no clang), builds, and runs the lab: the leaky service
# must FAIL (exit 1) and the fixed one pass. Any other outcome fails the demo.
demo:
	tests/install-deps demo
	$(MAKE) build/memgate build/workload
	@build/memgate run -c configs/lab.json --json build/lab-report.json --markdown build/lab-report.md \
		--svg build/lab-report.svg; status=$$?; \
	if [ $$status -eq 1 ]; then \
		echo "demo: as expected, the gate failed the leaky service (exit 1) and passed the fixed one."; \
		echo "demo: report in build/lab-report.json, .md and .svg"; \
	else echo "demo: expected exit 1 (leaky service caught), got $$status"; exit 1; fi

# What every target needs; tests/install-deps build|demo|action for less.
deps:
	tests/install-deps test

# DESTDIR and PREFIX (default /usr/local; debian/rules passes /usr). The
# layout is fixed under PREFIX: memgate finds its Python helper relative to
# its own binary, at bin/../share/memgate/python. build/memgate is built
# here only when missing or out of date, and make does not track flags:
# build first with the flags you want (dh does), then install.
install: build/memgate
	install -D -m 0755 build/memgate $(DESTDIR)$(PREFIX)/bin/memgate
	install -D -m 0644 memgate.1 $(DESTDIR)$(PREFIX)/share/man/man1/memgate.1
	for f in $(PY_HELPERS); do \
		install -D -m 0644 gate/heap/python/$$f $(DESTDIR)$(PREFIX)/share/memgate/python/$$f || exit 1; \
	done

clean:
	rm -rf build
