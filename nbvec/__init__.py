"""nbvec: Qdrant's search API in a notebook process.

>>> import numpy as np, nbvec
>>> vf = nbvec.VectorFrame(3, "Cosine", progress=False)
>>> _ = vf.upsert([1, 2], np.array([[1, 0, 0], [0, 1, 0]]))
>>> vf.search([1, 0.1, 0], limit=1)[0].id
1
"""

from . import models
from ._client import Client
from ._errors import *  # noqa: F403
from ._errors import __all__ as _error_names
from ._frame import VectorFrame
from ._results import Results

__version__ = "0.1.0"

__all__ = ["VectorFrame", "Client", "Results", "models", *_error_names]
