"""The bundled recogniser routes each language to its own engine: answers and preparation alike."""

from __future__ import annotations

from dualsign.engines.asr_routed import LanguageRoutedAsr
from dualsign.engines.fake import ScriptedAsr


def test_preparing_a_language_prepares_only_its_engine() -> None:
    english, mandarin = ScriptedAsr(languages=("en",)), ScriptedAsr(languages=("zh",))
    asr = LanguageRoutedAsr("bundled", {"en": english, "zh": mandarin}, fallback="zh")
    asr.prepare("zh")
    assert (english.prepared, mandarin.prepared) == ([], ["zh"])  # an English-only box never loads base
    asr.prepare("en")
    asr.prepare("yue")  # a language without its own engine: the fallback's
    assert (english.prepared, mandarin.prepared) == (["en"], ["zh", "yue"])
