# parity — the two set-up commands are `make demo` and `make test`.

GO      ?= go
BIN     ?= bin/parity
PKGS    ?= ./...
FUZZTIME ?= 30s
DEMO    ?= demo

.PHONY: build test vet fmt-check lint demo bench fuzz clean llama-dump

build:
	$(GO) build -o $(BIN) ./cmd/parity

# The README's test command: vet, formatting, and every test under the race detector.
test: vet fmt-check
	$(GO) test -race -count=1 -timeout 45m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

lint: vet fmt-check
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

# The main job on a generated model: no downloads, nothing from ../shared.
# A qwen2 model with real Q4_K blocks and its APR conversion; the APR engine
# on the .apr against the GGUF engine on the .gguf must agree over the prompt
# and 4 decode steps (exit 0), then the same pair with a planted fault must be
# localized (exit 1 = divergence) and reported as markdown, HTML and JSON.
demo: build
	@mkdir -p $(DEMO)
	$(BIN) fixtures --arch qwen2 --type q4_k --layers 4 -o $(DEMO)/model.gguf
	$(BIN) convert $(DEMO)/model.gguf -o $(DEMO)/model.apr
	$(BIN) inspect $(DEMO)/model.apr
	$(BIN) bisect --a $(DEMO)/model.apr --b $(DEMO)/model.gguf --prompt "What is 2+2?" --decode 4
	$(BIN) bisect --a $(DEMO)/model.apr --b $(DEMO)/model.gguf --prompt "What is 2+2?" --b-fault rope-style@2 \
		--report $(DEMO)/report --force; test $$? -eq 1
	@echo "report: $(DEMO)/report/report.html, report.md, report.json"

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

# A short run of every fuzz target (go test runs one -fuzz target at a time).
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$f); \
		for t in $$(grep -h '^func Fuzz' $$f | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$dir $$t ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) ./$$dir; \
		done; \
	done

# The llamacpp engine's full-tensor dumper, compiled against an existing
# llama.cpp CMake build (nothing is downloaded or built here):
#   make llama-dump LLAMA_CPP_DIR=/path/to/llama.cpp [LLAMA_CPP_BUILD=/path/to/build]
# It lands beside bin/parity, where `parity … --engine llamacpp` looks first.
LLAMA_CPP_DIR   ?=
LLAMA_CPP_BUILD ?= $(LLAMA_CPP_DIR)/build
LLAMA_LIBS      ?= -lllama -lggml -lggml-base
CXX             ?= c++

llama-dump:
	@test -n "$(LLAMA_CPP_DIR)" || { echo "usage: make llama-dump LLAMA_CPP_DIR=/path/to/llama.cpp (built with CMake in \$$LLAMA_CPP_DIR/build, or set LLAMA_CPP_BUILD)"; exit 2; }
	@test -f "$(LLAMA_CPP_DIR)/include/llama.h" || { echo "$(LLAMA_CPP_DIR)/include/llama.h not found: LLAMA_CPP_DIR must be a llama.cpp source tree"; exit 2; }
	@mkdir -p $(dir $(BIN))
	$(CXX) -std=c++17 -O2 -Wall -o $(dir $(BIN))llama-dump runtimes/llamacpp/dumper/llama-dump.cpp \
		-I$(LLAMA_CPP_DIR)/include -I$(LLAMA_CPP_DIR)/ggml/include \
		-L$(LLAMA_CPP_BUILD)/bin -L$(LLAMA_CPP_BUILD)/src -L$(LLAMA_CPP_BUILD)/ggml/src \
		-Wl,-rpath,$(abspath $(LLAMA_CPP_BUILD)/bin) $(LLAMA_LIBS)

clean:
	rm -rf bin $(DEMO)
