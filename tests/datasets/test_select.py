

def test_group_keys_fill_missing_keys_row_by_row():
    # One row without a group must not dissolve the other rows' groups (replicas of a star
    # would then be free to straddle splits); an empty key is as missing as a null one.
    import pandas as pd

    from spectype.datasets import group_keys

    cat = pd.DataFrame({"path": ["a", "a", "b", "c"], "index": [0, 1, 0, 0],
                        "group": ["s1", "s1", None, ""]})
    assert group_keys(cat).tolist() == ["s1", "s1", "b#0", "c#0"]
    assert group_keys(cat, "group").tolist() == ["s1", "s1", "b#0", "c#0"]
    assert group_keys(cat.drop(columns="group")).tolist() == ["a#0", "a#1", "b#0", "c#0"]
