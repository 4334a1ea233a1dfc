"""Scenario templates: what a recorded signing session asks, checks and requires.

A template is parsed from a mapping (the YAML loader lives in the application layer) and validated here.
Validation problems name the field path (``questions.2.acceptable``) and the reason. A template's
identity is its content hash: any edit yields a new version, and sessions pin the version they ran.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dualsign.domain.answer_vocabulary import (
    EN_NEGATION_IDIOMS,
    POLARITY_VOCABULARY,
    POLARITY_VOCABULARY_OPPOSING,
    ZH_NEGATION_IDIOMS,
)
from dualsign.domain.errors import FieldProblem, TemplateInvalid
from dualsign.domain.variables import Variable, placeholders
from dualsign_verify.canonical import canonical_json

TEMPLATE_KIND: Final = "dualsign.template"
TEMPLATE_SCHEMA_VERSION: Final = 1
DEFAULT_MAX_ATTEMPTS = 3

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Phrase = Annotated[str, Field(min_length=1, max_length=64)]


class Scenario(StrEnum):
    INSURANCE_E_POLICY = "insurance_e_policy"
    BANK_LOAN = "bank_loan"
    COMPANY_REGISTRATION = "company_registration"
    REAL_ESTATE_REGISTRATION = "real_estate_registration"
    HOUSE_SALE_CONTRACT = "house_sale_contract"
    CAR_LEASE_LOAN = "car_lease_loan"
    BIDDING_DOCUMENTS = "bidding_documents"
    OTHER = "other"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN_US = "en-US"

    @property
    def family(self) -> Literal["zh", "en"]:
        return "zh" if self is Language.ZH_CN else "en"


class QuestionCategory(StrEnum):
    VERBATIM_REGULATORY = "verbatim_regulatory"  # 监管要求逐字宣读的话术
    RISK_DISCLOSURE = "risk_disclosure"  # 风险提示
    INFORMED_CONFIRMATION = "informed_confirmation"  # 知情确认
    OBLIGATION_EXPLANATION = "obligation_explanation"  # 义务说明
    OTHER = "other"


class OnFail(StrEnum):
    FAIL_SESSION = "fail_session"
    MANUAL_REVIEW = "manual_review"


class LivenessAction(StrEnum):
    BLINK = "blink"
    OPEN_MOUTH = "open_mouth"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    NOD = "nod"


class AnswerMode(StrEnum):
    SPEECH = "speech"
    NOD = "nod"


class Expects(StrEnum):
    """The answer a question expects: a yes, a no ("has anyone forced you?"), or a phrase said as listed."""

    AFFIRM = "affirm"
    DENY = "deny"
    PHRASE = "phrase"


class Participant(StrEnum):
    """Who is on camera: the signer, and in person (面签, insurance 双录) the institution's agent."""

    SIGNER = "signer"
    AGENT = "agent"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Consent(_Strict):
    recording: Text
    biometric: Text


class IdentityStep(_Strict):
    required: bool = True
    max_attempts: int = Field(default=3, ge=1, le=10)
    min_good_frames: int = Field(default=3, ge=1, le=30)


class LivenessStep(_Strict):
    required: bool = True
    actions: tuple[LivenessAction, ...] = (
        LivenessAction.BLINK,
        LivenessAction.OPEN_MOUTH,
        LivenessAction.TURN_LEFT,
        LivenessAction.TURN_RIGHT,
        LivenessAction.NOD,
    )
    count: int = Field(default=2, ge=1, le=5)
    window_seconds: float = Field(default=6.0, gt=1.0, le=30.0)
    max_attempts: int = Field(default=2, ge=1, le=5)

    @model_validator(mode="after")
    def _enough_actions(self) -> Self:
        if self.required and self.count > len(set(self.actions)):
            raise ValueError(f"count {self.count} is more than the {len(set(self.actions))} distinct actions")
        return self


class Question(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    category: QuestionCategory
    prompt: Text
    clause: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="the rule this question carries out (document number and article)"
    )
    expects_answer: bool = True
    expects: Expects | None = Field(
        default=None,
        description="affirm (default), deny or phrase; a template without it whose acceptable answers "
        "are all negative (written before this field) expects deny",
    )
    vocabulary: bool = Field(
        default=True,
        description="affirm/deny: the natural answers of that polarity count too (acceptable extends them, "
        "rejections remove from them); false: only the listed acceptable answers",
    )
    acceptable: tuple[Phrase, ...] = ()
    rejections: tuple[Phrase, ...] = ()
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=10)
    required: bool = True
    on_fail: OnFail = OnFail.FAIL_SESSION
    reminder: Text | None = None
    answer_modes: tuple[AnswerMode, ...] = (AnswerMode.SPEECH,)
    prompt_audio: str | None = Field(default=None, description="sha256 of a prerecorded prompt")
    speaker: Participant = Field(
        default=Participant.SIGNER,
        description="who answers: agent for the agent's introduction (name, licence number, ID shown)",
    )

    @property
    def polarity(self) -> Expects:
        """The declared polarity; for an older template without ``expects``: deny when every acceptable
        answer is negative (没有 / no one), else affirm."""
        if self.expects is not None:
            return self.expects
        if self.acceptable and all(_says_no(a) for a in self.acceptable):
            return Expects.DENY
        return Expects.AFFIRM

    @model_validator(mode="after")
    def _answers_fit(self) -> Self:
        if self.speaker is Participant.AGENT:
            if not self.expects_answer or self.acceptable or self.rejections or self.expects is not None:
                raise ValueError(
                    "the agent's introduction expects the agent to speak and lists no answers "
                    "(what is heard is compared with the registered name and number)"
                )
            if self.answer_modes != (AnswerMode.SPEECH,):
                raise ValueError("the agent's introduction is spoken (answer_modes: [speech])")
            return self
        uses_vocabulary = self.vocabulary and self.polarity is not Expects.PHRASE
        if self.expects_answer and not self.acceptable and not uses_vocabulary:
            raise ValueError(
                "a question that expects an answer needs at least one acceptable answer "
                "(or expects affirm/deny with the vocabulary)"
            )
        if not self.expects_answer and (self.acceptable or self.rejections or self.expects is not None):
            raise ValueError(
                "a statement (expects_answer: false) takes no expects, acceptable answers or rejections"
            )
        if self.expects_answer and self.polarity is Expects.DENY:
            positive = [a for a in self.acceptable if not _says_no(a)]
            if positive:
                raise ValueError(f"a question that expects deny cannot accept {positive} (not a no)")
        if self.expects_answer and self.polarity is Expects.AFFIRM:
            negative = [a for a in self.acceptable if _says_no(a)]
            if negative:
                raise ValueError(
                    f"a question that expects affirm cannot accept {negative}; say expects: deny"
                )
        overlap = set(self.acceptable) & set(self.rejections)
        if overlap:
            raise ValueError(f"phrases listed as both acceptable and rejected: {sorted(overlap)}")
        if not self.answer_modes:
            raise ValueError("answer_modes must name at least one mode")
        return self


class SignatureField(_Strict):
    role: Literal["signer", "institution"] = "signer"
    page: int = Field(default=-1, description="1-based page; negative counts from the end")
    box: tuple[float, float, float, float] | None = Field(
        default=None, description="x, y, width, height in PDF points from the bottom-left corner"
    )
    anchor: str | None = Field(default=None, max_length=64, description="text in the PDF to sign next to")
    seal: Literal["personal", "organisation"] | None = Field(
        default=None,
        description="a signer's field: personal (default: the handwritten mark, with the name seal when "
        "the step asks for a seal) or organisation (the session's organisation seal, signed with the "
        "organisation's certificate, applied by the signer under the authority recorded at creation)",
    )
    required: bool = Field(
        default=True,
        description="an organisation seal spot with required: false is sealed only when the session names "
        "an organisation (e.g. a corporate shareholder's seal), and left out otherwise",
    )

    @property
    def signs_as(self) -> Literal["signer", "organisation", "institution"]:
        """Whose signature goes here: the signer's, the session's organisation's, the institution's."""
        return "organisation" if self.seal == "organisation" else self.role

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if self.seal == "organisation" and self.role != "signer":
            raise ValueError(
                "seal: organisation is applied by the signer (role: signer); the institution's field "
                "always takes the institution's own seal"
            )
        if not self.required and self.seal != "organisation":
            raise ValueError("only an organisation seal spot may be optional (required: false)")
        if self.box is None and self.anchor is None:
            raise ValueError("a signature field needs a box or an anchor text")
        if self.page == 0:
            raise ValueError("page is 1-based (or negative from the end); 0 is not a page")
        if self.box is not None and (self.box[2] <= 0 or self.box[3] <= 0):
            raise ValueError("box width and height must be positive")
        return self


class SignatureStep(_Strict):
    handwriting: bool = True
    seal: bool = False
    fields: tuple[SignatureField, ...] = ()

    @model_validator(mode="after")
    def _some_mark(self) -> Self:
        if not (self.handwriting or self.seal):
            raise ValueError("a signature needs a handwritten mark, a seal, or both")
        return self


class DocumentStep(_Strict):
    review_required: bool = True
    read_to_end: bool = True
    min_review_seconds: int = Field(default=10, ge=0, le=3600)
    signature: SignatureStep = SignatureStep()


class Monitoring(_Strict):
    sample_fps: float = Field(default=2.0, gt=0, le=15)
    # defaults: at 2 fps a warning reaches the signer within 2 s of the condition starting
    no_face_seconds: float = Field(default=1.5, gt=0, le=60)
    multiple_faces_seconds: float = Field(default=1.0, gt=0, le=60)
    mismatch_seconds: float = Field(default=1.5, gt=0, le=60)
    min_face_present_ratio: float = Field(default=0.9, ge=0, le=1)


class SpeechStep(_Strict):
    """How answers are listened to: when an answer has ended, how long to wait, how fast to speak."""

    end_silence_ms: int = Field(default=600, ge=300, le=3000)
    no_speech_timeout_s: float = Field(default=8.0, ge=2, le=60)
    max_answer_s: float = Field(default=15.0, ge=3, le=120)
    speech_rate: float = Field(default=1.0, ge=0.5, le=1.5, description="1.0 normal; elderly mode 0.8")


class Retention(_Strict):
    years: Annotated[int, Field(ge=1, le=100)] | Literal["permanent"] = Field(
        default=10, description="years, or permanent (永久)"
    )
    short_contract_years: int | None = Field(default=None, ge=1, le=100)
    short_contract_max_months: int | None = Field(default=None, ge=1, le=1200)

    @model_validator(mode="after")
    def _short_pair(self) -> Self:
        if (self.short_contract_years is None) != (self.short_contract_max_months is None):
            raise ValueError("short_contract_years and short_contract_max_months go together")
        return self


class AgentRole(_Strict):
    """The agent a template puts on camera with the signer: how the signer's page and the report name
    them (销售人员, 客户经理)."""

    label: Annotated[str, Field(min_length=1, max_length=20)]


class Template(_Strict):
    kind: Literal["dualsign.template"] = TEMPLATE_KIND
    version: Literal[1] = TEMPLATE_SCHEMA_VERSION
    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")]
    title: Text
    scenario: Scenario
    language: Language
    description: str = ""
    consent: Consent
    identity: IdentityStep = IdentityStep()
    liveness: LivenessStep = LivenessStep()
    questions: tuple[Question, ...] = Field(min_length=1, max_length=100)
    documents: DocumentStep = DocumentStep()
    monitoring: Monitoring = Monitoring()
    speech: SpeechStep = SpeechStep()
    retention: Retention = Retention()
    variables: tuple[Variable, ...] = Field(
        default=(), max_length=50, description="facts of the deal supplied at session creation"
    )
    participants: tuple[Participant, ...] = Field(
        default=(Participant.SIGNER,),
        description="who is on camera: signer (remote, the default) or [signer, agent] (in person)",
    )
    agent: AgentRole | None = Field(default=None, description="the agent's role, when participants has one")
    typed_answers: bool | None = Field(
        default=None,
        description="whether the signer may type answers instead of speaking them; default: not for "
        "Mandarin templates (spoken confirmation), allowed for English ones",
    )

    @field_validator("participants", mode="before")
    @classmethod
    def _one_or_several(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @property
    def has_agent(self) -> bool:
        return Participant.AGENT in self.participants

    @model_validator(mode="after")
    def _participants_declared(self) -> Self:
        if self.participants not in ((Participant.SIGNER,), (Participant.SIGNER, Participant.AGENT)):
            raise ValueError("participants is signer, or [signer, agent]")
        if self.has_agent != (self.agent is not None):
            raise ValueError(
                "an agent on camera needs its role (agent: {label: 销售人员}), and only then"
                if self.has_agent
                else "agent is given but participants declares no agent"
            )
        from_agent = [v.name for v in self.variables if v.source is not None]
        if from_agent and not self.has_agent:
            raise ValueError(
                f"variables {from_agent} are taken from the agent, and participants declares none"
            )
        speakers = [i for i, q in enumerate(self.questions) if q.speaker is Participant.AGENT]
        if self.has_agent and speakers != [0]:
            raise ValueError(
                "with an agent on camera the first question, and only it, is the agent's introduction "
                "(speaker: agent)"
            )
        if not self.has_agent and speakers:
            raise ValueError(f"questions.{speakers[0]} has speaker agent but participants declares none")
        return self

    @property
    def needs_organisation(self) -> bool:
        """A field takes the organisation seal: a session must name the organisation and the signer's
        authority to apply its seal."""
        return any(f.seal == "organisation" and f.required for f in self.documents.signature.fields)

    @property
    def takes_organisation(self) -> bool:
        """A field takes the organisation seal, required or when the session names an organisation."""
        return any(f.seal == "organisation" for f in self.documents.signature.fields)

    @property
    def typed_answers_allowed(self) -> bool:
        if self.typed_answers is not None:
            return self.typed_answers
        return self.language.family != "zh"

    @model_validator(mode="after")
    def _variables_declared(self) -> Self:
        names = [v.name for v in self.variables]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"variables declared twice: {twice}")
        usable = {v.name for v in self.variables if v.required}
        if placeholders(self.title):
            raise ValueError("the title cannot read variables (it is shown before the session has values)")
        texts = [
            (f"questions.{i}.{part}", text)
            for i, q in enumerate(self.questions)
            for part, text in (("prompt", q.prompt), ("reminder", q.reminder or ""))
        ]
        for where, text in texts:
            for name in placeholders(text):
                if name not in usable:
                    raise ValueError(f"{where} reads {{{name}}}, which is not a declared required variable")
        return self

    @field_validator("questions")
    @classmethod
    def _nod_means_yes(cls, questions: tuple[Question, ...]) -> tuple[Question, ...]:
        for q in questions:
            if AnswerMode.NOD in q.answer_modes and q.polarity is Expects.DENY:
                raise ValueError(
                    f"question {q.id!r}: a nod means yes, so it cannot answer a question whose acceptable "
                    "answer is negative"
                )
        return questions

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: tuple[Question, ...]) -> tuple[Question, ...]:
        seen: set[str] = set()
        for q in questions:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            seen.add(q.id)
        if not any(q.expects_answer for q in questions):
            raise ValueError("a template needs at least one question that expects an answer")
        return questions

    def example_values(self) -> dict[str, str]:
        """The declared variables' sample values (simulation, the demo session, documentation); those
        taken from the agent come with the agent, not here."""
        return {v.name: v.example for v in self.variables if v.example is not None and v.source is None}

    def content_hash(self) -> str:
        """sha256 (hex) of the canonical JSON of the parsed template: the template's version id."""
        return hashlib.sha256(canonical_json(self.to_document())).hexdigest()

    def to_document(self) -> dict[str, object]:
        """The parsed template as JSON; fields added after version 1 are left out while they hold their
        defaults, so a template that does not use them keeps its content hash."""
        doc = self.model_dump(mode="json")
        for key in ("variables", "typed_answers", "agent"):
            if doc.get(key) in ((), [], None):
                doc.pop(key, None)
        for v in doc.get("variables", ()):  # ``source`` came after variables
            if v.get("source") is None:
                v.pop("source", None)
        if doc.get("participants") == [Participant.SIGNER.value]:
            doc.pop("participants")
        for q in doc["questions"]:
            for key, default in (
                ("clause", None),
                ("expects", None),
                ("vocabulary", True),
                ("speaker", Participant.SIGNER.value),
            ):
                if q.get(key, default) == default:
                    q.pop(key, None)
        for f in doc["documents"]["signature"]["fields"]:  # ``seal`` came after version 1
            if f.get("seal") is None:
                f.pop("seal", None)
            if f.get("required") is True:
                f.pop("required", None)
        return doc

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)


def answers(question: Question, family: Literal["zh", "en"]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The answers that count for ``question`` (acceptable, rejections): the listed ones and, for affirm
    and deny with the vocabulary, the natural answers of that polarity; for deny, the affirmatives (有 /
    是的 / yes) are rejections. A listed rejection removes a vocabulary word (narrowing)."""
    polarity = question.polarity
    acceptable = list(question.acceptable)
    rejections = list(question.rejections)
    if question.vocabulary and polarity is not Expects.PHRASE:
        acceptable += POLARITY_VOCABULARY[polarity.value][family]
        if polarity is Expects.DENY:
            rejections += POLARITY_VOCABULARY_OPPOSING["deny"][family]
    listed = set(question.acceptable)
    acc = tuple(dict.fromkeys(a for a in acceptable if a not in question.rejections))
    rej = tuple(dict.fromkeys(r for r in rejections if r not in listed and r not in acc))
    return acc, rej


SCORED_VOCABULARY = 4  # vocabulary words scored against the audio besides the listed answers
SCORED_OPPOSING = 6  # opposing vocabulary words (deny: 有 / 是的 …) scored besides the listed rejections


def scored_answers(
    question: Question, family: Literal["zh", "en"]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The short lists recognition is biased toward and scores against the audio: the listed answers and
    the commonest vocabulary words. Each scored candidate costs a decoder pass, so the whole vocabulary
    (which the text matcher uses, ``answers``) is not scored."""
    polarity = question.polarity
    acceptable = list(question.acceptable)
    rejections = list(question.rejections)
    if question.vocabulary and polarity is not Expects.PHRASE:
        acceptable += POLARITY_VOCABULARY[polarity.value][family][:SCORED_VOCABULARY]
        if polarity is Expects.DENY:
            rejections += POLARITY_VOCABULARY_OPPOSING["deny"][family][:SCORED_OPPOSING]
    listed = set(question.acceptable)
    acc = tuple(dict.fromkeys(a for a in acceptable if a not in question.rejections))
    rej = tuple(dict.fromkeys(r for r in rejections if r not in listed and r not in acc))
    return acc, rej


def _says_no(phrase: str) -> bool:
    """The phrase says no once affirmative idioms with a negation character are set aside (确认无误 and
    没问题 say yes; 没有 says no)."""
    text = phrase.lower()
    for idiom in sorted(ZH_NEGATION_IDIOMS, key=len, reverse=True):
        text = text.replace(idiom, "")
    for words in EN_NEGATION_IDIOMS:
        text = text.replace(" ".join(words), "")
    return _negative(text)


def _negative(phrase: str) -> bool:
    words = phrase.lower().replace(",", " ").split()
    return any(ch in phrase for ch in "不没未非别否无") or any(
        w in ("no", "not", "never", "none", "nobody", "don't", "didn't") for w in words
    )


def parse_template(data: object, source: str = "") -> Template:
    """Validate a template document; problems name the field path and the reason."""
    if not isinstance(data, Mapping):
        raise TemplateInvalid([FieldProblem("", "a template must be a mapping at the top level")], source)
    try:
        return Template.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(FieldProblem(path, msg))
        raise TemplateInvalid(problems, source) from None


_REMINDER_OPENINGS = {
    "zh": {
        "NO_SPEECH": "抱歉，没有听到您的回答。",
        "UNCLEAR": "抱歉，没有听清您的回答。",
        "REJECT": "您的回答未能确认。",
    },
    "en": {
        "NO_SPEECH": "Sorry, I did not hear an answer.",
        "UNCLEAR": "Sorry, I did not catch a clear answer.",
        "REJECT": "Your answer did not confirm this.",
    },
}


def reminder_text(question: Question, language: Language, last_verdict: str = "UNCLEAR") -> str:
    """What the signer hears before a re-ask: the template's reminder, or one naming the answers.

    The opening says what went wrong with the last attempt (nothing heard, unclear, not confirmed).
    """
    if question.reminder:
        return question.reminder
    family = language.family
    opening = _REMINDER_OPENINGS[family].get(last_verdict, _REMINDER_OPENINGS[family]["UNCLEAR"])
    if question.polarity is Expects.DENY:
        return (
            f"{opening}请您明确回答“有”或“没有”。"
            if family == "zh"
            else f'{opening} Please answer "yes" or "no".'
        )
    options = list(answers(question, family)[0][:3])
    if family == "zh":
        quoted = "或".join(f"“{o}”" for o in options)
        return f"{opening}请您明确回答{quoted}。"
    quoted = " or ".join(f'"{o}"' for o in options)
    return f"{opening} Please answer {quoted}."
