"""Every name the package promises in __all__ resolves to a real object."""

import subprocess
import sys

import hotspot_app


def test_every_public_name_resolves():
    for name in hotspot_app.__all__:
        assert getattr(hotspot_app, name) is not None, name


def test_import_stays_light():
    # The CLI imports the package on every call: heavy libraries load only when used.
    code = "import sys, hotspot_app; print(any(m in sys.modules for m in ('statsmodels', 'sklearn', 'streamlit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
