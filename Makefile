# Image URL to use all building/pushing image targets
IMG ?= ghcr.io/tokenwarden/tokenwarden:latest

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

CONTAINER_TOOL ?= docker

.DEFAULT_GOAL := help

##@ General

# The help target prints out all targets with their descriptions organized beneath their
# categories. The categories are represented by '##@' and the target descriptions by '##'.
.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the ClusterRole and CustomResourceDefinition objects.
	go tool controller-gen rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	cp config/crd/bases/oauth.tokenwarden.io_oauthconnections.yaml charts/tokenwarden/crds/

.PHONY: generate
generate: ## Generate code containing DeepCopy, DeepCopyInto, and DeepCopyObject method implementations.
	go tool controller-gen object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

# GO_TEST_FLAGS adds flags to go test, e.g. GO_TEST_FLAGS="-run TestProvider -v".
GO_TEST_FLAGS ?=

# The controller's envtest suite alone takes 8 to 9 minutes on a loaded 2-core machine:
# go test's default 10-minute timeout would kill it on a slower one.
.PHONY: test
test: manifests generate fmt vet envtest helm kustomize promtool lint ## Run lint, unit and envtest integration tests.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./... -timeout 40m -coverprofile cover.out $(GO_TEST_FLAGS)

# DEMO_ARGS adds flags to the demo, e.g. DEMO_ARGS=--once.
DEMO_ARGS ?=

.PHONY: demo
demo: envtest plugin ## Run the whole product locally: control plane, fake providers, manager, one connection per provider.
	go build -o "$(LOCALBIN)/demo" ./hack/demo
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" "$(LOCALBIN)/demo" $(DEMO_ARGS)

# BENCH_N selects the numbers of connections, e.g. BENCH_N=1000.
BENCH_N ?= 1000,10000
BENCH_ARGS ?=

.PHONY: bench
bench: envtest build ## Measure the manager at scale beside the bare-client floor (docs/benchmarks.md).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./hack/bench -n $(BENCH_N) $(BENCH_ARGS)

.PHONY: lint
lint: golangci-lint ## Run golangci-lint linter.
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes.
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration.
	"$(GOLANGCI_LINT)" config verify

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build manager binary.
	go build -o bin/manager ./cmd

# PLUGIN_VERSION is what kubectl tokenwarden --version prints.
PLUGIN_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-tokenwarden (put bin/ on PATH: kubectl tokenwarden).
	go build -ldflags "-X main.version=$(PLUGIN_VERSION)" -o bin/kubectl-tokenwarden ./cmd/kubectl-tokenwarden

.PHONY: run
run: manifests generate fmt vet ## Run a controller from your host against the cluster in ~/.kube/config.
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build docker image with the manager.
	$(CONTAINER_TOOL) build -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

.PHONY: build-installer
build-installer: manifests generate install-overlay ## Generate a consolidated YAML with CRDs and deployment (dist/install.yaml).
	mkdir -p dist
	"$(KUSTOMIZE)" build "$(INSTALL_OVERLAY)" > dist/install.yaml

# The image is set in an overlay under bin/ (config/default with IMG), so that deploying
# or building the installer never edits a file git tracks.
INSTALL_OVERLAY = $(CURDIR)/bin/install
DEFAULT_IMG_NAME = ghcr.io/tokenwarden/tokenwarden

.PHONY: install-overlay
install-overlay: kustomize
	@rm -rf "$(INSTALL_OVERLAY)" && mkdir -p "$(INSTALL_OVERLAY)"
	@cd "$(INSTALL_OVERLAY)" && "$(KUSTOMIZE)" create --resources ../../config/default && "$(KUSTOMIZE)" edit set image $(DEFAULT_IMG_NAME)=$(IMG)

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

KUBECTL ?= kubectl

.PHONY: install
install: manifests kustomize ## Install CRDs into the K8s cluster specified in ~/.kube/config.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" apply -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall CRDs from the K8s cluster. Call with ignore-not-found=true to ignore resource not found errors.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests install-overlay ## Deploy controller to the K8s cluster specified in ~/.kube/config.
	"$(KUSTOMIZE)" build "$(INSTALL_OVERLAY)" | "$(KUBECTL)" apply -f -

.PHONY: undeploy
undeploy: kustomize ## Undeploy controller from the K8s cluster. Call with ignore-not-found=true to ignore resource not found errors.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0

## envtest: kube-apiserver, etcd, kube-controller-manager (garbage collection and
## namespace deletion for the demo and the README test) and kubectl, built from Go modules
## (hack/envtest), because setup-envtest cannot download binaries here. A
## KUBEBUILDER_ASSETS you set wins.
ENVTEST_DIR ?= $(LOCALBIN)/k8s
ENVTEST_ASSETS = $(if $(KUBEBUILDER_ASSETS),$(KUBEBUILDER_ASSETS),$(ENVTEST_DIR))
ENVTEST_SOURCES = hack/envtest/go.mod hack/envtest/go.sum hack/envtest/etcd/main.go
ENVTEST_BINS = $(addprefix $(ENVTEST_DIR)/,kube-apiserver etcd kube-controller-manager kubectl)

.PHONY: envtest
envtest: $(if $(KUBEBUILDER_ASSETS),,$(ENVTEST_BINS)) ## Build kube-apiserver, etcd, kube-controller-manager and kubectl into bin/k8s (about 12 minutes once, then cached).

# One go build for all four: they share most packages, and it compiles them in parallel.
$(ENVTEST_BINS) &: $(ENVTEST_SOURCES)
	@mkdir -p "$(ENVTEST_DIR)"
	@echo "Building kube-apiserver, etcd, kube-controller-manager and kubectl from Go modules (once; several minutes)..."
	cd hack/envtest && go build -trimpath -o "$(ENVTEST_DIR)/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl ./etcd
	@touch $(ENVTEST_BINS)

## helm: built from Go modules (hack/helm), because no prebuilt binary can be downloaded here.
HELM ?= $(LOCALBIN)/helm
HELM_SOURCES = hack/helm/go.mod hack/helm/go.sum

.PHONY: helm
helm: $(HELM) ## Build helm from Go modules into bin/helm (about 3-8 minutes once, then cached).
$(HELM): $(HELM_SOURCES) | $(LOCALBIN)
	@echo "Building helm from Go modules (once; a few minutes)..."
	cd hack/helm && go build -trimpath -o "$@" \
		-ldflags "-X helm.sh/helm/v4/internal/version.version=$$(go list -m -f '{{.Version}}' helm.sh/helm/v4)" \
		helm.sh/helm/v4/cmd/helm

## promtool: built from Go modules (hack/promtool), because no prebuilt binary can be
## downloaded here; test/alerts runs it on the shipped alerts. Prometheus' module version
## v0.3XX.Y is its release 3.XX.Y.
PROMTOOL ?= $(LOCALBIN)/promtool
PROMTOOL_SOURCES = hack/promtool/go.mod hack/promtool/go.sum

.PHONY: promtool
promtool: $(PROMTOOL) ## Build Prometheus' promtool from Go modules into bin/promtool (a few minutes once, then cached).
$(PROMTOOL): $(PROMTOOL_SOURCES) | $(LOCALBIN)
	@echo "Building promtool from Go modules (once; a few minutes)..."
	cd hack/promtool && go build -trimpath -o "$@" \
		-ldflags "-X github.com/prometheus/common/version.Version=$$(go list -m -f '{{.Version}}' github.com/prometheus/prometheus | sed -E 's/^v0\.([0-9])0?([0-9]+)\./\1.\2./')" \
		github.com/prometheus/prometheus/cmd/promtool

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef
