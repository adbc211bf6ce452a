"""The seeded demo store: a believable bilingual shop for demos, tests and training.

``build_demo_store(url, seed=7, end_date=None, scale=1.0)`` writes it into a
database; the same seed, end date and scale give identical rows. At scale 1:
about 690 products in 25 categories, 12 services, 30 coupons, 4 shipping
methods, 3,000 customers, over 50,000 order lines in 18 months ending at the
start (00:00 UTC) of ``end_date``, and over 10,000 consultations.

Well-known customers (fixed at every seed; ``end`` is the end of the history):

- ``C00001`` "Emma Walker", English, gold tier: a front-load washer delivered
  ten days before ``end`` (inside the 30-day return window, with
  installation), an order placed two days before ``end`` that is shipped, and
  an older history that stops 40 days before ``end``.
- ``C00002`` "王芳", Chinese, silver tier: likewise (her recent order is a
  face cream).
- ``C00003`` "Alex Morgan", English: no orders and no consultations.
- ``C00004`` onwards: everyone else. External ids are "C" + 5 digits; order
  numbers are "SO" + 8 random, unique, non-sequential digits.

Modules: ``catalog_data`` (assortment), ``catalog`` (catalog rows),
``needs_data``/``needs`` (need statements), ``service_needs`` (service-need
statements), ``people`` (customers and their habits), ``shopping`` (purchases
as events), ``orders`` (baskets, statuses, returns, services),
``talk``/``consult`` (consultations), ``history`` (rows with ids), ``build``
(writing the database, all or nothing), ``stamp`` (what was built where).
"""

from store.demo.build import DemoSummary, build_demo_store

__all__ = ["DemoSummary", "build_demo_store"]
