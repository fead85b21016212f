"""The order of the gallery: from the core use of MR to its side roads."""

ORDER = ("plot_mr_weights_digits.py", "label_issues_digits.py", "select_eta_noisy_labels.py",
         "adversarial_digits.py", "meta_estimators_noise.py", "plot_illustrative_1d.py",
         "tensorboard_logging.py")


class ReadingOrder:
    """sphinx-gallery sort key: the examples in ``ORDER``, then any others by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self):
        return "ReadingOrder"
