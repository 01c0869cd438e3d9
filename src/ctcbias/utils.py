"""Small shared helpers: atomic writes, pausing the garbage collector, capturing what
compiled code writes to the process's standard error."""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (made if missing): (fd, its path). The
    errors name ``path``: a directory, or a place that cannot hold files."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file to write", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # (named by the path asked for, not the temporary file's)
        raise OSError(exc.errno, f"cannot write there ({exc.strerror})", str(path)) from None


def check_writable(path: str | Path) -> Path:
    """Fail now, with the error ``atomic_write(path)`` would give, if ``path`` cannot be
    written: for a long job (an evaluation, an LM build) whose output comes at its end.
    Makes the parent folder, as ``atomic_write`` does; writes nothing at ``path``."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    os.close(fd)
    os.unlink(tmp)
    return path


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only on success.

    Nothing is half-written: on an exception the temporary file is removed.
    """
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (nested use is fine).

    For code that allocates many small containers but creates no reference cycles
    (the search, compiling a catalog): each collection walks every tracked object of the
    process, so with a large heap (a loaded LM's vocabulary) it can take a third or more
    of the time. Refcounting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class CapturedStderr:
    """What a block wrote to file descriptor 2 (see ``captured_stderr``)."""

    text = ""


@contextlib.contextmanager
def captured_stderr() -> Iterator[CapturedStderr]:
    """Capture what the block writes to the process's standard error *file descriptor*,
    where compiled libraries write (KenLM prints a progress bar and a hint while it reads
    an ARPA file), instead of showing it; the text is in ``.text`` after the block, also
    when it raised. Python's ``sys.stderr`` is flushed first. It redirects descriptor 2
    for the whole process: keep the block short (loading a file)."""
    out = CapturedStderr()
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield out
            finally:
                os.dup2(saved, 2)
                sink.seek(0)
                out.text = sink.read().decode("utf-8", errors="replace")
    finally:
        os.close(saved)
