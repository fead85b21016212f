"""Tests of sk_mr.loss_pass: the parts of the net's one loss pass."""

import numpy as np
import pytest
import torch

from sk_mr.loss_pass import check_all_seen, check_finite, fill_unseen, full_pass


def test_unseen_examples_get_the_mean_loss_of_the_seen_ones():
    losses = torch.tensor([1.0, 0.0, 5.0, 0.0], dtype=torch.float64)
    seen = torch.tensor([True, False, True, False])
    np.testing.assert_array_equal(fill_unseen(losses, seen).numpy(), [1.0, 3.0, 5.0, 3.0])
    all_seen = torch.ones(4, dtype=torch.bool)
    assert fill_unseen(losses, all_seen) is losses


def test_non_finite_losses_are_refused_with_the_epoch_and_a_fix():
    losses = torch.tensor([1.0, float("nan"), float("inf")])
    with pytest.raises(ValueError, match=r"for 2 training example\(s\) at epoch 7: the model "
                                         r"diverged \(try a smaller learning rate"):
        check_finite(losses, epoch=7)
    finite = torch.tensor([0.5, 2.0])
    assert check_finite(finite, epoch=1) is finite


def test_a_pass_that_skipped_examples_is_refused():
    with pytest.raises(ValueError, match="skipped 1 of 3 examples"):
        check_all_seen(torch.tensor([True, False, True]))
    check_all_seen(torch.ones(3, dtype=torch.bool))


@pytest.mark.filterwarnings("ignore:You set iterator_valid__shuffle=True")
def test_full_pass_places_each_loss_by_position_with_a_shuffling_loader(small_digits):
    # the net's pass, compared with the criterion applied to all of X at once
    from sk_mr import MRClassifier
    from conftest import TinyMLP
    X, y = small_digits
    net = MRClassifier(TinyMLP, max_epochs=1, train_split=None, verbose=0, eta=0.1,
                       iterator_valid__shuffle=True, random_state=0).fit(X, y)
    modes = []
    losses, seen = full_pass(net, net.get_dataset(X, y), net._example_loss_terms,
                             lambda: modes.append("eval") or net._set_training(False), "cpu")
    assert seen.all() and modes == ["eval"]
    with torch.no_grad():
        by_hand = torch.nn.functional.cross_entropy(net.module_(torch.as_tensor(X)),
                                                    torch.as_tensor(y), reduction="none")
    np.testing.assert_allclose(losses.numpy(), by_hand.double().numpy(), rtol=1e-5)


def test_label_agreement_is_the_fraction_predicted_as_labelled(small_digits):
    # against the net's own predict on the same rows, labels half scrambled
    from skorch.dataset import Dataset

    from sk_mr import MRClassifier
    from conftest import TinyMLP
    X, y = small_digits
    net = MRClassifier(TinyMLP, max_epochs=3, train_split=None, verbose=0, eta=0.0,
                       random_state=0).fit(X, y)
    labels = y.copy()
    labels[::2] = (labels[::2] + 1) % 10
    expected = float(np.mean(net.predict(X) == labels))
    state = torch.get_rng_state()
    net.module_.train()
    assert net.label_agreement_fraction(Dataset(X, labels)) == pytest.approx(expected)
    assert torch.equal(torch.get_rng_state(), state)
    assert net.module_.training  # the modes are restored


@pytest.mark.filterwarnings("ignore:You set iterator_valid__shuffle=True")
def test_class_frequencies_are_the_label_counts_and_the_mean_predict_proba(small_digits):
    # against numpy's counts of the labels and the net's own predict_proba,
    # through a shuffling loader (each row placed by position); a class no
    # example is labelled with counts 0
    from skorch.dataset import Dataset

    from sk_mr import MRClassifier
    from conftest import TinyMLP
    X, y = small_digits
    net = MRClassifier(TinyMLP, max_epochs=2, train_split=None, verbose=0, eta=0.0,
                       iterator_valid__shuffle=True, random_state=0).fit(X, y)
    labels = np.where(y == 9, 0, y)
    state = torch.get_rng_state()
    net.module_.train()
    given, predicted = net.class_frequencies(Dataset(X, labels))
    assert torch.equal(torch.get_rng_state(), state) and net.module_.training
    np.testing.assert_allclose(given.numpy(), np.bincount(labels, minlength=10) / len(labels))
    assert given[9] == 0
    np.testing.assert_allclose(predicted.numpy(), net.predict_proba(X).mean(axis=0), rtol=1e-5)
    # no class probabilities (a regression target): None
    assert net.class_frequencies(Dataset(X, labels.astype(np.float32))) is None
