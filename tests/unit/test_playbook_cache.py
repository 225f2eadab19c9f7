"""The checks of a whole playbook set run once per content and are reused after."""

import json
import logging
import shutil

import pytest

from onboarding.domain.playbooks import (
    CACHE_DIR,
    PlaybookError,
    default_playbooks_dir,
    load_playbooks,
)


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "playbooks"
    shutil.copytree(default_playbooks_dir(), target, ignore=shutil.ignore_patterns(CACHE_DIR))
    return target


def replace(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_the_first_load_checks_the_set_and_says_so_then_it_is_reused(folder, caplog):
    with caplog.at_level(logging.INFO, logger="onboarding.domain.playbooks"):
        first = load_playbooks(folder)
    assert first.rechecked
    assert "checked the whole set again" in caplog.text
    assert len(list((folder / CACHE_DIR).glob("checks-*.json"))) == 1
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="onboarding.domain.playbooks"):
        second = load_playbooks(folder)
    assert not second.rechecked
    assert "checked the whole set again" not in caplog.text
    assert second.version == first.version
    assert [r.id for r in second.rules] == [r.id for r in first.rules]


@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_a_changed_file_is_checked_again_and_its_problem_reported_every_time(folder):
    load_playbooks(folder)
    replace(
        folder / "set_boundaries.yaml",
        '    risk: 20\n    points: -3\n    because: "You want to direct',
        '    risk: 20\n    points: -9\n    because: "You want to direct',
    )
    for _ in range(2):  # the second load reads the kept result: the same problem
        with pytest.raises(PlaybookError) as caught:
            load_playbooks(folder)
        assert any(
            "control_level: one answer can move the score by 18" in str(p)
            for p in caught.value.problems
        )
    assert len(list((folder / CACHE_DIR).glob("checks-*.json"))) == 2


@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_a_damaged_or_forged_cache_file_is_not_trusted(folder):
    load_playbooks(folder)
    (kept,) = (folder / CACHE_DIR).glob("checks-*.json")
    kept.write_text("{not json")
    assert load_playbooks(folder).rechecked
    data = json.loads(kept.read_text())
    data["key"] = "0" * 64  # a file under the right name for other content
    kept.write_text(json.dumps(data))
    assert load_playbooks(folder).rechecked


def test_the_result_can_be_kept_in_another_folder_such_as_the_instance(folder, tmp_path):
    elsewhere = tmp_path / "instance-cache"
    assert load_playbooks(folder, cache_dir=elsewhere).rechecked
    assert not load_playbooks(folder, cache_dir=elsewhere).rechecked
    assert list(elsewhere.glob("checks-*.json"))
    assert not (folder / CACHE_DIR).exists()
