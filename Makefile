# Makefile: a thin wrapper around CMake and CTest (as neovim's), plus Debian set-up.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= 2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Every area lists the Debian packages it needs in .ci/packages/*.txt.
DEBS := $(shell sed -e 's/\#.*//' .ci/packages/*.txt | sort -u)

.PHONY: all deps build run test test-asan fuzz bench format clean install uninstall

all: build

# Installs the Debian packages that are missing (apt-get, with sudo when not root).
deps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# The demo: the daemon on examples/demo with a feeder appending real log lines; its dashboard is
# at http://127.0.0.1:9880/ (printed at start; LW_DEMO_PORT=N when 9880 is taken).
run: deps build
	./examples/demo/run.sh $(BUILD)/logwarden

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	$(MAKE) BUILD=build-asan CMAKE_FLAGS="-DLW_SANITIZE=ON -DLW_WERROR=ON -DCMAKE_BUILD_TYPE=Debug" test

# Each fuzz target under libFuzzer (clang, ASan+UBSan) for FUZZ_SECONDS, after its corpus.
FUZZ_SECONDS ?= 20
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DLW_FUZZ=ON -DLW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-fuzz -j$(JOBS)
	@set -e; for f in build-fuzz/tests/fuzz/*_libfuzzer; do \
		name=$$(basename $$f _libfuzzer); \
		echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
		mkdir -p build-fuzz/corpus/$$name; \
		seeds=""; [ -d tests/fuzz/corpus/$$name ] && seeds=tests/fuzz/corpus/$$name; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			build-fuzz/corpus/$$name $$seeds 2>&1 | tail -4; \
	done

# make install [PREFIX=/usr] [DESTDIR=/tmp/pkg]: builds, then installs (cmake --install); the
# prefix is given at install time, so one build installs anywhere. /etc/logwarden files that
# exist and differ are kept (the shipped ones go beside them as NAME.new).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# make uninstall [DESTDIR=...]: removes what the last install listed in
# $(BUILD)/install_manifest.txt (the same DESTDIR, or refused), except /etc/logwarden files
# changed since.
uninstall:
	cmake --build $(BUILD) --target uninstall

bench: deps build
	./bench/run.sh $(BUILD)/logwarden

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
		rm -rf $(BUILD) build-asan build-fuzz
