"""How long each built-in template listens: the answer heard so far is recognised from 96 ms of silence
when no other answer is being recognised, else from 192 ms, previewed from 256 ms, and the end
confirmed after the template's 1000 ms (docs/speech.md says why recognition does not always start at
96 ms)."""

from __future__ import annotations

import yaml

from dualsign.application.perception.speech import endpoint_config
from dualsign.domain.templates import parse_template
from dualsign.scenarios import builtin_sources


def test_every_built_in_template_recognises_early_and_confirms_after_a_second() -> None:
    seen = set()
    for name, text in builtin_sources():
        template = parse_template(yaml.safe_load(text), name)
        config = endpoint_config(template)
        family = template.language.family
        seen.add(family)
        assert (
            config.early_speculate_after_ms,
            config.speculate_after_ms,
            config.preview_after_ms,
            config.end_silence_ms,
        ) == (96, 192, 256, 1000), name
    assert seen == {"en", "zh"}


def test_a_short_confirming_silence_keeps_recognition_and_preview_inside_it() -> None:
    _, text = next((n, t) for n, t in builtin_sources() if n == "insurance-epolicy-zh.yaml")
    doc = yaml.safe_load(text)
    doc["speech"] = {"end_silence_ms": 300}
    config = endpoint_config(parse_template(doc, "short"))
    assert (
        config.early_speculate_after_ms
        <= config.speculate_after_ms
        <= config.preview_after_ms
        < config.end_silence_ms
        == 300
    )
