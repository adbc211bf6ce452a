"""``python -m recommender.train`` on a small store database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from recommender.gpt import Context, GPTRecommender
from recommender.train import main
from store.models import Category, Consultation, Customer, Order, OrderLine, OrderStatus, Product
from tests.test_rec_model_toy import KEYWORDS, toy_dataset


def fill_store(session_factory) -> None:
    """Write the toy store's catalog, customers, orders and consultations as store rows."""
    toy = toy_dataset(n_customers=24)
    with session_factory() as session:
        categories = {en: Category(code=en, name_en=en, name_zh=zh) for en, zh in KEYWORDS}
        session.add_all(categories.values())
        products = [Product(sku=item.key, name_en=item.name_en, name_zh=item.name_zh, category=categories[item.category],
                            brand=item.brand, price=Decimal("9.90"), stock=5) for item in toy.items]
        session.add_all(products)
        for n, history in enumerate(toy.histories):
            customer = Customer(external_id=history.customer, language=history.language, tier=history.tier,
                                created_at=datetime(2024, 1, 1))
            session.add(customer)
            session.flush()
            for k, purchase in enumerate(history.purchases):
                order = Order(order_number=f"SO{n}-{k}", customer=customer, status=OrderStatus.DELIVERED,
                              placed_at=purchase.time)
                order.lines.append(OrderLine(product=products[purchase.item], unit_price=Decimal("9.90")))
                session.add(order)
            session.add(Order(order_number=f"SO{n}-x", customer=customer, status=OrderStatus.CANCELLED,
                              placed_at=history.purchases[-1].time + timedelta(days=1),
                              lines=[OrderLine(product=products[0], unit_price=Decimal("9.90"))]))
            for note in history.notes:
                session.add(Consultation(customer_id=customer.id, created_at=note.time, topic=note.topic, text=note.text))
        session.commit()


def test_cli_trains_from_a_store_database_and_serving_reloads_it(store_url, session_factory, tmp_path, capsys):
    fill_store(session_factory)
    out = tmp_path / "gpt"
    main(["--preset", "tiny", "--database-url", store_url, "--out", str(out), "--threads", "1"])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["epochs"] >= 1 and printed["best_valid_ndcg10"] is not None
    assert len(json.loads((out / "items.json").read_text())) == len(toy_dataset(n_customers=24).items)
    served = GPTRecommender.load(out)
    scores = served.score_contexts([Context(history=None, now=datetime(2026, 1, 1), conversation="looking for tea")])
    assert scores.shape == (1, 24)
