"""Tests of sk_mr.objective: the weighted objective, without a net.

Each function is compared with the same quantity computed by hand in numpy
(or with torch's own reductions where the claim is "equals the criterion's").
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sk_mr.objective import (MixupTarget, loss_normalizers, mw_losses, per_example_reduction,
                             reduce_weighted, split_example_losses, target_terms,
                             weighted_loss, weighted_reduction)

RNG = np.random.default_rng(0)


def numpy_tensor(*shape):
    return torch.from_numpy(RNG.uniform(0.1, 2.0, size=shape))


class TestMixupTarget:
    def test_terms_are_own_labels_then_partners(self):
        y = torch.tensor([3, 1, 4, 1])
        permutation = torch.tensor([2, 3, 0, 1])
        target = MixupTarget(y, y[permutation], 0.3, permutation)
        (c_a, y_a, p_a), (c_b, y_b, p_b) = target.terms()
        assert (c_a, p_a) == (0.3, None)
        assert c_b == pytest.approx(0.7) and p_b is permutation
        assert torch.equal(y_a, y) and torch.equal(y_b, torch.tensor([4, 1, 3, 1]))
        assert len(target) == 4

    def test_plain_targets_are_one_term(self):
        y = torch.tensor([0, 1])
        [(coef, labels, permutation)] = target_terms(y)
        assert coef == 1.0 and labels is y and permutation is None


class TestPerExampleReduction:
    def test_sets_none_and_restores_even_on_error(self):
        ce, mse = torch.nn.CrossEntropyLoss(), torch.nn.MSELoss(reduction="sum")
        with pytest.raises(RuntimeError, match="inside"):
            with per_example_reduction([ce, mse, None, object()]):
                assert ce.reduction == "none" and mse.reduction == "none"
                raise RuntimeError("inside")
        assert ce.reduction == "mean" and mse.reduction == "sum"


class TestSplitExampleLosses:
    def test_one_loss_per_example_is_kept(self):
        losses = torch.tensor([1.0, 2.0, 3.0])
        totals, normalizers, k = split_example_losses(losses, 3, torch.nn.MSELoss(), None)
        assert totals is losses and normalizers is None and k == 1

    def test_positions_are_summed_and_counted(self):
        per_position = numpy_tensor(4, 3, 2)
        totals, normalizers, k = split_example_losses(per_position, 4, torch.nn.MSELoss(),
                                                      None)
        np.testing.assert_allclose(totals.numpy(), per_position.numpy().sum(axis=(1, 2)))
        np.testing.assert_array_equal(normalizers.numpy(), [6.0] * 4)
        assert k == 6

    @pytest.mark.parametrize("losses", [torch.tensor(1.0), torch.ones(5), 1.5])
    def test_anything_but_one_loss_per_example_is_refused(self, losses):
        with pytest.raises(ValueError, match=r"one loss per example \(shape \(4,\)\)"):
            split_example_losses(losses, 4, torch.nn.MSELoss(), None)


class TestLossNormalizers:
    def test_class_weights_and_ignore_index(self):
        ce = torch.nn.CrossEntropyLoss(weight=torch.tensor([0.5, 2.0, 3.0]), ignore_index=-1)
        y = torch.tensor([0, 2, -1, 1])
        np.testing.assert_allclose(loss_normalizers(ce, y).numpy(), [0.5, 3.0, 0.0, 2.0])

    def test_sequences_sum_their_counted_positions(self):
        nll = torch.nn.NLLLoss(ignore_index=0)
        y = torch.tensor([[1, 0, 2], [0, 0, 1]])
        np.testing.assert_array_equal(loss_normalizers(nll, y).numpy(), [2.0, 1.0])

    def test_other_criteria(self):
        totals = torch.ones(3)
        assert loss_normalizers(torch.nn.KLDivLoss(reduction="batchmean"), None, 4,
                                totals) is None
        np.testing.assert_array_equal(
            loss_normalizers(torch.nn.MSELoss(), torch.zeros(3, 4), 4, totals).numpy(), [4] * 3)
        # class probabilities: the mean is over examples
        assert loss_normalizers(torch.nn.CrossEntropyLoss(), torch.full((3, 2), 0.5)) is None

    def test_uniform_weighted_mean_is_the_criterions_mean(self):
        # the normalizers make sum(l_i) / sum(n_i) the criterion's own mean
        weight = torch.tensor([0.5, 2.0, 3.0])
        logits, y = numpy_tensor(6, 3).float(), torch.tensor([0, 1, 2, 2, -100, 1])
        ce = torch.nn.CrossEntropyLoss(weight=weight)
        with per_example_reduction([ce]):
            losses = ce(logits, y)
        normalizers = loss_normalizers(ce, y)
        ours = reduce_weighted(losses, None, normalizers, "mean")
        assert float(ours) == pytest.approx(float(F.cross_entropy(logits, y, weight=weight)),
                                            rel=1e-6)
        uniform = reduce_weighted(losses, torch.ones(6), normalizers, "mean")
        assert float(uniform) == pytest.approx(float(ours), rel=1e-6)


class TestMwLosses:
    def test_divides_by_the_counted_positions(self):
        totals = torch.tensor([6.0, 1.0, 4.0], requires_grad=True)
        normalizers = torch.tensor([3.0, 0.0, 0.5])
        out = mw_losses(totals, normalizers)
        np.testing.assert_array_equal(out.numpy(), [2.0, 0.0, 8.0])
        assert not out.requires_grad
        assert mw_losses(totals, normalizers, detach=False).requires_grad
        assert mw_losses(totals, None) is not totals and not mw_losses(totals, None).requires_grad


class TestReduceWeighted:
    def test_weighted_mean_by_hand(self):
        losses, weights, normalizers = numpy_tensor(5), numpy_tensor(5), numpy_tensor(5)
        l, p, n = losses.numpy(), weights.numpy(), normalizers.numpy()
        assert float(reduce_weighted(losses, weights, None, "mean")) == pytest.approx(
            (p * l).sum() / p.sum(), rel=1e-12)
        assert float(reduce_weighted(losses, weights, normalizers, "mean")) == pytest.approx(
            (p * l).sum() / (p * n).sum(), rel=1e-12)
        assert float(reduce_weighted(losses, weights, normalizers, "sum")) == pytest.approx(
            5 * (p * l).sum() / p.sum(), rel=1e-12)

    def test_uniform_weights_give_the_criterions_reduction(self):
        losses = numpy_tensor(4)
        assert float(reduce_weighted(losses, None, None, "mean")) == pytest.approx(
            losses.numpy().mean())
        assert float(reduce_weighted(losses, None, None, "sum")) == pytest.approx(
            losses.numpy().sum())
        assert float(reduce_weighted(losses, torch.ones(4), None, "sum")) == pytest.approx(
            losses.numpy().sum())

    def test_underflowed_weights_give_zero_not_nan(self):
        losses = torch.tensor([1.0, 2.0], requires_grad=True)
        loss = reduce_weighted(losses, torch.zeros(2), None, "mean")
        loss.backward()
        assert float(loss.detach()) == 0.0 and torch.equal(losses.grad, torch.zeros(2))

    def test_the_global_total_normalizes(self):
        losses, weights = torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])
        # another process holds weight 2 more: the global total is 4, halved over 2
        loss = reduce_weighted(losses, weights, None, "mean", lambda total: (total + 2) / 2)
        assert float(loss) == pytest.approx(4.0 / 2.0)

    def test_weighted_reduction_of_a_criterion(self):
        assert weighted_reduction(torch.nn.MSELoss(reduction="sum")) == "sum"
        assert weighted_reduction(torch.nn.KLDivLoss(reduction="batchmean")) == "mean"
        assert weighted_reduction(None) == "mean"


class TestWeightedLoss:
    def test_mixup_terms_carry_the_weight_of_the_label_they_come_from(self):
        n = 6
        per_label = {"own": numpy_tensor(n), "partner": numpy_tensor(n)}
        p = numpy_tensor(n)
        permutation = torch.from_numpy(RNG.permutation(n))
        target = MixupTarget("own", "partner", 0.35, permutation)
        loss, own = weighted_loss(lambda labels: (per_label[labels], None), target, p, "mean")
        la, lb, w, pi = (per_label["own"].numpy(), per_label["partner"].numpy(), p.numpy(),
                         permutation.numpy())
        # the paper's mixup objective, with the denominator sum_k p_k
        by_hand = (0.35 * (w * la).sum() + 0.65 * (w[pi] * lb).sum()) / w.sum()
        assert float(loss) == pytest.approx(by_hand, rel=1e-12)
        assert own[0] is per_label["own"] and own[1] is None

    def test_extra_losses_use_each_examples_own_weight(self):
        losses, extra, p = numpy_tensor(4), numpy_tensor(4), numpy_tensor(4)
        loss, _ = weighted_loss(lambda labels: (losses, None), "y", p, "mean",
                                extra_losses=extra)
        w = p.numpy()
        by_hand = ((w * losses.numpy()).sum() + (w * extra.numpy()).sum()) / w.sum()
        assert float(loss) == pytest.approx(by_hand, rel=1e-12)

    def test_without_weights_it_is_the_criterions_mean(self):
        losses = numpy_tensor(5)
        loss, own = weighted_loss(lambda labels: (losses, None), "y", None, "mean")
        assert float(loss) == pytest.approx(losses.numpy().mean())
        assert own == (losses, None)


def test_mixup_target_and_fill_mr_doc_stay_importable_from_the_mixin():
    from sk_mr import _docs, mixin
    assert mixin.MixupTarget is MixupTarget
    assert mixin.fill_mr_doc is _docs.fill_mr_doc
    assert "mixup_alpha : float" in mixin.fill_mr_doc("%(mr_params)s\n")
