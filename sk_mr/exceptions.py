"""sk_mr's own warning classes."""

__all__ = ["MRStateWarning"]


class MRStateWarning(UserWarning):
    """MR's weights are not what the rest of the restored state implies.

    Raised, for example, when ``load_params`` restores a training history of
    several epochs but no MR state, so that training would resume with
    uniform weights although the history says MR has been running.
    """
