"""A resumable JSON file of result records, one per finished grid cell."""

import json
import math
import numbers
import os
import tempfile

__all__ = ["ResultStore"]


class ResultStore:
    """Records of a grid of runs, saved to JSON as each cell finishes.

    The file holds a JSON list of records (dicts). Every record carries the
    run's configuration (``config``) next to its cell key and results, so a
    rerun with the same configuration skips the cells already present, and a
    file written under another configuration is refused instead of being
    mixed in. Each save writes a temporary file and renames it over the
    target, so an interrupted run never leaves a truncated file.

    Parameters
    ----------
    path : str or path-like or None
      The JSON file; None keeps records in memory only.

    config : dict
      JSON-serializable settings shared by every cell (dataset, epochs,
      architecture, ...). Records whose values for these keys differ make the
      store refuse the file.

    cell_keys : sequence of str
      Record keys that identify a cell (e.g. method, noise_rate, seed).

    result_keys : sequence of str (default=())
      Keys whose finite numbers a finished record holds (e.g.
      ``test_accuracy``). A record read from the file without them, or
      without its cell keys, is incomplete: its cell does not count as done
      (it is run again, and its new records replace the incomplete ones).

    Attributes
    ----------
    records : list of dict
      All complete records, loaded and new.

    incomplete : list of dict
      Records read from the file that are not complete; kept in the file
      until their cell is run again.
    """

    def __init__(self, path, config, cell_keys, result_keys=()):
        self.path = path
        self.config = dict(config)
        self.cell_keys = tuple(cell_keys)
        self.result_keys = tuple(result_keys)
        loaded = self._load()
        self.records = [r for r in loaded if self.is_complete(r)]
        self.incomplete = [r for r in loaded if not self.is_complete(r)]

    def is_complete(self, record):
        """Whether a record holds its cell keys and a finite number for each result key."""
        return all(k in record for k in self.cell_keys) and all(
            isinstance(record.get(k), numbers.Real) and not isinstance(record.get(k), bool)
            and math.isfinite(record[k]) for k in self.result_keys)

    def _load(self):
        if self.path is None or not os.path.exists(self.path):
            return []
        try:
            with open(self.path) as f:
                records = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{self.path} is not a valid results file ({exc}); move it away "
                "or choose another --out.") from exc
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{self.path} must hold a JSON list of records.")
        for record in records:
            differing = {key: (record.get(key, _MISSING), value)
                         for key, value in self.config.items()
                         if key not in record
                         or _normalize(record[key]) != _normalize(value)}
            if differing:
                detail = ", ".join(
                    f"{k}: file has {'no record of it' if old is _MISSING else repr(old)}, "
                    f"this run {new!r}" for k, (old, new) in sorted(differing.items()))
                raise ValueError(
                    f"{self.path} holds results of another configuration ({detail}). "
                    "Use another --out file, or rerun with the file's settings.")
        return records

    def key(self, record):
        """Return the cell key of a record."""
        return tuple(_normalize(record.get(k)) for k in self.cell_keys)

    def has(self, **cell):
        """Whether complete records of this cell are stored (and no incomplete one)."""
        wanted = tuple(_normalize(cell[k]) for k in self.cell_keys)
        return any(self.key(r) == wanted for r in self.records) and not any(
            self.key(r) == wanted for r in self.incomplete)

    def add(self, records):
        """Store the records of one finished cell, replacing any earlier ones, and save."""
        if isinstance(records, dict):
            records = [records]
        records = [{**self.config, **record} for record in records]
        cells = {self.key(r) for r in records}
        self.records = [r for r in self.records if self.key(r) not in cells] + records
        self.incomplete = [r for r in self.incomplete if self.key(r) not in cells]
        self.save()

    def save(self):
        """Write all records to ``path`` atomically."""
        if self.path is None:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(self.records + self.incomplete, f, indent=1)
        os.replace(tmp, self.path)


_MISSING = object()


def _normalize(value):
    # JSON turns tuples into lists and may round floats; compare canonically.
    if isinstance(value, (list, tuple)):
        return tuple(_normalize(v) for v in value)
    if isinstance(value, float):
        return round(value, 12)
    return value
