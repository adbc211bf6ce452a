"""The repeat (copy) head: a proper distribution, repeat mass only on past items, nothing from the future."""

from __future__ import annotations

import json

import torch

from recommender.copy_head import CopyHead, item_log_probs

HIDDEN, ITEMS, START = 8, 5, 10  # product tokens are ids 10..14; 20 is a closing (due) token
DUE = torch.tensor([20])


def setup(seed: int = 0):
    torch.manual_seed(seed)
    head = CopyHead(HIDDEN, 4)
    lm_head = torch.nn.Linear(HIDDEN, 32, bias=False)
    # row 0: pad, item 1, due, text, item 3, <rec>; row 1: text, text, text, item 0, item 0, <rec>
    input_ids = torch.tensor([[0, 11, 20, 3, 13, 6], [3, 4, 5, 10, 10, 6]])
    attention_mask = torch.tensor([[0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    hidden = torch.randn(2, 6, HIDDEN)
    return head, lm_head, input_ids, attention_mask, hidden


def log_probs(head, lm_head, input_ids, attention_mask, hidden, rows, positions):
    return item_log_probs(hidden, input_ids, attention_mask, torch.tensor(rows), torch.tensor(positions), lm_head,
                          (START, START + ITEMS), DUE, head)


def test_a_distribution_over_all_items_that_mixes_in_only_past_items():
    head, lm_head, ids, mask, hidden = setup()
    with torch.no_grad():
        head.gate.bias.fill_(30.0)  # gate fully open: all mass on repeated items
        out = log_probs(head, lm_head, ids, mask, hidden, [0, 1], [5, 5])
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(2), atol=1e-5)
    assert out[0].exp()[[0, 2, 4]].sum() < 1e-6 and out[0].exp()[[1, 3]].sum() > 0.999
    assert out[1].exp()[0] > 0.999  # item 0 twice in row 1


def test_closed_gate_or_no_past_item_gives_the_plain_lm_distribution():
    head, lm_head, ids, mask, hidden = setup()
    plain = item_log_probs(hidden, ids, mask, torch.tensor([0, 1]), torch.tensor([5, 2]), lm_head,
                           (START, START + ITEMS), DUE, None)
    with torch.no_grad():
        head.gate.bias.fill_(-30.0)
        closed = log_probs(head, lm_head, ids, mask, hidden, [0], [5])
    assert torch.allclose(closed, plain[:1], atol=1e-5)
    with torch.no_grad():
        head.gate.bias.fill_(30.0)
        nothing_before = log_probs(head, lm_head, ids, mask, hidden, [1], [2])  # no product before position 2
    assert torch.allclose(nothing_before, plain[1:], atol=1e-5)


def test_a_prediction_never_sees_later_positions():
    head, lm_head, ids, mask, hidden = setup()
    with torch.no_grad():
        head.gate.bias.fill_(2.0)
        before = log_probs(head, lm_head, ids, mask, hidden, [0], [3])
        changed_ids, changed_hidden = ids.clone(), hidden.clone()
        changed_ids[0, 4:] = torch.tensor([14, 20])
        changed_hidden[0, 4:] = torch.randn(2, HIDDEN)
        after = log_probs(head, lm_head, changed_ids, mask, changed_hidden, [0], [3])
    assert torch.allclose(before, after)
    assert before.exp()[0, 1] > after.exp()[0, 4]  # item 1 (before position 3) gets repeat mass; item 4 none


def test_gradients_are_finite_and_the_head_round_trips(tmp_path):
    head, lm_head, ids, mask, hidden = setup()
    out = log_probs(head, lm_head, ids, mask, hidden, [0, 1, 1], [5, 5, 2])
    torch.nn.functional.nll_loss(out, torch.tensor([1, 0, 3])).backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters())
    head.save(tmp_path)
    again = CopyHead.load(tmp_path)
    assert again is not None and CopyHead.load(tmp_path / "missing") is None
    with torch.no_grad():
        assert torch.equal(log_probs(head, lm_head, ids, mask, hidden, [0], [5]),
                           log_probs(again, lm_head, ids, mask, hidden, [0], [5]))


def test_explore_new_only_leaves_past_items_to_the_gate(tmp_path):
    head, lm_head, ids, mask, hidden = setup()
    head.explore_new_only = True
    with torch.no_grad():
        head.gate.bias.fill_(-30.0)  # gate closed: no mass at all on items already in the input
        closed = log_probs(head, lm_head, ids, mask, hidden, [0, 1], [5, 5])
        head.gate.weight.zero_()
        head.gate.bias.fill_(0.0)  # g = 0.5 exactly
        half = log_probs(head, lm_head, ids, mask, hidden, [0, 1], [5, 5])
    assert torch.allclose(closed.exp().sum(dim=1), torch.ones(2), atol=1e-5)
    assert closed[0].exp()[[1, 3]].sum() < 1e-6 and closed[1].exp()[0] < 1e-6
    # An open gate gives past items exactly its own share, and the explore share stays on new items.
    assert torch.allclose(half[0].exp()[[1, 3]].sum(), torch.tensor(0.5), atol=1e-5)
    assert torch.allclose(half[0].exp()[[0, 2, 4]].sum(), torch.tensor(0.5), atol=1e-5)
    # Padding (id 0 -> clamped to item 0) does not hide item 0 in row 0.
    assert closed[0].exp()[0] > 0
    # Saved and reloaded with the switch; a head saved before it existed loads without it.
    head.save(tmp_path)
    assert CopyHead.load(tmp_path).explore_new_only is True  # type: ignore[union-attr]
    sizes = json.loads((tmp_path / "copy_head.json").read_text())
    del sizes["explore_new_only"]
    (tmp_path / "copy_head.json").write_text(json.dumps(sizes))
    assert CopyHead.load(tmp_path).explore_new_only is False  # type: ignore[union-attr]


def test_explore_new_only_when_every_item_is_in_the_input():
    head, lm_head, _, _, hidden = setup()
    head.explore_new_only = True
    ids = torch.tensor([[10, 11, 12, 13, 14, 6]])
    with torch.no_grad():
        head.gate.bias.fill_(-30.0)
        out = log_probs(head, lm_head, ids, torch.ones(1, 6, dtype=torch.long), hidden[:1], [0], [5])
    assert torch.isfinite(out).all() and torch.allclose(out.exp().sum(), torch.tensor(1.0), atol=1e-5)


def test_an_item_at_the_prediction_point_counts_as_bought_and_its_closing_token_is_not_read():
    head, lm_head, ids, mask, hidden = setup()
    head.explore_new_only = True
    with torch.no_grad():
        head.gate.bias.fill_(-30.0)  # closed gate: items in the input get no mass at all
        at_item = log_probs(head, lm_head, ids, mask, hidden, [0], [1])  # row 0 predicts from item 1 itself
        assert at_item.exp()[0, 1] < 1e-6
        head.gate.bias.fill_(30.0)  # open gate: all mass on the one item bought so far
        assert log_probs(head, lm_head, ids, mask, hidden, [0], [1]).exp()[0, 1] > 0.999
        head.gate.bias.fill_(0.0)
        before = log_probs(head, lm_head, ids, mask, hidden, [0], [1])
        later = hidden.clone()
        later[0, 2:] = torch.randn(4, HIDDEN)  # the due token after item 1 and everything after it
        assert torch.allclose(before, log_probs(head, lm_head, ids, mask, later, [0], [1]))
