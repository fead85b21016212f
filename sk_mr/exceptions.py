"""sk_mr's own error and warning classes."""

__all__ = ["MRParameterError", "MRParameterWarning", "MRStateWarning"]


class MRParameterError(ValueError, TypeError):
    """A parameter has a bad type or value.

    Raised by every parameter check of sk_mr (the shared validators of
    ``sk_mr.validation``: ``check_int``, ``check_real``, ``check_option``,
    ``check_bool``), with a message that names the parameter, the values it
    accepts and the value given. It is both a :class:`ValueError` and a :class:`TypeError`, as
    scikit-learn's ``InvalidParameterError`` is, so that code catching either
    (the modules raised one or the other before the validators were shared)
    keeps working.
    """


class MRStateWarning(UserWarning):
    """MR's weights are not what the rest of the restored state implies.

    Raised, for example, when ``load_params`` restores a training history of
    several epochs but no MR state, so that training would resume with
    uniform weights although the history says MR has been running.
    """


class MRParameterWarning(UserWarning):
    """A parameter has no effect because of another parameter's value.

    Raised, for example, for ``eta='auto'`` when the reweighting callback is
    :class:`~sk_mr.RandomReweighting` (which draws its own weights and reads
    no eta), or for an adversarial strategy's ``mw_losses='adversarial'``
    under ``loss_pass='online'`` (the MW losses are then those of the
    training steps). Settings that cannot train as asked raise a ValueError
    instead.
    """
