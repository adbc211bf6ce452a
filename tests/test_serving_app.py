"""The model server over HTTP: the real app, the real (tiny) model, a demo store in SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import torch
from aiohttp.test_utils import TestClient, TestServer
from safetensors.torch import load_file, save_file
from sqlalchemy import select

from recommender.serving.app import create_app
from recommender.serving.engine import RecommendationEngine
from store.db import make_engine, make_session_factory
from store.models import Coupon, Customer, Order, OrderLine, Product, Service
from store.rules import coupon_eligibility, granted_counts, service_applies
from store.settings import load_settings

TOKEN = "test-model-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> tuple[str, Path]:
    """A demo store (scale 0.03) and a tiny model trained on it, once per test session."""
    from recommender.train import main as train
    from store.demo.build import build_demo_store

    folder = tmp_path_factory.mktemp("serving")
    url = f"sqlite:///{folder / 'shop.db'}"
    build_demo_store(url, scale=0.03, progress=False)
    train(["--preset", "tiny", "--database-url", url, "--out", str(folder / "gpt"), "--threads", "1"])
    return url, folder / "gpt"


@pytest.fixture(scope="session")
def store(trained):
    """A session factory on the demo store."""
    engine = make_engine(trained[0])
    yield make_session_factory(engine)
    engine.dispose()


def buyer(store) -> str:
    """A customer with purchases."""
    with store() as session:
        return session.scalars(select(Customer.external_id).join(Order).order_by(Customer.id).limit(1)).one()


def loader(trained):
    url, model_dir = trained
    return lambda: RecommendationEngine.load(model_dir, database_url=url, threads=1)


@asynccontextmanager
async def serve(trained, factory=None, *, max_batch: int = 8, wait: bool = True):
    settings = load_settings(database_url=trained[0], model_server_token=TOKEN)
    app = create_app(settings, factory or loader(trained), max_batch=max_batch, max_wait_s=0.005)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        if wait:
            await until_ready(client)
        yield client
    finally:
        await client.close()


async def until_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (await client.get("/readyz")).status != 200:
        assert time.monotonic() < deadline, "the model never became ready"
        await asyncio.sleep(0.05)


async def recommend(client: TestClient, **body):
    response = await client.post("/v1/recommend", json=body, headers=AUTH)
    return response.status, await response.json()


async def test_warming_up_answers_503_then_200(trained):
    release = threading.Event()
    real = loader(trained)

    def slow():
        release.wait(30)
        return real()

    async with serve(trained, slow, wait=False) as client:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 503
        status, body = await recommend(client, conversation="hello", k=3)
        assert (status, body) == (503, {"error": "warming_up"})
        assert (await client.get("/metrics", headers=AUTH)).status == 503
        release.set()
        await until_ready(client)
        status, body = await recommend(client, conversation="hello", k=3)
        assert status == 200 and len(body["items"]) == 3


async def test_bad_requests_get_400_naming_the_field(trained):
    cases = [
        ({"k": 0}, "k"), ({"k": 51}, "k"), ({"k": "3"}, "k"), ({"k": True}, "k"),
        ({"conversation": "x" * 4001}, "conversation"), ({"conversation": 7}, "conversation"),
        ({"kind": "car"}, "kind"), ({"colour": "red"}, "colour"), ({"budget": 0}, "budget"),
        ({"language": "fr"}, "language"), ({"customer_id": 12}, "customer_id"), ({"explain": "yes"}, "explain"), ({"category": "no-such"}, "category"),
    ]
    async with serve(trained) as client:
        for body, field in cases:
            status, answer = await recommend(client, **body)
            assert status == 400, body
            assert answer["error"] == "invalid_request" and answer["field"] == field, (body, answer)
        response = await client.post("/v1/recommend", data=b"{not json", headers=AUTH)
        assert response.status == 400 and (await response.json())["field"] == "body"
        response = await client.post("/v1/recommend", data=b"[1]", headers=AUTH)
        assert response.status == 400
        response = await client.post("/v1/recommend", data=b"x" * 70_000, headers=AUTH)
        assert response.status == 413


async def test_auth_is_required_except_for_health(trained):
    async with serve(trained) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await client.post("/v1/recommend", json={"k": 3}, headers=headers)
            assert response.status == 401 and (await response.json()) == {"error": "unauthorized"}
            assert (await client.get("/metrics", headers=headers)).status == 401
            response = await client.post("/v1/admin/adapter", json={"path": "/x", "name": "x"}, headers=headers)
            assert response.status == 401
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 200


async def test_signed_in_customer_gets_k_sellable_products_with_evidence(trained, store):
    customer = buyer(store)
    async with serve(trained) as client:
        status, body = await recommend(client, customer_id=customer, conversation="something for my kitchen", k=6)
        assert status == 200 and len(body["items"]) == 6
        assert body["model_version"].startswith("gpt/default/") and len(body["model_version"].split("/")[2]) == 10
        with store() as session:
            bought = set(session.scalars(select(Product.sku).join(OrderLine).join(Order).join(Customer)
                                         .where(Customer.external_id == customer)))
            for item in body["items"]:
                product = session.scalars(select(Product).where(Product.sku == item["id"])).one()
                assert product.active and product.stock > 0
                assert product.repurchase_days or item["id"] not in bought
        evidence = [e for item in body["items"] for e in item["evidence"]]
        assert evidence, "no item carried evidence"
        assert {e["type"] for e in evidence} <= {"purchase", "consultation", "conversation"}
        assert all(e["text"] and e["weight"] > 0 for e in evidence)
        assert all(e["date"] for e in evidence if e["type"] != "conversation")
        scores = [item["score"] for item in body["items"]]
        assert scores == sorted(scores, reverse=True)

        status, body = await recommend(client, customer_id=customer, k=5, category="kitchen", budget=300)
        assert status == 200 and body["items"]
        with store() as session:
            for item in body["items"]:
                product = session.scalars(select(Product).where(Product.sku == item["id"])).one()
                assert product.category.code == "kitchen" and float(product.price) <= 300

        status, body = await recommend(client, customer_id="NO-SUCH-CUSTOMER", k=3)
        assert status == 404 and body["error"] == "unknown_customer"


async def test_anonymous_visitor_is_scored_from_text_alone(trained):
    async with serve(trained) as client:
        status, body = await recommend(client, customer_id=None, conversation="我想买一双跑步鞋", language="zh", k=4)
        assert status == 200 and len(body["items"]) == 4 and body["customer_id"] is None
        assert {e["type"] for item in body["items"] for e in item["evidence"]} <= {"conversation"}
        status, other = await recommend(client, conversation="a coffee machine for the office", k=4)
        assert status == 200 and [i["id"] for i in other["items"]] != [i["id"] for i in body["items"]]
        status, bare = await recommend(client, conversation="我想买一双跑步鞋", language="zh", k=4, explain=False)
        assert status == 200 and [i["id"] for i in bare["items"]] == [i["id"] for i in body["items"]]
        assert all(item["evidence"] == [] for item in bare["items"])
        status, coupons = await recommend(client, kind="coupon", k=5)
        assert status == 200 and coupons["items"] == []  # coupons need a signed-in customer


async def test_services_and_coupons_obey_the_rules(trained, store):
    customer = buyer(store)
    async with serve(trained) as client:
        status, services = await recommend(client, customer_id=customer, kind="service", k=5)
        status_c, coupons = await recommend(client, customer_id=customer, kind="coupon", k=10)
    assert status == 200 and status_c == 200 and services["items"] and coupons["items"]
    with store() as session:
        person = session.scalars(select(Customer).where(Customer.external_id == customer)).one()
        owned = list(session.scalars(select(Product).join(OrderLine).join(Order).where(Order.customer_id == person.id)))
        for item in services["items"]:
            service = session.scalars(select(Service).where(Service.code == item["id"])).one()
            assert any(service_applies(service, product) for product in owned)
        granted = granted_counts(session, person.id)
        from recommender.serving.engine import utc_now

        for item in coupons["items"]:
            coupon = session.scalars(select(Coupon).where(Coupon.code == item["id"])).one()
            assert coupon_eligibility(coupon, person, now=utc_now(), times_granted=granted.get(coupon.id, 0)) is None


def test_services_are_ranked_by_the_models_service_tokens(trained, tmp_path):
    """The engine's service scores are the model's next-service log-probabilities; a service added to the
    catalog after training ranks after every service the model knows."""
    from datetime import datetime

    from recommender.gpt import Context
    from recommender.serving.engine import RecommendRequest
    from recommender.serving.history import find_customer, read_catalog, read_history
    from store.models import ServicePurchase, ServiceScope

    url, model_dir = trained
    copy = tmp_path / "shop.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    now = datetime(2030, 1, 1)
    factory = make_session_factory(make_engine(f"sqlite:///{copy}"))
    with factory.begin() as session:
        # A customer who took a service, and the categories of what they own.
        customer_id = session.scalars(select(Order.customer_id).join(ServicePurchase).order_by(Order.id).limit(1)).one()
        categories = set(session.scalars(select(Product.category_id).join(OrderLine).join(Order)
                                         .where(Order.customer_id == customer_id)))
        session.add(Service(code="NEW_SERVICE", kind="setup", name_en="New", name_zh="新", price=9,
                            scopes=[ServiceScope(category_id=c) for c in categories]))
        external_id = session.get(Customer, customer_id).external_id
    engine = RecommendationEngine.load(model_dir, database_url=f"sqlite:///{copy}", threads=1, clock=lambda: now)
    try:
        assert engine.service_keys and "NEW_SERVICE" not in engine.service_keys
        [answer] = engine.run_batch([RecommendRequest(customer_id=external_id, conversation="", kind="service", k=20)])
        codes = [item["id"] for item in answer["items"]]
        assert codes[-1] == "NEW_SERVICE" and len(codes) >= 2
        with factory() as session:
            catalog = read_catalog(session, engine.item_keys, service_keys=engine.service_keys)
            customer = find_customer(session, external_id)
            history = read_history(session, customer, catalog.index_of, catalog.service_index_of)
        assert history.services  # the takes reach the model's input
        expected = engine.recommender.score_contexts(
            [Context(history=history, now=now, language=customer.language, tier=customer.tier.value)], "service")[0]
        for item in answer["items"][:-1]:
            assert item["score"] == pytest.approx(float(expected[engine.service_keys.index(item["id"])]), abs=2e-4)
            assert all(e["type"] in ("purchase", "consultation", "conversation") for e in item["evidence"])
    finally:
        engine.close()


def perturbed_adapter(model_dir: Path, target: Path, *, factor: float = 1.05, nan: bool = False) -> Path:
    shutil.copytree(model_dir / "adapters" / "default", target)
    weights = load_file(target / "adapter_model.safetensors")
    for name, tensor in weights.items():
        weights[name] = torch.full_like(tensor, float("nan")) if nan else tensor * factor
    save_file(weights, target / "adapter_model.safetensors")
    return target


async def test_hot_swap_under_concurrent_load_drops_nothing(trained, tmp_path):
    fresh = perturbed_adapter(trained[1], tmp_path / "v2")
    async with serve(trained) as client:
        before = (await recommend(client, conversation="tea", k=3))[1]["model_version"]

        async def one(i: int):
            await asyncio.sleep(i * 0.004)
            return await recommend(client, conversation=f"gift idea {i}", k=3)

        load = [asyncio.create_task(one(i)) for i in range(60)]
        await asyncio.sleep(0.05)
        response = await client.post("/v1/admin/adapter", json={"path": str(fresh), "name": "v2"}, headers=AUTH)
        assert response.status == 200, await response.text()
        swapped = await response.json()
        results = await asyncio.gather(*load)
        assert [status for status, _ in results] == [200] * 60
        versions = {body["model_version"] for _, body in results}
        assert versions <= {before, swapped["model_version"]}
        assert swapped["previous"] == before and swapped["model_version"].startswith("gpt/v2/")
        after = (await recommend(client, conversation="tea", k=3))[1]
        assert after["model_version"] == swapped["model_version"]
        metrics = await (await client.get("/metrics", headers=AUTH)).text()
        assert f'version="{swapped["model_version"]}"' in metrics and f'version="{before}"' not in metrics


async def test_broken_adapters_are_refused_and_the_old_one_keeps_serving(trained, tmp_path):
    corrupt = perturbed_adapter(trained[1], tmp_path / "corrupt")
    (corrupt / "adapter_model.safetensors").write_bytes(b"\x00garbage" * 64)
    poisoned = perturbed_adapter(trained[1], tmp_path / "nan", nan=True)
    async with serve(trained) as client:
        before = (await recommend(client, conversation="tea", k=3))[1]["model_version"]
        for path in (corrupt, poisoned, tmp_path / "missing"):
            response = await client.post("/v1/admin/adapter", json={"path": str(path), "name": "bad"}, headers=AUTH)
            body = await response.json()
            assert response.status == 409 and body["error"] == "adapter_rejected", body
            assert body["model_version"] == before
            status, answer = await recommend(client, conversation="tea", k=3)
            assert status == 200 and answer["model_version"] == before and len(answer["items"]) == 3
        response = await client.post("/v1/admin/adapter", json={"path": str(corrupt)}, headers=AUTH)
        assert response.status == 400 and (await response.json())["field"] == "name"


async def test_metrics_expose_requests_latency_batches_and_version(trained):
    async with serve(trained) as client:
        await asyncio.gather(*(recommend(client, conversation=f"shoes {i}", k=2) for i in range(12)))
        await recommend(client, k=0)
        text = await (await client.get("/metrics", headers=AUTH)).text()
    assert 'model_server_requests_total{endpoint="/v1/recommend",status="200"} 12.0' in text
    assert 'model_server_requests_total{endpoint="/v1/recommend",status="400"} 1.0' in text
    assert 'model_server_request_seconds_count{endpoint="/v1/recommend"} 13.0' in text
    batches = [line for line in text.splitlines() if line.startswith("model_server_batch_size_sum")]
    assert batches and float(batches[0].split()[-1]) == 12.0
    assert "model_server_batch_size_count" in text and 'model_server_model_info{device="cpu"' in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_serves_over_real_http_and_refuses_a_missing_model_dir(trained, tmp_path):
    url, model_dir = trained
    env = dict(os.environ, SHOP_DATABASE_URL=url, SHOP_MODEL_SERVER_TOKEN=TOKEN)
    missing = subprocess.run([sys.executable, "-m", "recommender.serving", "--model-dir", str(tmp_path / "none")],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "does not exist" in missing.stderr
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "base" / "model.safetensors").write_bytes(b"not a tensor file")
    refused = subprocess.run([sys.executable, "-m", "recommender.serving", "--model-dir", str(broken)],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert refused.returncode == 2 and len(errors) == 1 and "could not be loaded" in errors[0]
    assert "Traceback" not in refused.stderr
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "recommender.serving", "--model-dir", str(model_dir), "--port",
                               str(port), "--threads", "1"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, "server never became ready"
                time.sleep(0.2)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/recommend", method="POST", headers=AUTH | {
            "Content-Type": "application/json"}, data=json.dumps({"conversation": "running shoes", "k": 3}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        assert len(body["items"]) == 3 and body["model_version"].startswith("gpt/default/")
    finally:
        server.terminate()
        server.wait(timeout=20)
