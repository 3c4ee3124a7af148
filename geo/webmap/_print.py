"""The map's A4 print layout rendered headless with Debian Chromium (``parksite map
--pdf/--png``): the same page the browser prints (``#print`` turns the layout on).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from ..errors import OutputError
from ..io import check_writable

#: Where Debian's chromium package puts the browser.
CHROMIUM = Path("/usr/bin/chromium")


#: The print layout's page box (A4 landscape less 8 mm margins: 281 × 192 mm) at 96 dpi,
#: the screenshot size of ``--png``.
A4_PX = (1062, 726)


_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-extensions", "--disable-background-networking", "--disable-sync",
          "--disable-component-update", "--hide-scrollbars", "--mute-audio",
          "--disable-dev-shm-usage", "--allow-file-access-from-files",
          "--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw"]


_OFFLINE = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND"]


def find_chromium() -> Path:
    """The Chromium binary, or :class:`OutputError` saying how to install it.

    Returns
    -------
    pathlib.Path
        ``chromium`` on ``PATH``, else ``/usr/bin/chromium`` (Debian's package) if it
        exists.

    Raises
    ------
    OutputError
        No Chromium found; the message says how to install it.
    """
    found = shutil.which("chromium") or (str(CHROMIUM) if CHROMIUM.exists() else None)
    if not found:
        raise OutputError("--pdf/--png need Chromium to render the map: install it with "
                          "sudo apt-get install chromium (or bash tools/install_browser.sh)")
    return Path(found)


def render_print(html_path: str | os.PathLike, out_path: str | os.PathLike, *,
                 kind: Literal["pdf", "png"], offline: bool = True,
                 overwrite: bool = True, timeout_s: float = 180.0) -> Path:
    """Render a map's A4 landscape print layout to PDF or PNG, atomically.

    Parameters
    ----------
    html_path
        A map written by :func:`write_map`.
    out_path
        The ``.pdf`` or ``.png`` to write (written to a temporary file beside it, then
        renamed; never half-written).
    kind : {"pdf", "png"}
        One A4 landscape page, or a 1062 × 726 px screenshot of the same layout.
    offline
        Cut Chromium off the network (the map's own promise); False for a map with
        online tiles.
    overwrite
        Replace an existing file.
    timeout_s
        Give up after this many seconds.

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Raises
    ------
    OutputError
        Chromium missing or failing, the wrong suffix, an unwritable path.
    """
    out = Path(out_path)
    if out.suffix.lower() != f".{kind}":
        raise OutputError(f"{out}: --{kind} writes a .{kind} file; give a name ending in "
                          f".{kind}")
    check_writable(out, overwrite=overwrite)
    browser = find_chromium()
    url = Path(html_path).resolve().as_uri() + "#print"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".{kind}", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # Chromium creates it, with the umask's mode (mkstemp's file is 0600)
    profile = tempfile.mkdtemp(prefix="parksite-print-")
    target = ["--no-pdf-header-footer", f"--print-to-pdf={tmp}"] if kind == "pdf" else \
        [f"--window-size={A4_PX[0]},{A4_PX[1]}", f"--screenshot={tmp}"]
    cmd = [str(browser), *_FLAGS, *(_OFFLINE if offline else []),
           f"--user-data-dir={profile}", *target, url]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            raise OutputError(f"{out}: Chromium could not render the map (exit "
                              f"{proc.returncode}): {' | '.join(tail) or 'no output'}")
        os.replace(tmp, out)
    except subprocess.TimeoutExpired:
        raise OutputError(f"{out}: Chromium took over {timeout_s:.0f} s rendering the map; "
                          "hide layers or raise [map] simplify_m") from None
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(profile, ignore_errors=True)
    return out
