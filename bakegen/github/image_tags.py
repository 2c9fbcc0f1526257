"""What the workflow's merge jobs publish beside the tags bake gives: the tags read from each
built image (`tags_from_image`, run by the `image_tags` step script) and the per-platform tags
(`platform_tags`). Pure functions of the plan; only pushed images that have any are named."""

from __future__ import annotations

from collections.abc import Mapping

from bakegen.manifest.values import Text
from bakegen.plan.records import Plan


def image_tag_commands(plan: Plan) -> dict[str, list[dict[str, str]]]:
    """Target -> its tags read from the image, in the manifest's order: `tag`, the tag (without
    a repository) with `{output}` where the command's output goes and each bake variable as
    `${NAME}` (`${NAME:-default}` when it has a default: the step takes the environment's
    value when it is non-empty, else the default), and `run`, the shell command."""
    defaults = dict(plan.variables)
    return {
        image.target: [
            {"tag": tag_template(tag.text, defaults), "run": tag.run} for tag in image.image_tags
        ]
        for image in plan.images
        if image.push and image.image_tags
    }


def platform_tag_templates(plan: Plan) -> dict[str, dict[str, str]]:
    """Target -> platform -> the template of that platform's tags, `{tag}` standing for each
    tag of the image (the tag only, without its repository; those read from the image too)."""
    return {
        image.target: dict(image.platform_tags)
        for image in plan.images
        if image.push and image.platform_tags
    }


def tag_template(text: Text, defaults: Mapping[str, str]) -> str:
    """A tag's text with each bake variable as `${NAME}`, or `${NAME:-default}`."""
    return "".join(
        part
        if isinstance(part, str)
        else "${"
        + part.name
        + (f":-{defaults[part.name]}" if defaults.get(part.name) else "")
        + "}"
        for part in text
    )
