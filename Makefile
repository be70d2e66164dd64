# Quiver build and test entry points. Needs only Go (modules download on
# first use); `make bench` and `make tpch-sf1` also need python3.
GO          ?= go
BIN         ?= bin/quiver
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
TEST_TIMEOUT ?= 20m
LISTEN      ?= 127.0.0.1:32010
TPCH_CACHE  ?= $(HOME)/.cache/quiver-tpch
SF1_DIR     ?= $(TPCH_CACHE)/sf1

.PHONY: build run test fuzz-short vet bench tpch-sf1 clean test-clients test-python test-java client-bin proto

# Real-client suites (make test-clients): downloads are cached under .cache/.
CACHE       ?= $(CURDIR)/.cache
CLIENT_BIN  := $(CACHE)/quiver-clients-test
LBPROXY_BIN := $(CACHE)/lbproxy-clients-test
PY_VENV     := $(CACHE)/py-venv
PY_REQS     := integration/python/requirements.txt
M2_REPO     := $(CACHE)/m2
MVN         ?= mvn

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/quiver

run: build
	$(BIN) serve --data testdata/tpch-sf0.01 --default-schema tpch --listen $(LISTEN)

vet:
	$(GO) vet ./...

# Unit tests of every package, then the integration tests (sqllogictest
# corpus in-process and over Flight SQL, TPC-H SF 0.01, the real binary).
test: vet
	$(GO) test -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) fuzz-short
	$(MAKE) test-clients

# A few seconds of new inputs for the fuzz targets that guard client input
# (`go test ./...` runs only their seeds).
FUZZTIME    ?= 5s
fuzz-short:
	$(GO) test ./server -run '^$$' -fuzz '^FuzzFlightCommand$$' -fuzztime $(FUZZTIME)
	$(GO) test ./planner/parse -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

# The real drivers against a real `quiver serve`: Python ADBC + pyarrow
# (pytest, PyPI) and the Flight SQL JDBC driver (JUnit + sqlline, Maven
# Central). Each installs its client itself; a failed install fails the target.
test-clients: test-python test-java

client-bin:
	$(GO) build -o $(CLIENT_BIN) ./cmd/quiver
	$(GO) build -o $(LBPROXY_BIN) ./integration/lbproxy/cmd/lbproxy

$(PY_VENV)/.installed: $(PY_REQS)
	rm -rf $(PY_VENV)
	python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install -q --disable-pip-version-check -r $(PY_REQS)
	touch $@

test-python: client-bin $(PY_VENV)/.installed
	QUIVER_BIN=$(CLIENT_BIN) LBPROXY_BIN=$(LBPROXY_BIN) $(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider integration/python

# Needs a JDK 17+ and Maven; artifacts are cached in .cache/m2.
test-java: client-bin
	$(MVN) -q -B -Dmaven.repo.local=$(M2_REPO) -Dquiver.bin=$(CLIENT_BIN) -Dlbproxy.bin=$(LBPROXY_BIN) -f integration/java/pom.xml test

# Quiver (over Flight SQL) against DuckDB and DataFusion on the same Parquet
# files, answers checked; writes docs/benchmarks.md. BENCH_SF (default 1) is
# generated into the cache on first use unless BENCH_DATA names existing data;
# BENCH_FLAGS passes options (--only, --runs, --scaling, --nodes 1 to skip the
# 3-node loopback cluster run, ...) to the harness.
BENCH_SF    ?= 1
BENCH_DATA  ?= $(TPCH_CACHE)/sf$(BENCH_SF)
BENCH_FLAGS ?=
bench: build
	@test -d $(BENCH_DATA)/tpch || integration/tpch/gen.sh $(BENCH_SF) $(BENCH_DATA)
	$(GO) run ./integration/bench --quiver $(BIN) --data $(BENCH_DATA) --sf $(BENCH_SF) --out docs/benchmarks.md $(BENCH_FLAGS)

# Generate SF 1 into the cache (once) and check all 22 answers (not in CI).
tpch-sf1:
	@test -d $(SF1_DIR)/tpch || integration/tpch/gen.sh 1 $(SF1_DIR)
	QUIVER_TPCH_DIR=$(SF1_DIR) QUIVER_TPCH_ANSWERS=$(CURDIR)/integration/tpch/answers/sf1 \
		$(GO) test -timeout 60m -count=1 -run 'TestTPCH$$' -v ./integration/

# Regenerate the committed protobuf code (cluster/planpb). Not part of
# `make test`: builds never need protoc. protoc comes from PyPI's
# grpcio-tools, protoc-gen-go at the google.golang.org/protobuf version of
# go.mod; both are cached under .cache/.
PROTO_VENV  := $(CACHE)/proto-venv
PROTOC_GEN_GO_VERSION := $(shell $(GO) list -m -f '{{.Version}}' google.golang.org/protobuf)
proto:
	test -x $(PROTO_VENV)/bin/python || python3 -m venv $(PROTO_VENV)
	$(PROTO_VENV)/bin/python -c 'import grpc_tools' 2>/dev/null || $(PROTO_VENV)/bin/pip install -q --disable-pip-version-check grpcio-tools
	GOBIN=$(CACHE)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	$(PROTO_VENV)/bin/python -m grpc_tools.protoc --plugin=protoc-gen-go=$(CACHE)/bin/protoc-gen-go \
		-I cluster/planpb --go_out=cluster/planpb --go_opt=paths=source_relative cluster/planpb/plan.proto

clean:
	rm -rf bin
