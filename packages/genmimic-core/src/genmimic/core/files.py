"""Reading inputs and writing outputs: paths or ``-`` for stdin/stdout, and atomic file replacement."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .errors import GenMimicError

STREAM = "-"  #: the name that means stdin (for inputs) or stdout (for outputs)


def display_name(source: str | os.PathLike[str], output: bool = False) -> str:
    """How a file is named in messages: its path, or ``<stdin>`` (``<stdout>`` for an output) for ``-``."""
    if str(source) == STREAM:
        return "<stdout>" if output else "<stdin>"
    return str(source)


def missing_file_hint(path: Path) -> str:
    """What to do about a path that does not exist: the closest name in its folder, or the first missing folder."""
    import difflib

    folder = path.parent
    if not folder.is_dir():
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        return f"check the path: {folder} has no {path.relative_to(folder).parts[0]}"
    # names compared without their shared suffix (".npz" alone made "nonexist.npz" look like "text.npz")
    names = {p.stem if p.suffix == path.suffix else p.name: p.name for p in folder.iterdir()}
    close = difflib.get_close_matches(path.stem, list(names), n=1, cutoff=0.7)
    return f"did you mean {folder / names[close[0]]}?" if close else f"check the path ({folder} has no {path.name})"


def read_bytes(source: str | os.PathLike[str]) -> bytes:
    """All bytes of a file, or of stdin for ``-`` (read once to EOF, never polled)."""
    if str(source) == STREAM:
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise GenMimicError(f"{source}: no such file; fix: {missing_file_hint(Path(source))}") from None
    except IsADirectoryError:
        raise GenMimicError(f"{source}: is a directory, expected a file; fix: name a file in it "
                            f"(e.g. {source}/*.npz)") from None
    except OSError as err:
        raise GenMimicError(f"{source}: cannot read: {err.strerror or err}") from None


def current_umask() -> int:
    """The process's file-mode creation mask (read without changing it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_path(dest: str | os.PathLike[str]) -> Path:
    """``dest`` as a Path once it can be written: not a directory, its folder exists. Commands call it before
    their work, so a mistyped ``-o`` fails at once rather than after minutes. (``-``, stdout, passes.)

    Raises:
        GenMimicError: ``dest`` is a directory, its folder does not exist (the fix: create it) or a file
            stands where a folder of its path should be.
    """
    path = Path(dest)
    if str(dest) == STREAM:
        return path
    if path.is_dir():
        raise GenMimicError(f"{dest}: is a directory, expected a file name; fix: name a file in it, "
                            f"e.g. {path / 'out.npz'}")
    parent = path.parent  # Path("clip.npz").parent is Path(".")
    if not parent.is_dir():
        _refuse_a_file_in_the_way(dest, parent)
        raise GenMimicError(f"{dest}: folder {parent} does not exist; fix: create it (mkdir -p {parent})")
    return path


def _refuse_a_file_in_the_way(dest: str | os.PathLike[str], folder: Path) -> None:
    """Raise GenMimicError when a file stands where ``folder`` or one of its parents should be (the nearest of
    them that exists is not a folder), naming ``dest``."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise GenMimicError(f"{dest}: {blocker} is a file, not a folder; fix: write elsewhere or move it")


def check_output_folder(dest: str | os.PathLike[str]) -> Path:
    """``dest`` as a Path once a command can make it its output folder: not an existing file, and no file where
    one of its parent folders should be. Commands call it before their work (a benchmark run is minutes).

    Raises:
        GenMimicError: ``dest`` or one of its parents is a file.
    """
    path = Path(dest)
    if path.is_file():
        raise GenMimicError(f"{dest}: is a file, expected a folder; fix: name a new or existing folder")
    _refuse_a_file_in_the_way(dest, path)
    return path


def write_bytes_atomic(dest: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``dest`` all at once: a temporary file in the same folder, then a rename.

    A reader never sees a partial file and an existing file is left untouched on failure. ``-``
    writes to stdout, and refuses a terminal (binary data would garble it).
    """
    if str(dest) == STREAM:
        if sys.stdout.isatty():
            raise GenMimicError("refusing to write binary data to a terminal: pass -o FILE or pipe the output")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = check_output_path(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), 0o666 & ~current_umask())  # mkstemp makes 0600; a new file gets the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def looks_like_video(head: bytes) -> bool:
    """Whether a file's first bytes are a video container's: MP4/MOV (an ``ftyp``/``moov``/``mdat`` box),
    Matroska/WebM (EBML), AVI (RIFF ``AVI``) or MPEG-TS (sync bytes 188 apart)."""
    return (head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
            or head[:4] == b"\x1a\x45\xdf\xa3" or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
            or (len(head) > 188 and head[0] == 0x47 and head[188] == 0x47))


def looks_like_bvh(head: bytes) -> bool:
    """Whether a file's first bytes are a BVH's: HIERARCHY first, after a byte-order mark or blank lines."""
    return head.lstrip(b"\xef\xbb\xbf").lstrip()[:9].upper() == b"HIERARCHY"
