"""botocore's and moto's JSON files through the load cache: the same documents, from disk while a file is unchanged."""

from __future__ import annotations

import decimal
import importlib
import json
import os
import pickle
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import boto3
import botocore.loaders
import botocore.session
import pytest

from drs_parity.fixtures.disk_cache import LOAD_CACHE_ENV, derived_file_cache, file_signature
from drs_parity.world import model_cache
from drs_parity.fixtures.kept_documents import cached_document, load_document
from drs_parity.world.model_cache import (BOTOCORE_KIND, LoaderSharing, install_botocore_cache,
                                          install_moto_resource_cache, shared_loader)
from drs_parity.world.world import World


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The load cache in a folder of its own, botocore's loaders reading through it (as while a world runs)."""
    monkeypatch.setenv(LOAD_CACHE_ENV, str(tmp_path / "loads"))
    undo = install_botocore_cache()
    yield tmp_path / "loads"
    undo()


def ordered_items(document: Any) -> Any:
    """The document with every mapping as its ordered list of items and its type: equal only if order and types are."""
    if isinstance(document, dict):
        return (type(document).__name__, [(key, ordered_items(value)) for key, value in document.items()])
    if isinstance(document, list):
        return [ordered_items(value) for value in document]
    return (type(document).__name__, document)


def botocore_own(service: str, type_name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as switched_off:
        switched_off.setenv(LOAD_CACHE_ENV, "off")
        return botocore.loaders.Loader().load_service_model(service, type_name)


def never_parsed(_: Any, full_path: str, __: Any) -> None:
    """botocore's reading of a file, for a test where existing files must come from the cache."""
    if os.path.isfile(full_path):
        pytest.fail(f"{full_path} parsed again")


@pytest.mark.parametrize("service, type_name", [("ec2", "service-2"), ("drs", "service-2"),
                                                ("dynamodb", "endpoint-rule-set-1")])
def test_a_model_read_from_the_cache_equals_botocores_own_in_order_and_types(
        service: str, type_name: str, cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = botocore_own(service, type_name, monkeypatch)
    written = botocore.loaders.Loader().load_service_model(service, type_name)
    monkeypatch.setattr(model_cache, "_original_load_file", never_parsed)

    from_cache = botocore.loaders.Loader().load_service_model(service, type_name)

    assert list((cache_folder / BOTOCORE_KIND).iterdir())
    assert ordered_items(from_cache) == ordered_items(written) == ordered_items(own)
    assert from_cache is not written  # every load is a document of its own, as botocore's


def test_endpoints_and_a_boto3_session_work_from_the_cache(cache_folder: Path) -> None:
    for _ in range(2):  # written, then read
        session = boto3.session.Session(botocore_session=botocore.session.get_session())
        regions = session.get_available_regions("ec2")
        client = session.client("dynamodb", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")

    assert "us-east-1" in regions and client.meta.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"


def write_json(path: Path, document: Any, mtime_ns: int) -> str:
    path.write_text(json.dumps(document))
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return str(path)


def parsed(source: str) -> Any:
    return cached_document("test", "v1", source, lambda: json.loads(Path(source).read_text(),
                                                                     object_pairs_hook=OrderedDict))


def test_a_file_changed_since_its_entry_is_parsed_again(cache_folder: Path, tmp_path: Path) -> None:
    source = write_json(tmp_path / "doc.json", {"value": 1}, 1_700_000_000_000_000_000)
    first = parsed(source)
    write_json(tmp_path / "doc.json", {"value": 2}, 1_700_000_000_000_000_000)  # same time, same size
    same_signature = parsed(source)
    write_json(tmp_path / "doc.json", {"value": 3}, 1_700_000_000_000_000_001)

    assert (first, same_signature, parsed(source)) == ({"value": 1}, {"value": 1}, {"value": 3})


class Exploit:
    def __reduce__(self) -> Any:
        return (sys.exit, ("an entry ran code",))


@pytest.mark.parametrize("payload", [b"\x80\x05truncated", pickle.dumps(Exploit()),
                                     pickle.dumps(decimal.Decimal(1))])
def test_a_corrupt_or_foreign_entry_is_parsed_again_and_never_run(payload: bytes, cache_folder: Path,
                                                                  tmp_path: Path) -> None:
    source = write_json(tmp_path / "doc.json", {"value": 1}, 1_700_000_000_000_000_000)
    signature = file_signature(source)
    cache = derived_file_cache()
    assert cache is not None and signature is not None
    cache.write("test", "v1", source, signature, payload)

    assert parsed(source) == {"value": 1}
    rewritten = cache.read("test", "v1", source, signature)
    assert rewritten is not None and load_document(rewritten) == {"value": 1}


def test_an_unwritable_cache_only_parses_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "blocker").write_text("not a folder")
    monkeypatch.setenv(LOAD_CACHE_ENV, str(tmp_path / "blocker" / "loads"))

    model = botocore.loaders.Loader().load_service_model("drs", "service-2")

    assert ordered_items(model) == ordered_items(botocore_own("drs", "service-2", monkeypatch))


def test_moto_resources_read_from_the_cache_equal_motos_own(cache_folder: Path) -> None:
    from moto.utilities import utils

    install_moto_resource_cache()
    own = utils.load_resource.moto_original("ec2/resources/instance_types.json")  # type: ignore[attr-defined]
    utils.load_resource("ec2/resources/instance_types.json")

    from_cache = utils.load_resource("ec2/resources/instance_types.json")

    assert from_cache == own and list((cache_folder / "moto").iterdir())


def test_services_are_listed_once_per_process_as_botocore_lists_them() -> None:
    loader = shared_loader()
    loader.search_paths.append(loader.search_paths[-1])  # a repeated path lists nothing new

    listed = loader.list_available_services("service-2")
    again = botocore.loaders.Loader().list_available_services("service-2")

    assert listed == model_cache._original_list_services(botocore.loaders.Loader(), "service-2") == again
    assert "drs" in listed and listed is not again


def test_the_shared_loader_keeps_boto3s_data_folder_once_however_many_sessions_use_it() -> None:
    loader = shared_loader()
    for _ in range(3):
        session = botocore.session.get_session()
        session.register_component("data_loader", loader)
        boto3.session.Session(botocore_session=session)

    assert len(loader.search_paths) == len(set(loader.search_paths)) == len(botocore.loaders.Loader().search_paths) + 1


@pytest.fixture
def module_folder(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "makes_a_session.py").write_text("from boto3 import Session\n\nAT_IMPORT = Session()\n")
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("makes_a_session", None)


def test_sessions_made_by_modules_imported_while_sharing_share_the_loader(module_folder: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    loader = shared_loader()
    sharing = LoaderSharing(loader)
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)

    first, second = sharing.install(), sharing.install()  # two worlds starting at once
    try:
        module = importlib.import_module("makes_a_session")
        at_import = module.AT_IMPORT._session.get_component("data_loader")
    finally:
        second()
        first()

    assert at_import is loader
    assert boto3.Session()._session.get_component("data_loader") is not loader  # undone: others' Sessions as ever


def test_sessions_made_while_loader_sharing_is_installed_load_through_the_shared_loader(
        monkeypatch: pytest.MonkeyPatch) -> None:
    loader = shared_loader()
    sharing = LoaderSharing(loader)
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)

    undo = sharing.install()
    try:
        shared = [boto3.Session(region_name="us-east-1")._session.get_component("data_loader") for _ in range(2)]
        monkeypatch.setenv("AWS_DATA_PATH", "/nonexistent/models")
        own_path = boto3.Session(region_name="us-east-1")._session.get_component("data_loader")
    finally:
        undo()
    monkeypatch.delenv("AWS_DATA_PATH")
    after = boto3.Session(region_name="us-east-1")._session.get_component("data_loader")

    assert shared == [loader, loader]
    assert own_path is not loader and "/nonexistent/models" in own_path.search_paths  # a data path of its own
    assert after is not loader


def test_botocores_files_go_through_the_cache_only_while_a_world_runs() -> None:
    own_load, own_listing = botocore.loaders.JSONFileLoader._load_file, botocore.loaders.Loader.list_available_services

    with World():
        during = botocore.loaders.JSONFileLoader._load_file, botocore.session.create_loader

    assert during[0] is not own_load and during[1] is not model_cache._original_create_loader
    assert botocore.loaders.JSONFileLoader._load_file is own_load
    assert botocore.loaders.Loader.list_available_services is own_listing
    assert botocore.session.create_loader is model_cache._original_create_loader
