"""parksite: where industrial parks and firms should go.

The import package is ``geo``; the command line is ``parksite``. Modules are named
after the planner's nouns: :mod:`geo.crs`, :mod:`geo.layers`, :mod:`geo.study`,
:mod:`geo.redline`, :mod:`geo.webmap`, …
"""

from __future__ import annotations

__version__ = "0.1.0"
