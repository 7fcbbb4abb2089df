# leadpipe: the two commands a newcomer needs are `make dev` and `make test`.
# Everything they need is installed by the targets themselves.

SHELL := /bin/bash
# Every build ships a patched Go runtime (go1.26.8 has known net/http,
# crypto/tls and crypto/x509 vulnerabilities); the go command fetches this
# toolchain from the module proxy on first use.
export GOTOOLCHAIN := go1.26.10
GO ?= go

RIE_VERSION        := v0.0.0-20261030222936-bef5c4ba774d
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION     := v0.0.0-20261105234957-e22db6528018

BIN   := $(CURDIR)/bin
BUILD := $(CURDIR)/build
FUNCTIONS := contact consultation notify staff

# How sam build builds each function (BuildMethod: makefile): a static,
# stripped linux binary named bootstrap for provided.al2023 on arm64.
LAMBDA_GOARCH ?= arm64
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='

.PHONY: dev test e2e bench build fuzz vulncheck lint deploy tools node-deps clean leadctl \
	build-ContactFunction build-ConsultationFunction build-NotifyFunction build-StaffFunction

## dev: run the whole pipeline locally (API on :3000, DynamoDB on :8000, SES inbox on :8005)
dev: node-deps
	@$(GO) build -o $(BIN)/devstack ./infra/devstack
	@# exec: Ctrl-C reaches the stack itself, which stops everything it started.
	@exec $(BIN)/devstack

## test: unit, emulator-backed and runtime-emulator tests, plus cfn-lint (when installed) and govulncheck
# A cold first run downloads and compiles for several minutes before the
# first package reports; each step says what it is doing.
test: node-deps $(BIN)/aws-lambda-rie
	@echo "==> go vet (a first run downloads the Go $(GOTOOLCHAIN:go%=%) toolchain and modules, then compiles: a few minutes)"
	$(GO) vet ./...
	@echo "==> go test, package by package (emulators start on loopback ports as tests need them)"
	LEADPIPE_REQUIRE_EMULATORS=1 LEADPIPE_RIE=$(BIN)/aws-lambda-rie $(GO) test -count=1 -timeout 15m ./...
	@echo "==> cfn-lint and govulncheck (a first run builds the offline vulnerability database: 1-8 minutes)"
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory vulncheck

## lint: cfn-lint on template.yaml, with the cfn-lint-serverless rules when present
# cfn-lint is a Python tool; the registries this project installs from
# cannot provide it, so a machine without it gets a notice, not a failure.
lint:
	@if ! command -v cfn-lint >/dev/null 2>&1; then \
		echo "notice: cfn-lint is not installed, so template.yaml was not linted (pip install cfn-lint)"; \
	elif python3 -c 'import cfn_lint_serverless' >/dev/null 2>&1; then \
		echo "cfn-lint $$(cfn-lint --version | cut -d' ' -f2) with cfn-lint-serverless: template.yaml"; \
		cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml; \
	else \
		echo "cfn-lint $$(cfn-lint --version | cut -d' ' -f2): template.yaml (cfn-lint-serverless not installed)"; \
		cfn-lint -- template.yaml; \
	fi

## deploy: sam validate, build and deploy with samconfig.toml (copied from samconfig.example.toml, see README)
deploy:
	@command -v sam >/dev/null 2>&1 || { echo "deploy: the AWS SAM CLI is not installed (README, Deploy, Prerequisites)" >&2; exit 1; }
	@test -f samconfig.toml || { echo "deploy: no samconfig.toml: cp samconfig.example.toml samconfig.toml and replace every placeholder with the clinic's values (README, Deploy)" >&2; exit 1; }
	sam validate --lint
	sam build
	sam deploy

## e2e: the browser test in headless Chromium (installs Debian's chromium when missing; CHROMIUM=/path skips that)
# Only chromium itself and what it needs (--no-install-recommends); as
# non-root, sudo -n never prompts: without rights it stops with a hint.
CHROMIUM ?= /usr/bin/chromium
e2e: node-deps
	@test -x "$(CHROMIUM)" || { echo "==> installing chromium with apt-get (--no-install-recommends); set CHROMIUM=/path/to/chromium to use your own"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium \
		|| { echo "e2e: could not install chromium; install it (apt-get install --no-install-recommends chromium) or set CHROMIUM" >&2; exit 1; }; }
	LEADPIPE_REQUIRE_EMULATORS=1 LEADPIPE_CHROMIUM=$(CHROMIUM) $(GO) test -count=1 -tags e2e -timeout 10m ./infra/e2e/...

## leadctl: the operations command (doctor, smoke, export, erase, resend, dlq) into bin/leadctl; README, Operations
leadctl:
	$(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/leadctl ./infra/leadctl

## bench: cold start (also under Lambda's CPU share), warm cost, size and per-request figures (prints a table, writes build/bench.json); BENCH_FLAGS="-lambda 256 -lambda-runs 10" to choose
bench: node-deps
	$(GO) run ./infra/bench $(BENCH_FLAGS)

## fuzz: longer fuzzing than the seed corpora `make test` runs
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./internal/...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target"; $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; done

## build: the function bootstrap binaries as sam build makes them, under build/<function>/
build:
	@for f in $(FUNCTIONS); do $(LAMBDA_BUILD) -o $(BUILD)/$$f/bootstrap ./functions/$$f || exit 1; done

build-ContactFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/contact
build-ConsultationFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/consultation
build-NotifyFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/notify
build-StaffFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/staff

node-deps: infra/node_modules/.package-lock.json
infra/node_modules/.package-lock.json: infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	@touch $@

$(BIN)/aws-lambda-rie:
	@echo "==> installing the Lambda Runtime Interface Emulator into bin/ (once, about a minute)"
	GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

$(BIN)/govulncheck:
	GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

# govulncheck's online database is unreachable here, so build it from the
# vulndb module the Go proxy serves, pinned above.
$(BUILD)/vulndb/index/db.json:
	@mkdir -p $(BUILD)
	dir=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'); \
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$dir/data/osv" -out $(BUILD)/vulndb

## vulncheck: govulncheck against the pinned offline database
vulncheck: $(BIN)/govulncheck $(BUILD)/vulndb/index/db.json
	$(BIN)/govulncheck -db file://$(BUILD)/vulndb ./...

clean:
	rm -rf $(BIN) $(BUILD) infra/node_modules
