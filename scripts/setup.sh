#!/usr/bin/env bash
# Idempotent set-up behind `npm start`, `npm test` and `npm run bench`: Node packages (npm ci) and, unless
# --node-only, the trainer's Python environment (.venv over Debian's python3-torch, or DPTRAIN_PYTHON).
# Fast when nothing changed: each part is skipped while its stamp matches its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=0
node_only=0
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --node-only) node_only=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }

# onnxruntime-node's install step would download CUDA files from a host these machines cannot reach; the
# CPU build is inside the npm package (docs/gpu.md says how to add CUDA on a GPU machine).
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"

stamp_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

node_stamp=$(stamp_of package.json package-lock.json)
if [ ! -f node_modules/.setup-stamp ] || [ "$(cat node_modules/.setup-stamp)" != "$node_stamp" ]; then
  say "installing Node packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_stamp" > node_modules/.setup-stamp
fi
# CycloneDDS (the H1's DDS, 0.10.2 in Debian 12) for the direct DDS link: its native addon is optional and
# built only when the library and idlc are installed (docs/dds.md); the full set-up installs them as root.
if [ "$node_only" = 0 ] && [ "$(id -u)" = 0 ] && { [ ! -f /usr/include/dds/dds.h ] || ! command -v idlc >/dev/null; }; then
  say "installing cyclonedds-dev cyclonedds-tools (apt) for the DDS link"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cyclonedds-dev cyclonedds-tools >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cyclonedds-dev cyclonedds-tools >/dev/null; } ||
    echo "setup: could not install CycloneDDS; the DDS link stays unavailable" >&2
fi
if [ "$quiet" = 1 ]; then node native/dds/build.mjs --quiet 2>/dev/null || true; else node native/dds/build.mjs || true; fi
# The native sampler's C kernel (native/sampler), rebuilt when its sources change (npm ci's postinstall builds
# it too); without a C compiler the runtime runs ONNX Runtime's fused graph instead and says so.
if [ "$quiet" = 1 ]; then node native/sampler/build.mjs --quiet || true; else node native/sampler/build.mjs || true; fi
[ "$node_only" = 1 ] && exit 0

# Debian's Chromium, for the dashboard's end-to-end test (playwright-core drives it; no browser download).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  say "installing chromium (apt) for the browser test"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
fi

if [ -n "${DPTRAIN_PYTHON:-}" ]; then
  # A user-provided interpreter (e.g. PyTorch 2.x with CUDA): install the trainer into it once.
  if ! "$DPTRAIN_PYTHON" -c "import dptrain" 2>/dev/null; then
    say "installing the trainer into $DPTRAIN_PYTHON"
    "$DPTRAIN_PYTHON" -m pip install -q -e 'trainer[test,repro]'
  fi
  exit 0
fi

# Debian's PyTorch 1.13 (CPU) with OpenBLAS (8x faster than the reference BLAS it links otherwise);
# python3-venv for the virtual environment; Debian's matplotlib for the reproductions' plots (pip's would
# replace Debian's numpy 1.24, which this torch is built against, with a newer one).
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == *"ok installed"* ]]; }
if ! /usr/bin/python3 -c "import torch, venv, ensurepip, matplotlib" 2>/dev/null || ! installed libopenblas0-pthread; then
  packages="python3-torch libopenblas0-pthread python3-venv python3-pip python3-matplotlib"
  if [ "$(id -u)" != 0 ]; then
    echo "setup: the trainer needs Debian packages: sudo apt-get install -y $packages" >&2
    echo "       (or set DPTRAIN_PYTHON to a Python with PyTorch >= 1.13)" >&2
    exit 1
  fi
  say "installing $packages (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends $packages >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages >/dev/null; }
fi

py_stamp=$(stamp_of trainer/pyproject.toml trainer/constraints-debian-torch.txt)
if [ ! -x .venv/bin/python ] || [ ! -f .venv/.setup-stamp ] || [ "$(cat .venv/.setup-stamp)" != "$py_stamp" ]; then
  say "creating .venv (with Debian's torch) and installing the trainer"
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -c trainer/constraints-debian-torch.txt -e 'trainer[test]'
  echo "$py_stamp" > .venv/.setup-stamp
fi

# The Python cyclonedds package (the DDS tests' independent peer), built against the system's CycloneDDS:
# PyPI has no 0.10.2 wheel for this Python, and its build wants one prefix holding include/, bin/, lib/.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
if [ -f /usr/include/dds/dds.h ] && [ -f "/usr/lib/$multiarch/libddsc.so" ] && ! .venv/bin/python -c "import cyclonedds" 2>/dev/null; then
  say "installing the Python cyclonedds package (0.10.2, against the system's CycloneDDS) into .venv"
  home=.venv/cyclonedds-home
  mkdir -p "$home" && ln -sfn /usr/include "$home/include" && ln -sfn /usr/bin "$home/bin" && ln -sfn "/usr/lib/$multiarch" "$home/lib"
  CYCLONEDDS_HOME="$PWD/$home" .venv/bin/python -m pip install -q --disable-pip-version-check --no-cache-dir -e 'trainer[dds]' ||
    echo "setup: the Python cyclonedds package did not build; the DDS peer test will say so" >&2
fi
