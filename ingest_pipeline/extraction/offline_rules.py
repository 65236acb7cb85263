"""Vocabulary, regexes and text finders used by the rule-based offline extractor.

Generic finders (skills, emails, phones, links, rates, places, ``Key: value`` lines) come
first, then the job-posting field rules (subjects, work mode, company), then the resume
rules (sections, names, years, summary). Everything is pure and deterministic: functions
take plain text and return what they found in order of first appearance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE
_M = re.MULTILINE

# --- skills ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skill:
    """A canonical skill name and the spellings that mean it in free text."""

    name: str
    aliases: tuple[str, ...] = ()
    case_sensitive: bool = False


SKILLS: tuple[Skill, ...] = (
    Skill("Java", ("Java", "J2EE", "Core Java")),
    Skill("JavaScript", ("JavaScript", "Java Script", "ES6")),
    Skill("TypeScript"),
    Skill("Python"),
    Skill("Go", ("Golang",)),
    Skill("Rust", case_sensitive=True),
    Skill("C#", ("C#", "C Sharp", "CSharp")),
    Skill("C++", ("C++", "CPP")),
    Skill(".NET", (".NET", "dotnet", ".NET Core")),
    Skill("ASP.NET"),
    Skill("Ruby"),
    Skill("Ruby on Rails", ("Ruby on Rails", "RoR")),
    Skill("PHP"),
    Skill("Scala"),
    Skill("Kotlin"),
    Skill("Swift", case_sensitive=True),
    Skill("Objective-C"),
    Skill("Perl"),
    Skill("SQL"),
    Skill("PL/SQL"),
    Skill("T-SQL", ("T-SQL", "TSQL")),
    Skill("MySQL"),
    Skill("PostgreSQL", ("PostgreSQL", "Postgres")),
    Skill("Oracle"),
    Skill("SQL Server", ("SQL Server", "MS SQL", "MSSQL")),
    Skill("MongoDB", ("MongoDB", "Mongo")),
    Skill("Cassandra"),
    Skill("Redis"),
    Skill("Elasticsearch", ("Elasticsearch", "Elastic Search")),
    Skill("DynamoDB"),
    Skill("Snowflake"),
    Skill("Databricks"),
    Skill("Spark", ("Spark", "Apache Spark")),
    Skill("PySpark"),
    Skill("Hadoop"),
    Skill("Hive"),
    Skill("Kafka", ("Kafka", "Apache Kafka")),
    Skill("Airflow", ("Airflow", "Apache Airflow")),
    Skill("dbt"),
    Skill("ETL"),
    Skill("Tableau"),
    Skill("Power BI", ("Power BI", "PowerBI")),
    Skill("Informatica"),
    Skill("AWS", ("AWS", "Amazon Web Services")),
    Skill("Azure", ("Azure", "Microsoft Azure")),
    Skill("GCP", ("GCP", "Google Cloud", "Google Cloud Platform")),
    Skill("Docker"),
    Skill("Kubernetes", ("Kubernetes", "K8s")),
    Skill("Terraform"),
    Skill("Ansible"),
    Skill("Jenkins"),
    Skill("Git"),
    Skill("CI/CD", ("CI/CD", "CICD")),
    Skill("Linux"),
    Skill("Unix"),
    Skill("Shell Scripting", ("Shell Scripting", "Bash")),
    Skill("React", ("React", "React.js", "ReactJS")),
    Skill("React Native"),
    Skill("Angular", ("Angular", "AngularJS")),
    Skill("Vue.js", ("Vue", "Vue.js", "VueJS")),
    Skill("Node.js", ("Node.js", "NodeJS")),
    Skill("Django"),
    Skill("Flask"),
    Skill("FastAPI"),
    Skill("Spring Boot", ("Spring Boot", "SpringBoot")),
    Skill("Spring", case_sensitive=True),
    Skill("Hibernate"),
    Skill("Microservices", ("Microservices", "Micro Services", "Microservice")),
    Skill("REST", ("REST", "RESTful", "REST API", "REST APIs"), case_sensitive=True),
    Skill("GraphQL"),
    Skill("HTML", ("HTML", "HTML5")),
    Skill("CSS", ("CSS", "CSS3")),
    Skill("jQuery"),
    Skill("Selenium"),
    Skill("Cypress"),
    Skill("JUnit"),
    Skill("Machine Learning"),
    Skill("Deep Learning"),
    Skill("TensorFlow"),
    Skill("PyTorch"),
    Skill("Pandas"),
    Skill("NumPy"),
    Skill("scikit-learn", ("scikit-learn", "sklearn")),
    Skill("NLP"),
    Skill("Salesforce"),
    Skill("SAP", case_sensitive=True),
    Skill("ServiceNow"),
    Skill("Workday"),
    Skill("Agile"),
    Skill("Scrum"),
    Skill("JIRA"),
    Skill("Splunk"),
    Skill("Maven"),
    Skill("RabbitMQ"),
    Skill("iOS", case_sensitive=True),
    Skill("Android"),
    Skill("Flutter"),
    Skill("COBOL"),
)

# Not preceded by a word character; not followed by a letter or a symbol that would make it
# a different token ("Java" in "JavaScript", "C" in "C#"); digits may follow ("HTML5").
_BEFORE = r"(?<![A-Za-z0-9_])"
_AFTER = r"(?![A-Za-z_+#])"


def _skill_pattern(skill: Skill) -> re.Pattern[str]:
    aliases = skill.aliases or (skill.name,)
    body = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
    flags = 0 if skill.case_sensitive else re.IGNORECASE
    return re.compile(f"{_BEFORE}(?:{body}){_AFTER}", flags)


_SKILL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (skill.name, _skill_pattern(skill)) for skill in SKILLS
)


def find_skills(text: str) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention.

    Where spellings overlap the longest one wins, so "Spring Boot" is not also "Spring"
    and "React Native" is not also "React".
    """
    spans: list[tuple[int, int, str]] = []
    for name, pattern in _SKILL_PATTERNS:
        spans.extend((m.start(), -(m.end() - m.start()), name) for m in pattern.finditer(text))
    spans.sort()
    found: list[str] = []
    covered_until = -1
    for start, neg_len, name in spans:
        if start < covered_until:
            continue
        covered_until = start - neg_len
        if name not in found:
            found.append(name)
    return found


# --- contact details ---------------------------------------------------------------------

EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
NO_REPLY_RE = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)",
    re.IGNORECASE,
)
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    r"\+1[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}"  # +1 NANP
    r"|\+[2-9]\d{0,2}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,4}"  # other +CC
    r"|(?:1[\s.-])?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}"  # national US
    r")(?!\w)"
)
URL_RE = re.compile(r"https?://[^\s<>()\"'\[\]]+", re.IGNORECASE)
PROFILE_RE = re.compile(
    r"(?<![\w./])(?:www\.)?(?:linkedin\.com/in/|github\.com/)[A-Za-z0-9_.%/-]+", re.IGNORECASE
)
_JUNK_URL_RE = re.compile(r"unsubscribe|optout|opt-out|tracking|/click\?", re.IGNORECASE)
_PROFILE_HOST_RE = re.compile(r"(?:^|//|\.)(?:linkedin\.com|github\.com)/", re.IGNORECASE)


def find_emails(text: str) -> list[str]:
    """Lowercased addresses in order of appearance, without no-reply style mailboxes."""
    found: list[str] = []
    for match in EMAIL_RE.finditer(text):
        email = match.group(0).lower().strip(".")
        if not NO_REPLY_RE.match(email) and email not in found:
            found.append(email)
    return found


def normalise_phone(raw: str) -> str:
    """Digits only, keeping a leading ``+`` (and whatever country code was written)."""
    digits = re.sub(r"\D", "", raw)
    return f"+{digits}" if raw.strip().startswith("+") else digits


def find_phones(text: str) -> list[str]:
    """Normalised phone numbers; two spellings of the same national number count once."""
    found: list[str] = []
    seen: set[str] = set()
    for match in PHONE_RE.finditer(text):
        phone = normalise_phone(match.group(0))
        digits = phone.lstrip("+")
        if not 10 <= len(digits) <= 15 or digits[-10:] in seen:
            continue
        seen.add(digits[-10:])
        found.append(phone)
    return found


def _clean_url(url: str) -> str:
    url = url.rstrip(".,;:!?'\")]}>/")
    return url if re.match(r"https?://", url, re.IGNORECASE) else f"https://{url}"


def find_links(text: str, *, profiles_only: bool) -> list[str]:
    """LinkedIn/GitHub profile links and, unless ``profiles_only``, other personal URLs."""
    candidates = sorted(
        [(m.start(), m.group(0)) for m in URL_RE.finditer(text)]
        + [(m.start(), m.group(0)) for m in PROFILE_RE.finditer(text)]
    )
    found: list[str] = []
    keys: set[str] = set()
    for _, raw in candidates:
        url = _clean_url(raw)
        key = re.sub(r"^https?://(?:www\.)?", "", url.lower()).rstrip("/")
        is_profile = bool(_PROFILE_HOST_RE.search(url))
        if key in keys or _JUNK_URL_RE.search(url) or (profiles_only and not is_profile):
            continue
        keys.add(key)
        found.append(url)
    return found


# --- money, places, labelled fields ------------------------------------------------------

_NUM = r"\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?"
_K = r"(?:\s?[kK]\b)?"
_UNIT = r"(?:hr|hour|hrly|h|annum|year|yr|month|mo)\b"
RATE_RE = re.compile(
    rf"\$\s?{_NUM}{_K}(?:\s*(?:-|\u2013|to)\s*\$?\s?{_NUM}{_K})?(?:\s*(?:/|per\s+)\s*{_UNIT})?"
    rf"|(?<![\d/]){_NUM}(?:\s*(?:-|\u2013|to)\s*{_NUM})?\s*(?:/|per\s+)\s*{_UNIT}",
    re.IGNORECASE,
)

_US_STATES_TEXT = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC"
)
US_STATES = frozenset(_US_STATES_TEXT.split())
CITY_STATE_RE = re.compile(
    r"\b([A-Z][A-Za-z.'-]+(?:[ \t]+[A-Z][A-Za-z.'-]+){0,3}),[ \t]*([A-Z]{2})\b(?:[ \t]+\d{5})?"
)


def find_city_state(text: str) -> str | None:
    """The first "City, ST" with a real US state abbreviation, e.g. "Dallas, TX"."""
    for match in CITY_STATE_RE.finditer(text):
        if match.group(2) in US_STATES:
            return f"{match.group(1)}, {match.group(2)}"
    return None


def field_value(text: str, keys: tuple[str, ...], *, max_len: int = 120) -> str | None:
    """The value of the first ``Key: value`` line (bullets and ``**bold**`` keys allowed)."""
    names = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys)
    pattern = re.compile(
        rf"^[\s>*•\-]*(?:{names})[*_]*\s*(?::|\s[-\u2013]\s)[*_\s]*(.+?)[*_\s]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    for match in pattern.finditer(text):
        value = match.group(1).strip()
        if value and len(value) <= max_len:
            return value
    return None


def parse_from_line(text: str) -> tuple[str, str, str, str]:
    """Split an input into (sender display name, sender email, subject, rest of the text).

    Inputs start with ``From: name <email>`` and ``Subject: ...`` lines (see ``tasks.py``);
    text that does not is treated as all body.
    """
    lines = text.split("\n")
    name = email = subject = ""
    index = 0
    if lines and lines[0].startswith("From:"):
        sender = lines[0][len("From:") :].strip()
        match = re.match(r"^(.*?)\s*<([^<>]*)>\s*$", sender)
        name, email = (match.group(1), match.group(2)) if match else ("", sender)
        index = 1
    if len(lines) > index and lines[index].startswith("Subject:"):
        subject = lines[index][len("Subject:") :].strip()
        index += 1
    return name.strip().strip('"'), email.strip().lower(), subject, "\n".join(lines[index:])


# --- job posting fields ----------------------------------------------------------------

_REPLY_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg)\s*:\s*|\[[^\]]*\]\s*)+", _I)
_SUBJECT_PREFIX_RE = re.compile(
    r"^(?:(?:urgent|immediate|hot|new|direct\s+client|job|open)\s+)*"
    r"(?:requirements?|reqs?|needs?|openings?|positions?|roles?|jobs?|hiring|opportunity|urgent)"
    r"\s*(?:[:\-\u2013|]+|\s+for\b)\s*",
    _I,
)
_SUBJECT_VERB_RE = re.compile(
    r"^(?:(?:we\s*(?:'re|are)|now|urgently)\s+)?(?:hiring|need(?:ed)?|looking\s+for|seeking)"
    r"\s+(?:an?\s+)?",
    _I,
)
_SUBJECT_SPLIT_RE = re.compile(r"\s+[-\u2013\u2014|]+\s+|\s*\|\|?\s*|\s*::\s*")
_IN_PLACE_RE = re.compile(r"^(?P<head>.+?)\s+(?:in|at|for)\s+(?P<place>.+)$", _I)
_ROLE_NOUN_RE = re.compile(
    r"\b(?:developer|engineer|architect|analyst|administrator|admin|manager|lead|consultant|"
    r"scientist|designer|tester|specialist|dba|programmer|devops|sre|qa|director|owner|"
    r"scrum\s+master|coordinator)s?\b",
    _I,
)
_MODE_PAREN_RE = re.compile(
    r"\s*\((?=[^()]*\b(?:remote|on-?site|hybrid|contract|c2c|w2|full[\s-]?time|local|only|"
    r"need|urgent)\b)[^()]*\)\s*$",
    _I,
)
EMPLOYMENT_ONLY_RE = re.compile(
    r"^(?:contract|full[\s-]?time|part[\s-]?time|c2c|w2|permanent|remote|on-?site|hybrid)\b", _I
)
_REMOTE_ONLY_RE = re.compile(r"^(?:100\s*%\s*|fully\s+)?remote\b", _I)

_HYBRID_RE = re.compile(r"\bhybrid\b", _I)
_NOT_REMOTE_RE = re.compile(
    r"\b(?:no|not|non)[\s-]+remote\b|\bremote\s+(?:is\s+)?not\s+(?:an?\s+)?(?:option|possible)", _I
)
_ONSITE_RE = re.compile(r"\bon[\s-]?site\b", _I)
_REMOTE_RE = re.compile(
    r"\b(?:remote|work\s+from\s+home|wfh)\b(?!\s+(?:desktop|sensing|access|control|server))", _I
)

_FREE_MAIL_TEXT = (
    "gmail googlemail yahoo ymail hotmail outlook aol icloud live msn me protonmail "
    "proton gmx mail zoho yandex rediffmail"
)
_FREE_MAIL = frozenset(_FREE_MAIL_TEXT.split())


def clean_title(raw: str) -> str | None:
    """A job title without mode tags like "(Remote)" or filler like "needed"."""
    title = _MODE_PAREN_RE.sub("", raw).strip(" -\u2013|,.:;!")
    title = re.sub(r"\s+(?:needed|required|wanted)$", "", title, flags=_I)
    title = re.sub(r"^(?:an?|the)\s+", "", title, flags=_I).strip()
    if not title or len(title) > 100 or len(title.split()) > 12:
        return None
    return title


def clean_location(raw: str | None) -> str | None:
    """A location value without work-mode tags, e.g. "Dallas, TX (Onsite)" -> "Dallas, TX"."""
    if raw is None:
        return None
    return _MODE_PAREN_RE.sub("", raw).strip(" -\u2013|,.:;") or None


def _place_of(segment: str) -> str | None:
    """The place a subject segment names ("City, ST" or "Remote"), else None."""
    if _REMOTE_ONLY_RE.match(segment):
        return "Remote"
    return find_city_state(segment)


def subject_title_location(subject: str) -> tuple[str | None, str | None]:
    """Title and location from subjects like "Requirement: Java Developer - Dallas, TX"."""
    text = _REPLY_PREFIX_RE.sub("", subject).strip()
    prefixed = False
    for pattern in (_SUBJECT_PREFIX_RE, _SUBJECT_VERB_RE):
        match = pattern.match(text)
        if match and match.end() < len(text):
            text, prefixed = text[match.end() :].strip(), True
            break
    title: str | None = None
    location: str | None = None
    for segment in (s.strip(" -\u2013|,.:") for s in _SUBJECT_SPLIT_RE.split(text)):
        if not segment:
            continue
        place = _place_of(segment)
        if place and not _ROLE_NOUN_RE.search(segment):
            location = location or place
            continue
        if title is not None:
            continue
        head = segment
        in_place = _IN_PLACE_RE.match(segment)
        city = CITY_STATE_RE.search(segment)
        if in_place and _place_of(in_place.group("place")):
            head, place = in_place.group("head"), _place_of(in_place.group("place"))
        elif city and city.group(2) in US_STATES and city.start() > 0:
            head = segment[: city.start()].rstrip(" ,-\u2013(@")
        if prefixed or _ROLE_NOUN_RE.search(head):
            title = clean_title(head)
            location = location or place
    return title, location


def work_mode(scopes: list[str]) -> bool | None:
    """True for remote, False for onsite, None for hybrid/unknown; most specific scope first."""
    for text in scopes:
        if not text:
            continue
        if _HYBRID_RE.search(text):
            return None
        if _NOT_REMOTE_RE.search(text):
            return False
        onsite, remote = bool(_ONSITE_RE.search(text)), bool(_REMOTE_RE.search(text))
        if onsite != remote:
            return remote
        if onsite:
            return None
    return None


def org_from_email(email: str) -> str | None:
    """The sender's organisation, e.g. "Techcorp Solutions" for jo@techcorp-solutions.com.

    None for free-mail domains (gmail, outlook, ...), which name no employer.
    """
    labels = email.rpartition("@")[2].lower().split(".")
    if len(labels) < 2:
        return None
    org = labels[-2]
    if org in {"co", "com", "org", "net", "ac", "gov", "edu"} and len(labels) >= 3:
        org = labels[-3]
    if org in _FREE_MAIL:
        return None
    return " ".join(word.capitalize() for word in re.split(r"[-_]+", org) if word) or None


def find_rate(body: str) -> str | None:
    """The pay rate as written: a "Rate:" line's value, else the first "$85/hr"-like amount."""
    line = field_value(body, ("rate", "pay rate", "bill rate", "salary", "compensation"))
    if line:
        return line[:80]
    match = RATE_RE.search(body)
    return match.group(0).strip() if match else None


# --- application fields ----------------------------------------------------------------

_ATTACHMENT_RE = re.compile(r"^--- attachment: (.+?) ---[ \t]*$", _M)
_RESUME_FILENAME_RE = re.compile(r"resume|résumé|\bcv\b|curriculum|biodata", _I)
_RESUME_HEADING_RE = re.compile(
    r"^[ \t]*(?:professional\s+|work\s+|career\s+|technical\s+|core\s+|key\s+)?"
    r"(summary|profile|objective|experience|education|skills|certifications?|employment"
    r"(?:\s+history)?|projects|competencies|qualifications)[ \t]*:?[ \t]*$",
    _I | _M,
)
_SUMMARY_HEAD_RE = re.compile(
    r"^[ \t]*(?:professional\s+|career\s+|executive\s+|personal\s+)?"
    r"(?:summary|profile|objective|about\s+me)(?:\s+summary)?"
    r"(?:[ \t]*[:\-\u2013][ \t]*(?P<rest>.*)|[ \t]*)$",
    _I | _M,
)
_SECTION_HEAD_RE = re.compile(
    r"^(?:(?:professional|work|technical|core|key|relevant)\s+)?(?:experience|education|skills"
    r"|certifications?|employment(?:\s+history)?|work\s+history|projects|languages|awards"
    r"|references|competencies|contact|achievements|publications)\s*:?$",
    _I,
)
_YEARS_RE = re.compile(
    r"(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\.?(?:\s+of)?(?:\s+[A-Za-z/&-]+){0,3}?"
    r"\s+experience|experience\s+(?:of\s+)?(?:over\s+)?(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)"
    r"|experience\s*:\s*(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)",
    _I,
)
_YEARS_PLUS_RE = re.compile(r"\b(\d{1,2})\s*\+\s*(?:years?|yrs?)\b", _I)
_NAME_SPLIT_RE = re.compile(r"\s*[|•·,]\s*|\s{3,}|\t")
_NAME_WORD_RE = re.compile(r"^[A-Z][A-Za-z'\u2019.-]*$")
_NOT_NAME_TEXT = (
    "resume résumé curriculum vitae cv summary profile objective experience education "
    "skills professional contact page technical references senior junior lead principal "
    "staff developer engineer manager analyst architect consultant scientist "
    "administrator designer software data full stack email phone mobile address linkedin "
    "github inc llc ltd university college school dear hi hello regards thanks sincerely "
    "best the and of for to at in team careers jobs hr recruiting talent noreply support "
    "notifications"
)
_NOT_NAME_WORDS = frozenset(_NOT_NAME_TEXT.split())


def split_application(rest: str) -> tuple[str, list[tuple[str, str]]]:
    """The body and the (filename, text) attachment sections of an application input."""
    parts = _ATTACHMENT_RE.split(rest)
    sections = [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    return parts[0], sections


def looks_like_resume(filename: str, text: str) -> bool:
    """A resume by name ("Jane_Resume.pdf") or by shape (section headings, contact details)."""
    if _RESUME_FILENAME_RE.search(filename):
        return True
    headings = {m.group(1).lower() for m in _RESUME_HEADING_RE.finditer(text)}
    if len(headings) >= 2:
        return True
    return bool(find_emails(text) and find_phones(text)) and (len(find_skills(text)) >= 2)


def as_name(candidate: str, *, strict: bool) -> str | None:
    """``candidate`` as a person's name (2-4 capitalised words, no digits), else None."""
    words = candidate.strip().strip("\"'").split()
    if not 2 <= len(words) <= 4 or any(ch.isdigit() or ch == "@" for ch in candidate):
        return None
    if any(w.lower().strip(".,") in _NOT_NAME_WORDS for w in words):
        return None
    if strict and not all(_NAME_WORD_RE.match(w) for w in words):
        return None
    if all(len(w.rstrip(".")) <= 1 for w in words):
        return None
    name = " ".join(words)
    return name.title() if name.isupper() else name


def resume_head(resume: str, lines: int = 12) -> list[str]:
    """The first non-empty lines of a resume, where the name and contact block usually sit."""
    return [line.strip() for line in resume.splitlines() if line.strip()][:lines]


def name_from_resume(resume: str) -> str | None:
    """The first head line (or its first "|"/"•"-separated part) that reads as a name."""
    for line in resume_head(resume, 8):
        first = _NAME_SPLIT_RE.split(line)[0]
        name = as_name(first, strict=True)
        if name:
            return name
    return None


def find_years(text: str) -> float | None:
    """Years of experience from "7 years of experience", "Experience: 7 yrs" or "7+ years"."""
    match = _YEARS_RE.search(text) or _YEARS_PLUS_RE.search(text)
    if not match:
        return None
    value = float(next(g for g in match.groups() if g))
    return value if 0 < value <= 60 else None


def find_summary(text: str) -> str | None:
    """The first ~300 characters of a Summary/Profile/Objective section, on a word boundary."""
    match = _SUMMARY_HEAD_RE.search(text)
    if not match:
        return None
    collected = [match.group("rest") or ""]
    for line in text[match.end() :].splitlines():
        stripped = line.strip()
        if _SECTION_HEAD_RE.match(stripped) or (stripped.isupper() and len(stripped) < 40):
            break
        collected.append(stripped)
        if sum(len(c) for c in collected) > 300:
            break
    summary = " ".join(" ".join(collected).split())
    if len(summary) > 300:
        summary = summary[:300].rsplit(" ", 1)[0]
    return summary or None
