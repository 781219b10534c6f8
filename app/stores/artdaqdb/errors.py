"""The one exception family of the artdaq_database stores."""


class ArtdaqStoreError(RuntimeError):
    """A store operation that could not be carried out (I/O, a failed tool, corrupt files).

    Outcomes an operator must judge (conflict, foreign configuration, duplicate) are results,
    not errors.
    """
