"""`autotrack report --format md`: report.md with its charts as PNGs in report_files/ beside it."""

from __future__ import annotations

import re
from urllib.parse import unquote

from report_pages import assert_png_drawn

IMAGE_LINK = re.compile(r"!\[((?:\\.|[^\]\\])*)\]\(([^)\s]+)\)")


def image_links(markdown: str) -> list[tuple[str, str]]:
    return IMAGE_LINK.findall(markdown)


def test_markdown_with_images_beside_it(cli, trained, tmp_path):
    path = tmp_path / "out" / "lgb.md"
    path.parent.mkdir()
    result = cli("report", trained.lightgbm_ids[0], "-o", str(path), env=trained.env())
    assert result.stdout.strip() == str(path.resolve())
    markdown = path.read_text(encoding="utf-8")
    links = image_links(markdown)
    evals = trained.lightgbm[0]["evals"]
    # a curve per metric and an importance chart per kind (gain, split)
    assert len(links) == len(next(iter(evals.values()))) + 2
    folder = tmp_path / "out" / "lgb_files"
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(unquote(link).split("/")[-1]
                                                                  for _, link in links)
    for alt, link in links:
        assert link.startswith("lgb_files/")  # relative: the pair moves together
        image = path.parent / unquote(link)
        assert image.is_file(), link
        assert_png_drawn(image.read_bytes())
    assert any("learning curve of auc" in alt for alt, _ in links)
    # a GitHub pipe table holding the params
    assert re.search(r"^\| num\\_leaves \| 7 \|$", markdown, re.MULTILINE)


def test_format_defaults_from_suffix_and_name(cli, trained, tmp_path):
    cli("report", trained.sklearn_id, "--format", "md", env=trained.env())  # cwd is tmp_path
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report_files").is_dir()
    cli("report", trained.sklearn_id, env=trained.env())
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_several_runs_in_markdown(cli, trained, tmp_path):
    path = tmp_path / "both.md"
    cli("report", *trained.lightgbm_ids, "-o", str(path), env=trained.env())
    markdown = path.read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("| num\\_leaves |"))
    assert row == "| num\\_leaves | 7 | 15 |"
    assert markdown.count("<details>") >= 2  # each run folded under the comparison
    for _, link in image_links(markdown):
        assert (tmp_path / unquote(link)).is_file()
