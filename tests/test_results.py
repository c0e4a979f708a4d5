"""sparselearn._results: the interface every result object shares."""
import dataclasses
import json

import pytest

from sparselearn._results import ResultMixin, deprecated_alias, renamed_argument


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
