# Thin driver over CMake. `make demo` and `make test` set up everything they
# need on a fresh Debian 12 machine (scripts/install-deps.sh is idempotent).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
SAN ?= build-san
TSAN ?= build-tsan
WIN ?= build-win

.PHONY: all deps build test test-fast demo fuzz bench clean format windows

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS) 2>&1 | grep -Ev "^(gmake|make)\[[0-9]+\]: (Entering|Leaving)" || true

$(SAN)/CMakeCache.txt:
	cmake -S . -B $(SAN) -DCMAKE_BUILD_TYPE=Debug -DWH_SANITIZE=ON >/dev/null

$(TSAN)/CMakeCache.txt:
	cmake -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=Debug -DWH_SANITIZE_THREAD=ON >/dev/null

# The suite runs twice: a normal build, then under ASan+UBSan; then the
# threaded tests (label "threads") a third time under ThreadSanitizer.
test: deps build $(SAN)/CMakeCache.txt $(TSAN)/CMakeCache.txt
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cmake --build $(SAN) -j $(JOBS)
	cd $(SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  ctest --output-on-failure -j $(JOBS)
	cmake --build $(TSAN) -j $(JOBS) --target wmihunt-cli wh-fleetgen
	cd $(TSAN) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure -L threads

# wmihunt.exe (x86-64, static) with Debian's mingw-w64; libyaml, PCRE2 and
# SQLite are built for it from Debian's source packages first (once).
# make test then runs it under wine (test_windows), else says it skipped.
windows: deps
	./scripts/build-win-deps.sh $(CURDIR)/$(WIN)/deps
	cmake -S . -B $(WIN) -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake -DWH_WIN_DEPS=$(CURDIR)/$(WIN)/deps \
	  -DCMAKE_BUILD_TYPE=Release -DWH_STATIC=ON -DWH_TESTS=OFF >/dev/null
	@cmake --build $(WIN) -j $(JOBS) --target wmihunt-cli 2>&1 | grep -Ev "^(gmake|make)\[[0-9]+\]: (Entering|Leaving)" || true
	@test -f $(WIN)/wmihunt.exe && echo "built $(WIN)/wmihunt.exe"

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Builds a sample collection with our own writers (a repository with a
# malicious consumer beside the defaults, event logs, MOFs, a SOFTWARE hive)
# and runs the main job on it.
demo: deps build
	@./scripts/demo.sh $(BUILD)

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DWH_FUZZ=ON -DWH_TESTS=OFF >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	./scripts/run-fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: deps build
	./bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(SAN) $(TSAN) $(WIN) build-fuzz
