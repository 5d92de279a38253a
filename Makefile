# Lượt — the two commands a newcomer runs: `make demo` and `make test`.
# Each sets itself up: Debian packages where missing, a virtualenv in .venv.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages: the broker, chrony (the tests run its generated configurations), a font
# with Vietnamese letters, speech for the default voice pack, zbar to decode QR codes in
# tests, FAT tools for SD images, apt-utils and gpg to index and sign the centre's offline
# repository, the city tier's engines (a RabbitMQ cluster and PostgreSQL, started by the
# tests) and Chromium with its driver for the pages' browser tests (nothing downloads a browser).
DEB_PACKAGES := mosquitto chrony fonts-dejavu-core espeak-ng libzbar0 dosfstools mtools python3-venv apt-utils gpg rabbitmq-server postgresql chromium chromium-driver

.PHONY: test demo lint bench system clean pi-test

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -p no:cacheprovider

demo: $(STAMP)
	$(PY) -m luot demo

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	for b in dispatcher_throughput call_latency counter kiosk display faults provision web city; do \
		$(PY) -m bench.$$b --quick | tail -1; done

system:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	[ -x /usr/sbin/chronyd ] || missing="$$missing chrony"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	ldconfig -p 2>/dev/null | grep -q libzbar.so || missing="$$missing libzbar0"; \
	command -v mkfs.vfat >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.vfat ] || missing="$$missing dosfstools"; \
	command -v mcopy >/dev/null 2>&1 || missing="$$missing mtools"; \
	python3 -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v apt-ftparchive >/dev/null 2>&1 || missing="$$missing apt-utils"; \
	command -v gpg >/dev/null 2>&1 || missing="$$missing gpg"; \
	[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing="$$missing rabbitmq-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml | system
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) artifacts demo-output *.egg-info

# The proof of the offline install (not part of `make test`): emulated arm64 Pis, network cut.
# Needs root, mmdebstrap and qemu-user-static; the internet only for its first, cached step.
PI_PACKAGES := mmdebstrap qemu-user-static binfmt-support
pi-test: $(STAMP)
	@command -v mmdebstrap >/dev/null 2>&1 && [ -x /usr/bin/qemu-aarch64-static ] || { \
		$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(PI_PACKAGES); }
	$(SUDO) $(PY) -m bench.pitest
