"""Properties: member references in monitoring text always become labels; tokens hash apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alliance.store.monitoring import humanise
from alliance.store.tokens import new_token, token_hash

labels = st.text(alphabet=st.characters(whitelist_categories=("L",)), min_size=1, max_size=12)


@given(st.dictionaries(st.integers(1, 10_000), labels, min_size=1, max_size=5),
       st.lists(st.sampled_from(["drop for", "split:", "member", "rated"]), max_size=4))
def test_every_known_member_reference_becomes_its_label(names: dict[int, str],
                                                        words: list[str]) -> None:
    text = " ".join(f"{w} m{i}" for i, w in zip(names, words or ["for"] * len(names),
                                                  strict=False))
    out = humanise({"alert": {"headline": text, "evidence": [{"explanation": text}]}},
                   {f"m{i}": label for i, label in names.items()})
    for i in names:
        assert f"m{i} " not in out["alert"]["headline"] + " "
    assert out["alert"]["headline"] == out["alert"]["evidence"][0]["explanation"]


@given(st.integers(0, 5))
def test_fresh_tokens_never_share_a_hash(_: int) -> None:
    a, b = new_token(), new_token()
    assert a != b and token_hash(a) != token_hash(b) and len(token_hash(a)) == 64
