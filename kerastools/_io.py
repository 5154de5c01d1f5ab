"""Atomic file writes: a temporary file beside the target, then one rename.

The one place where kerastools writes files (figures, PNG bytes): a reader never
sees half a file, an interrupted write leaves the old file (or none) and no
temporary behind, and the file handle is closed on every path.
"""

import os
import tempfile


def write_atomic(path, write, default_suffix=""):
    """Calls ``write(file)`` on a temporary file beside ``path``, then renames it to ``path``.

    The directory is created. The file gets the usual ``0o644`` permissions
    (``mkstemp`` makes ``0o600`` files). On any exception, ``KeyboardInterrupt``
    included, the temporary file is removed and the exception re-raised.

    Returns:
        ``path`` as a string.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1] or default_suffix
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_bytes_atomic(path, data):
    """Writes ``data`` (bytes) to ``path`` through a temporary file and a rename."""
    return write_atomic(path, lambda f: f.write(data))


def check_writable_file(name, path):
    """Raises ``ValueError`` unless a file can be created at ``path`` (directory created).

    ``name`` is the argument's name for the message.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        os.close(fd)
        os.remove(tmp)
    except OSError as exc:
        raise ValueError(
            f"Argument `{name}` must be a writable file path; {directory!r} cannot be "
            f"written ({exc.strerror or exc}). Received: {name}={path!r}"
        ) from None
    if os.path.isdir(path):
        raise ValueError(
            f"Argument `{name}` must be a file path, not a directory. Received: {name}={path!r}")
    return path
