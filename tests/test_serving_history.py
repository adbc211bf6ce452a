"""The model server reads a customer's history exactly as training's ``read_store`` does."""

from __future__ import annotations

from decimal import Decimal

from recommender.dataset import read_store
from recommender.serving.history import find_customer, read_catalog, read_histories, read_history
from store.models import ServicePurchase
from tests.store_factory import ALICE, BOB, CAROL, build_store


def test_read_history_agrees_with_read_store_for_each_customer(session_factory):
    refs = build_store(session_factory)
    with session_factory.begin() as session:
        # Services taken: two with Alice's recent order, one with her cancelled order (left out, as its lines).
        session.add_all([
            ServicePurchase(order_id=refs["o_recent"], service_id=refs["gift_wrap"], product_id=refs["trail"],
                            price=Decimal("15")),
            ServicePurchase(order_id=refs["o_recent"], service_id=refs["warranty"], product_id=None, price=Decimal("59")),
            ServicePurchase(order_id=refs["o_cancelled"], service_id=refs["warranty"], product_id=refs["earbuds"],
                            price=Decimal("59")),
        ])
    with session_factory() as session:
        dataset = read_store(session)
        catalog = read_catalog(session, tuple(item.key for item in dataset.items),
                               service_keys=tuple(service.key for service in dataset.services))
        expected = {history.customer: history for history in dataset.histories}
        assert ALICE in expected and BOB in expected
        for external_id in (ALICE, BOB):
            served = read_history(session, find_customer(session, external_id), catalog.index_of,
                                  catalog.service_index_of)
            assert served == expected[external_id]
        # One batch reads several customers at once, with the same result.
        together = read_histories(session, [find_customer(session, c) for c in (BOB, CAROL, ALICE)], catalog.index_of,
                                  catalog.service_index_of)
        assert [h.customer for h in together.values()] == [BOB, CAROL, ALICE]
        assert {h.customer: h for h in together.values() if h.purchases} == expected
        # The cancelled order is left out, as in training, services included.
        alice = expected[ALICE]
        assert len(alice.purchases) > 0
        assert len(alice.services) == 2 and len({take.time for take in alice.services}) == 1
        # A customer without purchases has no training history; the server still reads an empty one.
        carol = read_history(session, find_customer(session, CAROL), catalog.index_of)
        assert CAROL not in expected and carol.purchases == ()


def test_catalog_follows_the_models_item_order_and_drops_unknown_products(session_factory):
    build_store(session_factory)
    with session_factory() as session:
        dataset = read_store(session)
        keys = tuple(item.key for item in dataset.items)
        shuffled = (keys[-1], "GONE-SKU", *keys[:-1])
        catalog = read_catalog(session, shuffled)
        assert catalog.products[1] is None
        assert [p.sku for p in catalog.products if p is not None] == [shuffled[0], *shuffled[2:]]
        assert all(catalog.products[i].id == pid for pid, i in catalog.index_of.items())
        # Lines of products the model has no token for are left out; notes stay.
        full = read_history(session, find_customer(session, ALICE), catalog.index_of)
        bare = read_history(session, find_customer(session, ALICE), {})
        assert bare.purchases == () and bare.notes == full.notes
