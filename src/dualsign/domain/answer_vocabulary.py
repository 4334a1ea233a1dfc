"""The words the answer matcher listens for, in Chinese and English.

Lists are data: each is written as space-separated words (phrases in English joined with ``_``) and
turned into the tuples and sets the rules in ``matching.py`` use. Adding a hedge or a question word here
changes verdicts: run the answer corpus (tests/data/answer_corpus.yaml) after any edit.
"""

from __future__ import annotations

import re


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _phrases(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split("_")) for p in text.split())


ZH_NEGATION_CHARS = frozenset("不别勿否无未没甭莫非")
# homophones of 不/没/别 that an ASR engine may write
ZH_NEGATION_SOUNDS = frozenset(_words("bie bu mei"))
ZH_QUESTION_PARTICLES = _words("吗 么 嘛 呢")
ZH_QUESTION_WORDS = _words("什么 啥 为什么 为啥 怎么 哪 谁 多少 是否 如何 咋")
ZH_NOT_UNDERSTOOD = _words("""
    没听懂 听不懂 没听清 听不清 没听明白 听不明白 没听见 听不见 没听到 再说一遍
    再说一次 再讲一遍 再读一遍 重复一遍 重复一下 再重复 慢一点 说慢点
""")
ZH_HEDGES = _words("""
    可能 应该 大概 也许 或许 好像 似乎 差不多 估计 说不定 不一定 不确定 大约 貌似 兴许
    八成 算是 基本 一般 有点 有些 部分 还行 还可以 凑合 我想 我猜 我觉得 感觉 吧 不太
    不大 不怎么 不是很 不是太
""")
# hedging idioms containing a negation: checked on the whole answer before anything else
ZH_HEDGE_IDIOMS = _words("也不是 也不算 倒不是 说不准 说不好 不好说 不一定 不见得 未必")
ZH_CONDITIONALS = _words("但是 但 不过 可是 只是 然而 除了 如果 要是 假如 除非")
# affirmative words containing a negation character; never accepted on their own
ZH_NEGATION_IDIOMS = _words("非常 没问题 没有问题 没错 没有错 无误 准确无误")
ZH_PARTICLES = _words("""
    我 本人 就是 当然 滴 得 的 了 啦 呀 哈 都 也 已经 确实 非常 很 完全
    全部 谢谢 您 你 一切 所有 这些 上述 以上 内容 条款 事项 情况 好了
""")
ZH_AFFIRMATIVES = _words("""
    是的 是 对的 对 好的 好 行 清楚 明白 知道 知晓 了解 理解 同意 确认 愿意
    可以 没问题 没有问题 没错 无误 自愿 认可 接受 签 本人签
""")
# "A不A" / "A没A" questions: 是不是, 知不知道, 有没有
_ZH_A_NOT_A = re.compile("(.)[不没]\\1")
EN_NEGATIONS = frozenset(
    _words("""
    decline deny disagree nah neither never no nobody none nope nor not nothing object refuse reject
    without
""")
)
EN_QUESTION_WORDS = frozenset(
    _words("""
    again eh excuse how huh mean pardon repeat sorry what whats when where which who whom whose why
""")
)
EN_QUESTION_OPENERS = _phrases("""
    do_you can_you could_you would_you is_it is_that does_that do_i should_i are_you
""")
EN_NOT_UNDERSTOOD = _phrases("""
    did_not_catch did_not_hear can_not_hear say_that_again one_more_time come_again
""")
EN_HEDGES = frozenset(
    _words("""
    almost basically believe could fairly guess hopefully ish kinda likely may maybe might mostly
    partially partly perhaps possibly pretty probably roughly should somewhat sorta suppose think unsure
""")
)
EN_HEDGE_PHRASES = _phrases("kind_of sort_of more_or_less i_feel not_sure")
EN_CONDITIONALS = frozenset(_words("although but except however if though unless yet"))
EN_NEGATION_IDIOMS = _phrases("no_problem not_a_problem no_problems")
EN_PARTICLES = frozenset(
    _words("""
    a all also am an and been completely did do everything explained fully has have heard i is it just
    maam madam me much now of please read said sir so terms thank thanks that the them these this those
    to too totally very well you
""")
)
EN_AFFIRMATIVES = frozenset(
    _words("""
    absolutely accept affirmative agree agreed alright certainly clear confirm confirmed correct course
    definitely fine got indeed know myself ok okay right sign sure true understand understood willing
    yeah yep yes yup
""")
)
# further plain negatives that agree with a negative answer ("no, nobody")
EN_AGREEING_NEGATIVES = frozenset(_words("never no nobody none noone one"))
# words allowed inside an English phrase ("I do understand")
EN_GAP_WORDS = frozenset(_words("all certainly completely definitely do fully really totally"))

# Natural answers by the polarity a question expects (templates.Question.expects): a template's
# acceptable answers extend these, its rejections remove from them. A deny question rejects the
# affirmatives (有 / 是的 / yes to "has anyone forced you?"), affirmative idioms with a negation
# character (没问题, no problem) included: they are never a "no".
ZH_AFFIRM_ANSWERS = _words("""
    是 是的 对 对的 好 好的 嗯好的 了解 了解了 明白 明白了 清楚 清楚了 知道 知道了 没问题 没有问题
    可以 确认 同意 行 知晓 理解 认可 没错
""")
ZH_DENY_ANSWERS = _words("没有 没 没人 没有人 都没有 不是 否 没有的 从来没有 一个都没有 都没")
ZH_DENY_OPPOSING = _words("有 有的 有人 有过 是 是的 对 对的 好的 没问题 没有问题 没错 确实有 同意")
EN_AFFIRM_ANSWERS = (
    "yes",
    "yeah",
    "yes I do",
    "I do",
    "I understand",
    "understood",
    "I agree",
    "correct",
    "that's right",
    "right",
    "sure",
    "okay",
    "of course",
    "no problem",
    "I confirm",
)
EN_DENY_ANSWERS = (
    "no",
    "nope",
    "no one",
    "nobody",
    "none",
    "never",
    "not at all",
    "no one did",
    "nobody did",
)
EN_DENY_OPPOSING = (
    "yes",
    "yeah",
    "yes there is",
    "yes someone did",
    "someone did",
    "correct",
    "right",
    "sure",
    "okay",
    "no problem",
)
POLARITY_VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "affirm": {"zh": ZH_AFFIRM_ANSWERS, "en": EN_AFFIRM_ANSWERS},
    "deny": {"zh": ZH_DENY_ANSWERS, "en": EN_DENY_ANSWERS},
}
POLARITY_VOCABULARY_OPPOSING: dict[str, dict[str, tuple[str, ...]]] = {
    "deny": {"zh": ZH_DENY_OPPOSING, "en": EN_DENY_OPPOSING},
}
