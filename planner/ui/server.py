"""Server start-up: the ASGI app's lifespan hook and the warm-up it starts.

``streamlit run app.py`` serves :data:`PAGE_SCRIPT` through ``st.App``. At server start the
hook starts one background thread that fills the shared caches the first page needs (the
embedded data, the default synthetic farms and the Explore map's JSON) while the browser is
still loading Streamlit's JavaScript, so the first session does not wait for them. The
warm-up only saves time: if it fails, the page computes the same values itself and reports
any real error there.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

PAGE_SCRIPT = Path(__file__).resolve().with_name("main.py")
_LOG = logging.getLogger(__name__)


def warm_up() -> None:
    """Fill the caches of the default Explore map (run once per server, in a thread)."""
    try:
        from planner.ui import explore  # noqa: PLC0415 - the imports are part of the warm-up

        explore.warm_up()
    except Exception:  # noqa: BLE001 - the page recomputes and reports real errors
        _LOG.warning("warm-up failed; the first page computes its data itself", exc_info=True)


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:  # noqa: ANN401 - st.App is untyped
    """Start the warm-up thread when the server starts (``st.App`` lifespan hook)."""
    del app
    threading.Thread(target=warm_up, name="planner-warm-up", daemon=True).start()
    yield
