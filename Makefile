# vpcsim — see README.md. Every target works on a fresh Debian 12 machine as root.
GO      ?= go
BIN     ?= bin/vpcsim
DATA    ?= /var/lib/vpcsim
# Debian packages the kernel dataplane, the containers and the tests use.
PKGS    := iproute2 nftables containerd runc busybox-static awscli jq curl
# What the tests need beyond that: a C toolchain, for the race-detector build of
# vpcsim that the crash and load tests serve from; zstd, which unpacks OpenTofu
# and the AWS provider for the Terraform tests (../shared/tools/terraform); and
# openssh-client, whose ssh-keygen checks the key pairs.
TESTPKGS := gcc libc6-dev zstd openssh-client

.PHONY: all build deps run test unit bench vet clean down

all: build

# Static (no cgo; SQLite is pure Go): the binary is also the init that containers
# with initProcessEnabled run, inside images that have no libc of their own.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/vpcsim

# deps installs whatever Debian packages are missing (and nothing when none are).
deps:
	@missing=""; for p in $(PKGS) $(EXTRA); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# run builds vpcsim and serves the API on 127.0.0.1:4566 with the kernel dataplane.
run: deps build
	$(BIN) serve --data-dir $(DATA)

# test runs every test: unit tests, kernel tests (root), and end-to-end tests that
# drive aws-cli v1 and v2, aws-sdk-go-v2 and ../shared/acceptance against a real vpcsim.
# The end-to-end tests (cmd/vpcsim) run after the other packages, four at a
# time: most of such a test is waiting for its server, containers and kernel
# objects, and its aws CLI calls are cheap (a fork server runs them, see
# vpcsim/awstest/awscli). The race detector runs over every package but the end-to-end one
# (-short leaves out the slow fuzz seeds and the aws CLI runs of the protocol
# packages, which the first run has had, and hostnet's 3,000-ENI test). Two
# runs go beside the end-to-end tests, as they mostly wait for the kernel and
# containerd: hostnet's kernel tests in full, and the runtime's containerd
# tests, once, under the race detector. Each uses names of its own (prefixes,
# containerd namespaces), so none sees another's objects. The last step fails
# if any test left a namespace, link, nftables table, cgroup, containerd
# process or mount behind (the first records what an earlier, killed run
# left, not this run's doing). Each step starts with a line "== HH:MM:SS step",
# so that a log shows where the time went.
OTHERS = $$($(GO) list ./... | grep -v -e '/cmd/vpcsim$$' -e '/ecsapi/runtime$$')
UNITS  = $$($(GO) list ./... | grep -v -e '/cmd/vpcsim$$' -e '/ecsapi/runtime$$' -e '/hostnet$$')
test: EXTRA = $(TESTPKGS)
LEAKS   := $(shell mktemp -u /tmp/vpcsim-leaks.XXXXXX)
test: deps vet
	@echo "== $$(date +%T) what an earlier run left"
	VPCSIM_LEAK_CHECK=record VPCSIM_LEAK_BASELINE=$(LEAKS) $(GO) test -count=1 -run '^TestNothingLeftBehind$$' ./cmd/vpcsim
	@echo "== $$(date +%T) unit tests"
	$(GO) test -count=1 -timeout 10m $(UNITS)
	@echo "== $$(date +%T) race detector"
	$(GO) test -race -count=1 -short -timeout 10m $(OTHERS)
	@echo "== $$(date +%T) end-to-end, kernel and containerd tests"
	@rlog=$$(mktemp); hlog=$$(mktemp); \
	echo "$(GO) test -race -count=1 -timeout 30m ./ecsapi/runtime/ (beside the next, output below it)"; \
	$(GO) test -race -count=1 -timeout 30m ./ecsapi/runtime/ >$$rlog 2>&1 & runtime=$$!; \
	echo "$(GO) test -count=1 -timeout 20m ./hostnet/ (beside the next, output below it)"; \
	$(GO) test -count=1 -timeout 20m ./hostnet/ >$$hlog 2>&1 & kernel=$$!; \
	echo "$(GO) test -count=1 -parallel 4 -timeout 45m ./cmd/vpcsim"; \
	$(GO) test -count=1 -parallel 4 -timeout 45m ./cmd/vpcsim; e2e=$$?; \
	wait $$runtime; race=$$?; wait $$kernel; hostnet=$$?; \
	cat $$rlog $$hlog; rm -f $$rlog $$hlog; \
	[ $$e2e -eq 0 ] && [ $$race -eq 0 ] && [ $$hostnet -eq 0 ]
	@echo "== $$(date +%T) nothing left behind"
	VPCSIM_LEAK_CHECK=1 VPCSIM_LEAK_BASELINE=$(LEAKS) $(GO) test -count=1 -run '^TestNothingLeftBehind$$' ./cmd/vpcsim
	rm -f $(LEAKS)
	@echo "== $$(date +%T) done"

# unit runs the tests that need neither root nor the aws CLI.
unit:
	VPCSIM_REQUIRE_ROOT= $(GO) test -count=1 -short ./...

vet:
	$(GO) vet ./...

# bench prints figures, not pass/fail, and ends with them as tables and where the
# time went (cmd/benchtable): the security groups' rulesets (hostnet), then a real
# vpcsim: Describe calls beside moto_server's (when installed), RunTask/StopTask as
# tasks accumulate to 200, memory, ENI attach, TCP between tasks in awsvpc and in
# bridge mode. One package at a time, so that they do not disturb each other.
bench: deps build
	$(GO) run ./cmd/benchtable $(GO) test -v -p 1 -timeout 30m -run '^$$' -bench . -benchtime 20x ./...

# down removes every kernel object vpcsim made (names starting vs-).
down: build
	$(BIN) down

clean:
	rm -rf bin
