"""The order of the examples inside each gallery section: the core use first."""

ORDER = (
    # noisy labels and outlying targets (the top level of examples/)
    "plot_mr_weights_digits.py", "label_issues_digits.py", "select_eta_noisy_labels.py",
    "noisy_labels_peers_digits.py", "binary_label_flips.py", "regression_outliers.py",
    # examples/adversarial
    "adversarial_digits.py", "attack_training_digits.py",
    # examples/beyond_networks
    "meta_estimators_noise.py", "plot_illustrative_1d.py",
    # examples/scaling
    "distributed_training.py", "dask_grid_search.py", "tensorboard_logging.py",
)


class ReadingOrder:
    """sphinx-gallery sort key: the examples in ``ORDER``, then any others by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self):
        return "ReadingOrder"
