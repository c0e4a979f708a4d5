"""sparselearn._results: the interface every result object shares."""
import dataclasses
import json

import pytest

from sparselearn._results import (ResultFilesMixin, ResultMixin, deprecated_alias,
                                  renamed_argument)


@dataclasses.dataclass(frozen=True)
class _Toy(ResultMixin):
    value: float
    old_value = deprecated_alias("old_value", "value")

    def to_dict(self):
        return {"value": self.value}

    def _frame_records(self):
        return [{"value": self.value}, {"value": 2 * self.value}]

    def __str__(self):
        return f"toy <{self.value}> & co"


def test_frame_and_html_come_from_the_records_and_the_text():
    pytest.importorskip("pandas")
    toy = _Toy(1.5)
    assert toy.to_frame()["value"].tolist() == [1.5, 3.0]
    assert toy._repr_html_() == ("<div><strong>_Toy</strong><pre>toy &lt;1.5&gt; &amp; co"
                                 "</pre></div>")
    json.dumps(toy.to_dict())


def test_deprecated_alias_warns_and_returns_the_new_attribute():
    with pytest.warns(FutureWarning, match=r"_Toy.old_value is deprecated.*use \.value"):
        assert _Toy(2.0).old_value == 2.0


def test_renamed_argument():
    assert renamed_argument("f", "old", "new", None, 5, 1) == 5
    with pytest.warns(FutureWarning, match=r"f\(old=...\) is deprecated.*pass new="):
        assert renamed_argument("f", "old", "new", 7, 1, 1) == 7
    with pytest.raises(TypeError, match="both new= and its deprecated alias old="):
        renamed_argument("f", "old", "new", 7, 5, 1)


@dataclasses.dataclass(frozen=True)
class _ToyFiles(ResultFilesMixin):
    values: tuple

    def to_dict(self):
        return {"values": list(self.values), "nested": {"worst": max(self.values)}}

    def _frame_records(self):
        return [{"index": i, "value": v} for i, v in enumerate(self.values)]

    def _frame_columns(self):
        return ["index", "value"]


def test_result_files_write_the_rows_and_the_dict(tmp_path):
    toy = _ToyFiles((1.5, float("nan"), float("inf")))
    assert toy.to_csv(tmp_path / "toy.csv") == str(tmp_path / "toy.csv")
    assert (tmp_path / "toy.csv").read_text(encoding="utf-8").splitlines() == [
        "index,value", "0,1.5", "1,nan", "2,inf"]
    assert toy.to_json(str(tmp_path / "toy.json")) == str(tmp_path / "toy.json")
    # Strict JSON, non-finite floats as null at any depth.
    assert json.loads((tmp_path / "toy.json").read_text(encoding="utf-8")) == {
        "values": [1.5, None, None], "nested": {"worst": None}}
    _ToyFiles(()).to_csv(tmp_path / "empty.csv")  # no rows: the header only
    assert (tmp_path / "empty.csv").read_bytes() == b"index,value\r\n"  # csv module default


def test_result_files_record_metadata_as_leading_columns_and_top_level_keys(tmp_path):
    toy = _ToyFiles((1.5, 2.0))
    toy.to_csv(tmp_path / "toy.csv", metadata={"network": "net.npz", "output": 1})
    assert (tmp_path / "toy.csv").read_text(encoding="utf-8").splitlines() == [
        "network,output,index,value", "net.npz,1,0,1.5", "net.npz,1,1,2.0"]
    toy.to_json(tmp_path / "toy.json", metadata={"network": "net.npz"})
    assert list(json.loads((tmp_path / "toy.json").read_text(encoding="utf-8"))) == [
        "network", "values", "nested"]
    # A key of the result's own would be silently replaced: refused, nothing written.
    with pytest.raises(ValueError, match=r"_ToyFiles.to_csv\(\): metadata key 'value' is"):
        toy.to_csv(tmp_path / "bad.csv", metadata={"value": 0})
    with pytest.raises(ValueError, match=r"_ToyFiles.to_json\(\): metadata key 'values'"):
        toy.to_json(tmp_path / "bad.json", metadata={"values": 0})
    with pytest.raises(TypeError, match="metadata must be a dict with string keys, got list"):
        toy.to_csv(tmp_path / "bad.csv", metadata=[("network", "net.npz")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.csv", "toy.json"]


@pytest.mark.parametrize("path, error, match", [
    (None, TypeError, r"_ToyFiles.to_csv\(\): path must be a str or os.PathLike, got NoneType"),
    (3, TypeError, "path must be a str or os.PathLike, got int"),
    (b"toy.csv", TypeError, "path must be a str or os.PathLike, got bytes"),
    ("", ValueError, r"_ToyFiles.to_csv\(\): path must name a file, got ''"),
])
def test_result_files_name_a_bad_path(path, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=match):
        _ToyFiles((1.0,)).to_csv(path)
    with pytest.raises(error, match=match.replace("to_csv", "to_json")):
        _ToyFiles((1.0,)).to_json(path)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left
