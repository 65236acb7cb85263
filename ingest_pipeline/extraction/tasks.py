"""The extraction tasks an integration can run, their result schemas and their inputs.

A task names what we want from a message (a job posting, a job application), the pydantic
schema the result must validate against, the prompt version, and how to build the text the
extractor reads from a parsed message.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest_pipeline.domain import ExtractionInput, ParsedMessage

MAX_INPUT_CHARS = 24_000


class JobPosting(BaseModel):
    """Whether an email is a job requirement (a recruiter's opening), and its fields."""

    model_config = ConfigDict(extra="forbid")

    is_job_posting: bool
    title: str | None = None
    company: str | None = None
    location: str | None = None
    remote: bool | None = None
    skills: list[str] = Field(default_factory=list)
    rate: str | None = None
    contact: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)


class JobApplication(BaseModel):
    """A candidate applying for the integration's job, read from the resume or the body."""

    model_config = ConfigDict(extra="forbid")

    is_application: bool
    name: str | None = None
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    location: str | None = None
    skills: list[str] = Field(default_factory=list)
    years_experience: float | None = None
    links: list[str] = Field(default_factory=list)
    summary: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)


RESUME_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/msword",
)


class RelationshipInsight(BaseModel):
    """A short summary of the recent relationship with one person and what to do next."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="Two or three sentences on the recent relationship.")
    next_step: str | None = Field(description="The one thing to do next, or null.")
    has_history: bool = Field(description="False when the interactions say nothing usable.")


EntityType = Literal["company", "product", "person", "place", "organization", "other"]


class MentionedEntity(BaseModel):
    """One named entity an answer mentions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The entity exactly as the answer writes it.")
    type: EntityType
    normalized: str = Field(description="Its plain name: no legal suffix, no decoration.")
    position: int = Field(description="Character offset of its first mention; -1 if absent.")


class PromptAnswer(BaseModel):
    """A model's answer to one prompt of a prompt set, with the entities it mentions."""

    model_config = ConfigDict(extra="forbid")

    answer: str = Field(description="The answer to the prompt, as text.")
    entities: list[MentionedEntity] = Field(
        description="Every company, product, person, place or organization the answer names."
    )


def _header_block(message: ParsedMessage) -> str:
    sender = message.sender
    who = f"{sender.name} <{sender.email}>" if sender else ""
    return f"From: {who}\nSubject: {message.subject}\n"


def job_posting_input(message: ParsedMessage) -> str:
    """Headers and body text: a requirement is written in the email itself."""
    return (_header_block(message) + "\n" + message.body_text)[:MAX_INPUT_CHARS]


def job_application_input(message: ParsedMessage) -> str:
    """Headers, body, and every resume-like attachment's text, each in its own section."""
    parts = [_header_block(message), message.body_text]
    for attachment in message.attachments:
        if attachment.text and (
            attachment.content_type in RESUME_TYPES
            or attachment.filename.lower().endswith((".pdf", ".docx", ".doc", ".txt"))
        ):
            parts.append(f"\n--- attachment: {attachment.filename} ---\n{attachment.text}")
    return "\n".join(parts)[:MAX_INPUT_CHARS]


@dataclass(frozen=True)
class TaskSpec:
    """One extraction task: its name, result schema, prompt version and input builder.

    ``fenced_input`` false sends the input as the user's own message (a prompt a person
    wrote) instead of fenced, untrusted data (an email); ``temperature`` None leaves the
    model's default (repeated runs of one prompt are meant to differ).
    """

    name: str
    schema: type[BaseModel]
    prompt_version: str
    positive_field: str
    fenced_input: bool = True
    temperature: float | None = 0.0

    def build_input(self, message: ParsedMessage) -> ExtractionInput:
        builder = job_posting_input if self.name == "job_posting" else job_application_input
        return ExtractionInput.of(task=self.name, text=builder(message))

    def prompt(self) -> str:
        """The versioned instructions sent to an LLM extractor, from ``prompts/``."""
        name = f"{self.name}_{self.prompt_version}.txt"
        return resources.files("ingest_pipeline.extraction").joinpath("prompts", name).read_text()


TASKS: dict[str, TaskSpec] = {
    "job_posting": TaskSpec(
        name="job_posting", schema=JobPosting, prompt_version="v1", positive_field="is_job_posting"
    ),
    "job_application": TaskSpec(
        name="job_application",
        schema=JobApplication,
        prompt_version="v1",
        positive_field="is_application",
    ),
    # Input: a person's recent interactions, one per line (`derived.insights`).
    "relationship_insight": TaskSpec(
        name="relationship_insight",
        schema=RelationshipInsight,
        prompt_version="v1",
        positive_field="has_history",
    ),
    # Input: the text of one prompt of a prompt set (the prompt-runs stream).
    "prompt_answer": TaskSpec(
        name="prompt_answer",
        schema=PromptAnswer,
        prompt_version="v1",
        positive_field="answer",
        fenced_input=False,
        temperature=None,
    ),
}


# The tasks a mail integration can run on each message (the others read derived data).
MAIL_TASKS = ("job_application", "job_posting")


def get_task(name: str) -> TaskSpec:
    """The task called ``name``; a clear error listing the known ones otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        known = ", ".join(sorted(TASKS))
        raise ValueError(f"unknown extraction task {name!r}; known tasks: {known}") from None
