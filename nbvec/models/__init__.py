"""Models with qdrant-client's names and fields, shared by VectorFrame and Client.

Each model accepts its REST JSON dict form through ``Model.model_validate``,
and refuses unknown fields with :class:`nbvec.InvalidRequest`.

>>> from nbvec import models
>>> models.VectorParams(size=4, distance=models.Distance.DOT).size
4
"""

from ._aliases import *  # noqa: F401,F403
from ._aliases import __all__ as _aliases_all
from ._collections import *  # noqa: F401,F403
from ._collections import __all__ as _collections_all
from ._convert import *  # noqa: F401,F403
from ._convert import __all__ as _convert_all
from ._core import *  # noqa: F401,F403
from ._core import __all__ as _core_all
from ._filters import *  # noqa: F401,F403
from ._filters import __all__ as _filters_all
from ._payload_index import *  # noqa: F401,F403
from ._payload_index import __all__ as _payload_index_all
from ._points import *  # noqa: F401,F403
from ._points import __all__ as _points_all
from ._queries import *  # noqa: F401,F403
from ._queries import __all__ as _queries_all
from ._requests import *  # noqa: F401,F403
from ._requests import __all__ as _requests_all
from ._responses import *  # noqa: F401,F403
from ._responses import __all__ as _responses_all
from ._vector_config import *  # noqa: F401,F403
from ._vector_config import __all__ as _vector_config_all
from ._vectors import *  # noqa: F401,F403
from ._vectors import __all__ as _vectors_all

__all__ = [
    *_core_all,
    *_filters_all,
    *_points_all,
    *_vectors_all,
    *_vector_config_all,
    *_queries_all,
    *_requests_all,
    *_responses_all,
    *_collections_all,
    *_aliases_all,
    *_payload_index_all,
    *_convert_all,
]
