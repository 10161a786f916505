"""The desktop bundle's inputs, checked without building it: desktop entry, icons, AppStream, spec, resources."""

from __future__ import annotations

import ast
import configparser
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from musicvae_app.model.pack import default_pack_dir
from musicvae_app.resources import icons_dir, resources_dir

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "musicvae-app.desktop"
METAINFO = PACKAGING / "io.github.musicvae_app.metainfo.xml"
SPEC = PACKAGING / "musicvae-app.spec"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # desktop keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_desktop_entry_starts_the_app_with_a_shipped_icon():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] and entry["Comment"]
    assert entry["Exec"].split()[0] == "musicvae-app"
    assert entry["Terminal"] == "false"
    assert "AudioVideo" in entry["Categories"].split(";")
    icon = entry["Icon"]
    assert (ROOT / "resources" / "icons" / f"{icon}.svg").is_file()
    for size in ICON_SIZES:
        assert png_size(ROOT / "resources" / "icons" / f"{icon}-{size}.png") == (size, size)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_desktop_entry_passes_validation():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_desktop_command_is_the_installed_script_and_the_bundle_executable():
    tomllib = pytest.importorskip("tomllib")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    command = desktop_entry()["Exec"].split()[0]
    assert scripts[command] == "musicvae_app.ui.launch:main"
    assert f'name="{command}"' in SPEC.read_text()


def test_metainfo_names_the_app():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == "io.github.musicvae_app"
    assert root.findtext("name") == "musicvae-app"
    assert root.findtext("summary")
    assert root.find("description/p") is not None and root.find("description/p").text.strip()
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == desktop_entry()["Exec"].split()[0]


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli is not installed")
def test_metainfo_passes_appstream_validation():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def spec_list(name: str) -> list[str]:
    """The strings in the spec's top-level `name = ...` list or tuple."""
    for node in ast.parse(SPEC.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return [n.value for n in ast.walk(node.value) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    raise AssertionError(f"the spec has no {name} list")


def test_spec_bundles_resources_and_leaves_out_tests_and_training():
    text = SPEC.read_text()
    assert 'RESOURCES = ROOT / "resources"' in text
    assert '"resources/models/default"' in text and '"resources/icons"' in text
    excludes = spec_list("excludes") + (spec_list("NOT_RUNTIME") if "*NOT_RUNTIME" in text else [])
    for left_out in ("tests", "pytest", "pypianoroll", "matplotlib", "musicvae_app.training"):
        assert left_out in excludes
    assert "checkpoint.pt" not in spec_list("PACK_FILES")


def test_build_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(PACKAGING / "build_bundle.sh")]).returncode == 0


def test_resources_from_a_source_checkout():
    assert resources_dir() == ROOT / "resources"
    assert (icons_dir() / "musicvae-app.svg").is_file()


def test_resources_from_a_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delenv("MUSICVAE_PACK", raising=False)
    assert resources_dir() == tmp_path / "resources"
    assert default_pack_dir() == tmp_path / "resources" / "models" / "default"


def test_window_icon_has_every_size(qapp):
    from musicvae_app.ui.app import app_icon

    sizes = {size.width() for size in app_icon().availableSizes()}
    assert sizes == set(ICON_SIZES)
