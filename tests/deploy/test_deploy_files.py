"""What deploy/ gives to Docker, Compose and Kubernetes, checked without running any of them: the image holds
every package and data file, every YAML parses, and every command, setting and file path it names is real."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import typer.main
import yaml
from pydantic import AliasChoices
from typer.testing import CliRunner

from cli.main import app as jfc_app
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
JFC_IMAGES = ("jfc:local", "registry.example/jfc")  # the image deploy/Dockerfile builds, locally and in the registry
OFFICIAL_IMAGES = {"postgres", "temporalio/auto-setup", "temporalio/server", "temporalio/admin-tools",
                   "temporalio/ui"}


# ---- the image -----------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, rest), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def copied() -> set[str]:
    """Every source path a COPY takes from the build context."""
    sources: set[str] = set()
    for instruction, rest in dockerfile():
        if instruction == "COPY":
            parts = [p for p in rest.split() if not p.startswith("--")]
            sources.update(p.rstrip("/") for p in parts[:-1])
    return sources


def declared_packages() -> set[str]:
    """The top-level packages `[tool.setuptools.packages.find]` includes (or `packages` lists)."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    if "packages" in setuptools and isinstance(setuptools["packages"], list):
        return {name.split(".")[0] for name in setuptools["packages"]}
    patterns = setuptools["packages"]["find"]["include"]
    found = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    packages = {name for name in found if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)}
    for pattern in patterns:  # every pattern names a package that exists
        assert any(fnmatch.fnmatch(name, pattern) for name in packages), f"{pattern!r} matches no package"
    return packages


def test_the_image_copies_every_declared_package_and_what_the_build_reads() -> None:
    packages = declared_packages()
    assert {"store", "config", "cli"} <= packages
    missing = packages - copied()
    assert not missing, f"deploy/Dockerfile does not COPY {sorted(missing)}: the image cannot import them"
    assert {"pyproject.toml", PYPROJECT["project"]["readme"]} <= copied()


def test_the_config_data_files_ship_in_the_package() -> None:
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert "config" in copied()
    tomls = sorted((ROOT / "config").glob("*.toml"))
    assert {p.name for p in tomls} >= {"agencies.toml", "rules.toml", "incentives.toml"}
    defaults = Settings()
    for path in [*tomls, defaults.agencies_file, defaults.rules_file, defaults.incentives_file]:
        relative = Path(path).resolve().relative_to(ROOT)
        package, name = relative.parts[0], "/".join(relative.parts[1:])
        assert Path(path).is_file(), path
        assert any(fnmatch.fnmatch(name, glob) for glob in package_data.get(package, [])), (
            f"{relative} is not in [tool.setuptools.package-data]: the installed package would miss it")
    migrations = sorted((ROOT / "store" / "migrations").glob("*.sql"))
    assert migrations and all(any(fnmatch.fnmatch(f"migrations/{m.name}", g) for g in package_data["store"])
                              for m in migrations)


# ---- the manifests -------------------------------------------------------------------

def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def k8s_documents() -> list[dict[str, Any]]:
    return [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_containers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(pod spec, container) of every workload."""
    for doc in k8s_documents():
        if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            pod = doc["spec"]["template"]["spec"]
            for container in pod["containers"]:
                yield pod, container


def is_jfc(image: str) -> bool:
    return image.split(":")[0] in {i.split(":")[0] for i in JFC_IMAGES}


def config_maps() -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc.get("data", {}) for doc in k8s_documents() if doc["kind"] == "ConfigMap"}


def k8s_env(container: dict[str, Any]) -> dict[str, str]:
    """What a container is told: its `env` and the ConfigMaps it loads (Secrets hold what README names)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps()[source["configMapRef"]["name"]])
    env.update({item["name"]: item.get("value", "") for item in container.get("env", [])})
    return env


def setting_names() -> set[str]:
    """Every environment variable config/settings.py reads."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def jfc_commands() -> set[str]:
    return set(typer.main.get_command(jfc_app).commands)


def test_every_yaml_parses_and_names_known_images() -> None:
    services = compose()["services"]
    assert {"postgresql", "temporal", "search-attributes", "worker", "api", "temporal-ui"} <= set(services)
    images = [s["image"] for s in services.values()] + [c["image"] for _, c in k8s_containers()]
    for image in images:
        image = re.sub(r"\$\{[^}:]+:-([^}]+)\}", r"\1", image)  # a version variable's default
        assert is_jfc(image) or image.split(":")[0] in OFFICIAL_IMAGES, image
    assert services["postgresql"]["image"].startswith("postgres:16")
    assert services["temporal"]["environment"]["DB"].startswith("postgres")  # PostgreSQL persistence
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["build"]["dockerfile"] == "deploy/Dockerfile"
    kinds = [doc["kind"] for doc in k8s_documents()]
    assert kinds.count("Deployment") == 2 and "Job" in kinds


def test_the_search_attributes_are_registered_as_the_code_names_them() -> None:
    from schemas.contracts import SEARCH_ATTR_NEXT_DEADLINE, SEARCH_ATTR_STATUS

    job = compose()["services"]["search-attributes"]
    scripts = [" ".join(job["command"])] + [" ".join(c.get("command", []) + c.get("args", []))
                                            for _, c in k8s_containers() if "admin-tools" in c["image"]]
    assert len(scripts) == 2
    for script in scripts:
        assert "temporal operator search-attribute create --namespace jfc" in script
        assert f"--name {SEARCH_ATTR_STATUS} --type Keyword" in script
        assert f"--name {SEARCH_ATTR_NEXT_DEADLINE} --type Datetime" in script


def jfc_invocations() -> Iterator[tuple[str, list[str]]]:
    """(where, argv after `jfc`) for every JFC container: the image's ENTRYPOINT is `jfc`."""
    for name, service in compose()["services"].items():
        if is_jfc(service["image"]):
            assert "entrypoint" not in service, name
            yield f"compose {name}", list(service["command"])
    for _, container in k8s_containers():
        if is_jfc(container["image"]):
            assert "command" not in container, container["name"]  # would replace the `jfc` entrypoint
            yield f"k8s {container['name']}", list(container["args"])
    [cmd] = [rest for instruction, rest in dockerfile() if instruction == "CMD"]
    yield "Dockerfile CMD", yaml.safe_load(cmd)


def test_every_jfc_command_is_a_real_subcommand() -> None:
    commands = jfc_commands()
    runner = CliRunner()
    seen = set()
    for where, argv in jfc_invocations():
        assert argv and argv[0] in commands, f"{where}: `jfc {' '.join(argv)}` is not a command ({sorted(commands)})"
        result = runner.invoke(jfc_app, [*argv, "--help"])
        assert result.exit_code == 0, (where, result.output)
        seen.add(argv[0])
    assert {"worker", "api"} <= seen


def jfc_environments() -> Iterator[tuple[str, dict[str, str]]]:
    for name, service in compose()["services"].items():
        if is_jfc(service["image"]):
            yield f"compose {name}", {k: str(v) for k, v in service["environment"].items()}
    for _, container in k8s_containers():
        if is_jfc(container["image"]):
            yield f"k8s {container['name']}", k8s_env(container)
    env = {}
    for instruction, rest in dockerfile():
        if instruction == "ENV":
            env.update(dict(item.split("=", 1) for item in rest.split()))
    yield "Dockerfile ENV", env


def test_every_variable_the_manifests_set_is_a_setting() -> None:
    names = setting_names()
    assert {"DATABASE_URL", "TEMPORAL_ADDRESS", "JFC_WORKER_METRICS_PORT", "JFC_RULES_FILE"} <= names
    for where, env in jfc_environments():
        unknown = [k for k in env if k not in names and not k.startswith("JFC_SECRET_")]
        assert not unknown, f"{where} sets {unknown}: no setting reads them (config/settings.py)"


def test_the_worker_serves_metrics_where_the_manifests_say(monkeypatch: pytest.MonkeyPatch) -> None:
    [(_, worker)] = [(p, c) for p, c in k8s_containers() if c.get("args") == ["worker"]]
    for variable, value in k8s_env(worker).items():
        if variable.startswith("JFC_WORKER_METRICS"):
            monkeypatch.setenv(variable, value)
    settings = Settings()
    assert (settings.worker_metrics_host, settings.worker_metrics_port) == ("0.0.0.0", 9464)
    assert {"containerPort": 9464, "name": "metrics"} in worker["ports"]


@pytest.mark.parametrize("where", ["k8s", "compose"])
def test_every_file_path_a_manifest_sets_is_mounted(where: str) -> None:
    path_settings = {name for name, field in Settings.model_fields.items() if field.annotation is Path}
    path_variables = {f"JFC_{name}".upper() for name in path_settings}
    assert {"JFC_AGENCIES_FILE", "JFC_RULES_FILE", "JFC_INCENTIVES_FILE", "JFC_STATE_DIR"} <= path_variables
    checked = 0
    if where == "k8s":
        for pod, container in k8s_containers():
            if not is_jfc(container["image"]):
                continue
            volumes = {v["name"]: v for v in pod["volumes"]}
            env = {**{"JFC_STATE_DIR": "/var/lib/jfc"}, **k8s_env(container)}  # the image sets the state folder
            for variable in path_variables & set(env):
                checked += 1
                path = PurePosixPath(env[variable])
                mounts = [m for m in container["volumeMounts"] if path.is_relative_to(m["mountPath"])]
                assert mounts, f"{container['name']}: {variable}={path} is on no volume"
                mount = max(mounts, key=lambda m: len(m["mountPath"]))
                volume = volumes[mount["name"]]
                if "configMap" in volume and path != PurePosixPath(mount["mountPath"]):
                    inside = str(path.relative_to(mount["mountPath"]))
                    items = [item["path"] for item in volume["configMap"].get("items", [])]
                    assert inside in items, f"{container['name']}: {variable}={path}: the ConfigMap gives {items}"
    else:
        for name, service in compose()["services"].items():
            if not is_jfc(service["image"]):
                continue
            env = {"JFC_STATE_DIR": "/var/lib/jfc", **service["environment"]}
            targets = [v.split(":")[1] for v in service["volumes"]]
            for variable in path_variables & set(env):
                checked += 1
                assert any(PurePosixPath(env[variable]).is_relative_to(t) for t in targets), (name, variable)
    assert checked
