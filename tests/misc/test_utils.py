import os
import stat

import pytest

from ctcbias.utils import atomic_write, check_writable


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_uses_the_usual_file_mode(tmp_path):
    with atomic_write(tmp_path / "x.bin", "wb") as fh:
        fh.write(b"1")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "x.bin").stat().st_mode) == 0o666 & ~mask


def test_check_writable_probes_without_writing(tmp_path):
    # a writable place: True to form, nothing left behind, an existing file untouched
    assert check_writable(tmp_path / "new" / "out.json") == tmp_path / "new" / "out.json"
    assert list((tmp_path / "new").iterdir()) == []
    (tmp_path / "old.json").write_text("kept")
    check_writable(tmp_path / "old.json")
    assert (tmp_path / "old.json").read_text() == "kept"
    # the errors atomic_write gives, named by the path asked for
    with pytest.raises(IsADirectoryError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(OSError, match="cannot write there") as info:
        check_writable("/proc/out.json")
    assert info.value.filename == "/proc/out.json"
