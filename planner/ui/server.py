"""Server start-up: the ASGI app's lifespan hook and the warm-up it starts.

``streamlit run app.py`` serves :data:`PAGE_SCRIPT` through ``st.App``. At server start the
hook starts one background thread that

1. fills the shared caches the first page needs (the embedded data, the default synthetic
   farms and the Explore map's JSON) while the browser is still loading Streamlit's
   JavaScript, so the first session does not wait for them; then,
2. once a session has been sent the Explore page (:func:`planner.ui.cache.first_page_sent`,
   or after ``FIRST_PAGE_TIMEOUT_S``) and the server has then been idle for 2 s (the browser
   draws the map meanwhile), prepares the first solve: it imports the solver stack, compiles
   the two numba kernels a solve of the default scenario calls
   (:func:`planner.models._kernels.warm`; a fresh checkout or a wheel install has no disk
   cache of them yet: about 2 s of CPU, 4 s for all five) and builds the default scenario's
   inputs and candidate sites. The other kernels compile on first use (CFLP and heuristics),
   so the warm-up does not compete with a first solve that starts right away.

Step 2 runs at normal priority: a lower one (tried: niceness 5) made a solve that waits for
it (for the cached inputs, or for the GIL) crawl on a loaded machine.

The warm-up only saves time: if it fails, the page computes the same values itself and
reports any real error there. ``$PLANNER_APP_WARM_SOLVER=0`` skips step 2.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

PAGE_SCRIPT = Path(__file__).resolve().with_name("main.py")
ENV_WARM_SOLVER = "PLANNER_APP_WARM_SOLVER"
IDLE_WINDOW_S = 0.5
"""Length of one sample of the server's own CPU use when waiting for it to be idle."""
IDLE_CPU_SHARE = 0.05
"""The server counts as idle when it used less than this share of a core in a window."""
IDLE_WINDOWS = 4
"""Consecutive idle windows before step 2 starts (2 s: the browser has drawn the first map
by then on an idle machine; on a loaded one step 2 may still overlap its drawing)."""
FIRST_PAGE_TIMEOUT_S = 60.0
"""Step 2 starts after this long even if no browser opened the Explore page."""
IDLE_TIMEOUT_S = 30.0
"""Step 2 starts after this long even if the server never looked idle."""
_LOG = logging.getLogger(__name__)


def warm_up() -> threading.Event | None:
    """Fill the caches of the default Explore map (run once per server, in a thread).

    Returns
    -------
    first_page
        The event set once a session has been sent the Explore page
        (:func:`planner.ui.cache.first_page_sent`), or ``None`` if the page's modules failed
        to import (the page then reports the error itself).
    """
    try:
        from planner.ui import cache, explore  # noqa: PLC0415 - the imports are part of the warm-up
    except Exception:  # noqa: BLE001 - the page imports them again and reports real errors
        _LOG.warning("warm-up failed; the first page computes its data itself", exc_info=True)
        return None
    try:
        explore.warm_up()
    except Exception:  # noqa: BLE001 - the page recomputes and reports real errors
        _LOG.warning("warm-up failed; the first page computes its data itself", exc_info=True)
    return cache.first_page_sent()


def wait_until_idle(
    window_s: float = IDLE_WINDOW_S,
    share: float = IDLE_CPU_SHARE,
    windows: int = IDLE_WINDOWS,
    timeout_s: float = IDLE_TIMEOUT_S,
) -> bool:
    """Block until this process used less than ``share`` of a core for ``windows`` windows.

    Returns ``False`` when ``timeout_s`` passed first. Only this process's CPU time counts,
    so a busy machine does not look like a busy server.
    """
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        cpu0 = time.process_time()
        time.sleep(window_s)
        quiet = quiet + 1 if time.process_time() - cpu0 < share * window_s else 0
        if quiet >= windows:
            return True
    return False


def warm_solver() -> None:
    """Prepare the first solve: solver imports, compiled kernels, default inputs and sites."""
    try:
        from planner.ui import cache, scenario, solving  # noqa: PLC0415 - the imports are the warm-up

        default = scenario.default_scenario()
        cache.candidate_sites(default)
        solving.warm(default)
    except Exception:  # noqa: BLE001 - the first solve recomputes and reports real errors
        _LOG.warning("solver warm-up failed; the first solve prepares itself", exc_info=True)


def _warm_all() -> None:
    first_page = warm_up()
    if os.environ.get(ENV_WARM_SOLVER, "1").strip() == "0":
        return
    if first_page is not None:
        first_page.wait(FIRST_PAGE_TIMEOUT_S)
    wait_until_idle()
    warm_solver()


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:  # noqa: ANN401 - st.App is untyped
    """Start the warm-up thread when the server starts (``st.App`` lifespan hook)."""
    del app
    threading.Thread(target=_warm_all, name="planner-warm-up", daemon=True).start()
    yield
