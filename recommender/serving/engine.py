"""The model behind the server: batches of requests in, ranked recommendations out.

Every method here runs on the micro-batcher's single worker thread, which
owns the model; an adapter swap is one more call on that thread, so it
happens between batches and no request sees half a model.

One batch costs one database session (catalog state read once, each
customer's history read as ``recommender.dataset.read_store`` builds it)
and one call into the model: each request's input and its leave-one-out
evidence variants (``recommender.evidence.leave_one_out_inputs``) are scored together.
A model trained with service tokens ranks services by its own next-service
distribution (a service it has no token for, added to the catalog since,
comes after those it knows, ordered from the product distribution); a model
without them, and coupons always, are ranked from the product distribution
(``recommender.ranking.service_scores`` / ``coupon_scores``). The business
rules are applied as masks inside ``top_k``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sqlalchemy.orm import Session, sessionmaker

from recommender.dataset import History
from recommender.evidence import Candidate, Evidence, evidence_from_scores, leave_one_out_inputs
from recommender.gpt import Context, GPTRecommender
from recommender.model import load_adapter, open_base, pick_device
from recommender.ranking import coupon_mask, coupon_scores, product_mask, service_mask, service_scores, top_k
from recommender.serving.answers import best_product, covered_product, describe
from recommender.serving.fast_evidence import score_groups
from recommender.serving.model_dir import check_model_dir
from recommender.serving.history import Catalog, find_customers, read_catalog, read_histories
from recommender.serialization import SERVICES_FILE
from recommender.serving.kernels import fuse_activations, merge_adapter
from store.models import Customer
from store.rules import granted_counts

#: Subtracted from the product-derived score of a service the model has no token for: after every known one.
UNKNOWN_SERVICE_PENALTY = 1e6

PROBE = Context(history=None, now=datetime(2026, 1, 1), conversation="looking for a gift", language="en")


class AdapterRejected(RuntimeError):
    """A new adapter failed to load or its probe; the old one keeps serving."""


@dataclass(frozen=True)
class RecommendRequest:
    """One validated request (see ``schemas.RecommendBody`` for the HTTP form)."""

    customer_id: str | None
    conversation: str
    kind: str
    k: int
    category: str | None = None
    budget: float | None = None
    language: str | None = None
    explain: bool = True


@dataclass(frozen=True)
class RequestError:
    """A request the engine refuses: HTTP ``status`` and a JSON body."""

    status: int
    error: str
    field: str | None = None
    message: str = ""


Outcome = dict[str, Any] | RequestError


def adapter_hash(adapter_dir: Path) -> str:
    """Short content hash of an adapter folder (names and bytes of its files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in adapter_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(adapter_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def utc_now() -> datetime:
    """Now in UTC, naive (the store keeps naive UTC datetimes)."""
    return datetime.now(UTC).replace(tzinfo=None)


class RecommendationEngine:
    """A loaded recommender plus the store it reads; answers batches on the worker thread."""

    def __init__(self, recommender: GPTRecommender, *, model_dir: Path, adapter_name: str, adapter_dir: Path,
                 session_factory: sessionmaker[Session], evidence_events: int = 4,
                 clock: Callable[[], datetime] = utc_now, on_close: Callable[[], None] | None = None) -> None:
        recommender.model = merge_adapter(recommender.model)  # type: ignore[arg-type]
        fuse_activations(recommender.model)
        self.recommender = recommender
        self.model_dir = model_dir
        self.adapter_name = adapter_name
        self.version = f"{model_dir.name}/{adapter_name}/{adapter_hash(adapter_dir)}"
        self.item_keys: tuple[str, ...] = tuple(json.loads((model_dir / "items.json").read_text(encoding="utf-8")))
        services_path = model_dir / SERVICES_FILE
        layout = recommender.serializer.layout if recommender.serializer else None
        self.service_keys: tuple[str, ...] = tuple(json.loads(services_path.read_text(encoding="utf-8"))) \
            if services_path.exists() and layout is not None and layout.n_services else ()
        self.session_factory = session_factory
        self.evidence_events = evidence_events
        self.clock = clock
        self._on_close = on_close

    @classmethod
    def load(cls, model_dir: str | Path, adapter_name: str = "default", *, database_url: str,
             threads: int | None = None, evidence_events: int = 4,
             clock: Callable[[], datetime] = utc_now) -> RecommendationEngine:
        """Load base + adapter from a ``recommender.train`` folder and open the store database.

        Raises:
            ModelDirError: The folder or the adapter is missing.
        """
        from store.db import make_engine, make_session_factory

        model_dir = Path(model_dir)
        check_model_dir(model_dir, adapter_name)
        recommender = GPTRecommender.load(model_dir, adapter_name)
        if threads:
            torch.set_num_threads(threads)
        sql_engine = make_engine(database_url)
        return cls(recommender, model_dir=model_dir, adapter_name=adapter_name,
                   adapter_dir=model_dir / "adapters" / adapter_name,
                   session_factory=make_session_factory(sql_engine), evidence_events=evidence_events, clock=clock,
                   on_close=sql_engine.dispose)

    @property
    def device(self) -> str:
        """Where the model runs ("cpu" or "cuda")."""
        assert self.recommender.model is not None
        return next(self.recommender.model.parameters()).device.type

    def close(self) -> None:
        """Release the database engine."""
        if self._on_close is not None:
            self._on_close()

    # --- adapter swap -------------------------------------------------------------

    def swap_adapter(self, path: str | Path, name: str) -> str:
        """Load the adapter at ``path`` on a fresh base, probe it, and serve it from now on.

        Returns:
            The new model version.

        Raises:
            AdapterRejected: It does not load, or the probe gives a wrong shape or non-finite scores.
        """
        adapter_dir = Path(path)
        if not (adapter_dir / "adapter_config.json").is_file():
            raise AdapterRejected(f"{adapter_dir} holds no adapter_config.json")
        try:
            base = open_base(self.model_dir / "base").to(pick_device())
            candidate = copy.copy(self.recommender)
            candidate.model = merge_adapter(load_adapter(base, adapter_dir).eval())
            fuse_activations(candidate.model)
            scores = candidate.score_contexts([PROBE])
        except Exception as error:  # noqa: BLE001 - any failure to load means refusal, with its reason
            raise AdapterRejected(f"{type(error).__name__}: {str(error).splitlines()[0][:200]}") from error
        expected = (1, len(self.item_keys))
        if scores.shape != expected:
            raise AdapterRejected(f"probe scores have shape {scores.shape}, expected {expected}")
        if not np.isfinite(scores).all():
            raise AdapterRejected("probe scores are not finite (NaN or inf)")
        version = f"{self.model_dir.name}/{name}/{adapter_hash(adapter_dir)}"
        self.recommender, self.adapter_name, self.version = candidate, name, version
        return version

    # --- batches ------------------------------------------------------------------

    def run_batch(self, requests: Sequence[RecommendRequest]) -> list[Outcome]:
        """Answer each request (a result dict or a ``RequestError``), in order."""
        now = self.clock()
        with self.session_factory() as session:
            kinds = {request.kind for request in requests}
            catalog = read_catalog(session, self.item_keys, services="service" in kinds, coupons="coupon" in kinds,
                                   service_keys=self.service_keys)
            customers = find_customers(session, (r.customer_id for r in requests if r.customer_id is not None))
            histories = read_histories(session, list(customers.values()), catalog.index_of, catalog.service_index_of)
            prepared = [self._prepare(catalog, customers, histories, request, now) for request in requests]
            serializer = self.recommender.serializer
            assert serializer is not None
            # Per request: the evidence candidates and the inputs (the full input first, then its variants).
            inputs: list[tuple[list[Candidate], list[list[int]]] | None] = []
            for item in prepared:
                if isinstance(item, RequestError):
                    inputs.append(None)
                elif item.request.explain:
                    inputs.append(leave_one_out_inputs(serializer, item.context, max_events=self.evidence_events))
                else:
                    inputs.append(([], [self.recommender.encode(item.context)]))
            # Variants reuse their base's prefix states (same rows as scoring each input whole).
            logp = score_groups(self.recommender, [sequences for _, sequences in filter(None, inputs)],
                                batch_size=self.recommender.config.eval_batch_size,
                                with_services=bool(self.service_keys) and "service" in kinds)
            outcomes: list[Outcome] = []
            offset = 0
            for item, found in zip(prepared, inputs):
                if isinstance(item, RequestError) or found is None:
                    outcomes.append(item)  # type: ignore[arg-type]
                    continue
                candidates, sequences = found
                rows = logp[offset : offset + len(sequences)]
                offset += len(sequences)
                outcomes.append(self._answer(session, catalog, item, rows, candidates, now))
        return outcomes

    def _prepare(self, catalog: Catalog, customers: Mapping[str, Customer], histories: Mapping[int, History],
                 request: RecommendRequest, now: datetime) -> _Prepared | RequestError:
        category_id = None
        if request.category is not None:
            category_id = catalog.categories.get(request.category)
            if category_id is None:
                return RequestError(400, "invalid_request", "category", f"unknown category {request.category!r}")
        customer = history = None
        if request.customer_id is not None:
            customer = customers.get(request.customer_id)
            if customer is None:
                return RequestError(404, "unknown_customer", "customer_id", "no customer with this id")
            history = histories[customer.id]
        language = request.language or (customer.language if customer else None)
        context = Context(history=history, now=now, conversation=request.conversation, language=language,
                          tier=customer.tier.value if customer else None)
        return _Prepared(request, customer, history, context, category_id, language or "en")

    def _answer(self, session: Session, catalog: Catalog, item: _Prepared, rows: np.ndarray,
                candidates: list[Candidate], now: datetime) -> dict[str, Any]:
        request, history = item.request, item.history
        n_items = len(self.item_keys)
        product_logp = rows[0, :n_items]  # service log-probabilities follow when the batch asked for them
        present, products = catalog.present, catalog.listed
        last_bought = {p.item: p.time for p in history.purchases} if history else {}
        owned = [catalog.products[i] for i in last_bought if catalog.products[i] is not None]
        if request.kind == "product":
            allowed = np.zeros(len(catalog.products), dtype=bool)
            position = catalog.slot_of
            allowed[present] = product_mask(
                catalog.table, now=now, last_bought={position[i]: t for i, t in last_bought.items() if i in position},
                category_id=item.category_id, max_price=request.budget)
            ranked = top_k(product_logp, allowed, request.k, kind="product")
            because = {r.index: r.index for r in ranked}
        elif request.kind == "service":
            sub_logp = product_logp[present]
            scores = service_scores(catalog.services, products, sub_logp, owned)
            columns = [catalog.service_index_of.get(service.id) for service in catalog.services]
            if self.service_keys:
                service_logp = rows[0, n_items:]
                scores = np.array([service_logp[c] if c is not None else score - UNKNOWN_SERVICE_PENALTY
                                   for c, score in zip(columns, scores)])
            ranked = top_k(scores, service_mask(catalog.services, owned), request.k, kind="service")
            because = {r.index: n_items + columns[r.index] if self.service_keys and columns[r.index] is not None
                       else best_product(catalog, present, sub_logp, owned, catalog.services[r.index])
                       for r in ranked}
        else:
            granted = granted_counts(session, item.customer.id) if item.customer else {}
            scores = coupon_scores(catalog.coupons, products, product_logp[present])
            allowed = coupon_mask(catalog.coupons, item.customer, now=now, granted=granted)
            ranked = top_k(scores, allowed, request.k, kind="coupon")
            because = {r.index: covered_product(catalog, present, product_logp, catalog.coupons[r.index])
                       for r in ranked}
        explained: dict[int, list[Evidence]] = {}
        if request.explain:
            explained = evidence_from_scores(candidates, rows, sorted({i for i in because.values() if i is not None}))
        return {
            "customer_id": request.customer_id,
            "kind": request.kind,
            "items": [describe(catalog, r, explained.get(because[r.index], []) if because[r.index] is not None
                                     else [], history, item.language) for r in ranked],
            "model_version": self.version,
        }


@dataclass(frozen=True)
class _Prepared:
    request: RecommendRequest
    customer: Customer | None
    history: History | None
    context: Context
    category_id: int | None
    language: str
