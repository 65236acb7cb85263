"""Generate the bundled sample mailbox, ``ingest_pipeline/sample_data/sample.mbox``.

The mailbox is what a new user imports on first run: one week (2026-11-02 .. 2026-11-08 UTC)
of a recruiter's inbox, owned by the fictional Morgan Lee <morgan.lee@example.com>:

* job requirements from staffing agencies (plain text, HTML-only with a hidden preheader,
  multipart/alternative), one of them delivered twice a few minutes apart;
* job applications with a PDF (fpdf2) or DOCX (python-docx) resume attached, or pasted in
  the body, one of them delivered twice on two different days;
* newsletters, personal mail and notifications (a receipt and a calendar invitation);
* malformed messages written as raw bytes (garbage Date, a boundary that never appears, an
  unknown charset, a corrupt base64 attachment) and one whose Date is years before receipt.

The ``From `` line of each mbox entry is the receipt time, which is what the pipeline windows
on (like Gmail's internalDate); the ``Date`` header is the sender's claim and may differ.

The output is byte-for-byte reproducible: no clock, no network, a fixed random seed, fixed
MIME boundaries and Message-IDs, fixed PDF/DOCX metadata and fixed zip timestamps. Run::

    .venv/bin/python scripts/make_sample_mailbox.py [--out PATH]

All people, companies, addresses (example.com/.org/.net) and phone numbers (555-01xx) are
fictional.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import hashlib
import html
import io
import random
import sys
import textwrap
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from importlib import metadata
from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from fpdf import FPDF

SEED = 20261102
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "ingest_pipeline" / "sample_data" / "sample.mbox"

OWNER_NAME = "Morgan Lee"
OWNER = "morgan.lee@example.com"
OWNER_ALIAS = "hiring@example.com"  # forwards to OWNER; used by the duplicate deliveries

UTC = dt.UTC
EST = dt.timezone(dt.timedelta(hours=-5))  # US daylight saving time ended on 2026-11-01
CST = dt.timezone(dt.timedelta(hours=-6))
MST = dt.timezone(dt.timedelta(hours=-7))
PST = dt.timezone(dt.timedelta(hours=-8))
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))

DOCUMENT_DATE = dt.datetime(2026, 10, 28, 12, 0, 0, tzinfo=UTC)  # resumes' creation date
ZIP_DATE_TIME = (2026, 10, 28, 12, 0, 0)

# The versions the committed sample.mbox was generated with. Other versions of these
# libraries (or of zlib, which compresses PDF streams and DOCX members) may lay bytes out
# differently, so the byte-for-byte test only applies when the toolchain matches.
BUILT_WITH = {"fpdf2": "2.8.9", "python-docx": "1.2.0", "zlib": "1.2.13"}

KINDS = ("recruiter", "application", "newsletter", "personal", "notification", "malformed")


def toolchain_versions() -> dict[str, str]:
    """The installed versions of the libraries whose output ends up in the mailbox."""
    return {
        "fpdf2": metadata.version("fpdf2"),
        "python-docx": metadata.version("python-docx"),
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
    }


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def at(day: int, hhmm: str) -> dt.datetime:
    """A receipt time on November ``day`` 2026 at ``hhmm`` (``"09:15"`` or ``"09:15:27"``) UTC."""
    parts = [int(p) for p in hhmm.split(":")]
    hour, minute, second = [*parts, 0][:3]
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def digest(*parts: object, length: int = 8) -> str:
    """A short stable hex digest of ``parts`` (never Python's salted ``hash()``)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def make_message_id(prefix: str, received: dt.datetime, domain: str) -> str:
    """A Message-ID like ``<req01.202611020915.1a2b3c4d@mail.example.com>``."""
    return f"<{prefix}.{received:%Y%m%d%H%M}.{digest(prefix, received.isoformat())}@{domain}>"


def wrap(text: str, width: int = 72) -> str:
    """Fill each blank-line separated paragraph of ``text`` to ``width`` columns."""
    paragraphs = text.strip().split("\n\n")
    return "\n\n".join(textwrap.fill(" ".join(p.split()), width) for p in paragraphs)


def bullets(items: Sequence[str], mark: str = "- ", width: int = 72) -> str:
    """A wrapped bullet list."""
    indent = " " * len(mark)
    return "\n".join(
        textwrap.fill(item, width, initial_indent=mark, subsequent_indent=indent) for item in items
    )


def html_page(title: str, body: str, preheader: str | None = None) -> str:
    """Wrap ``body`` in a mail-client style HTML page, with an optional hidden preheader."""
    hidden = (
        '<span style="display:none;font-size:1px;color:#ffffff;max-height:0;'
        f'overflow:hidden">{html.escape(preheader)}</span>\n'
        if preheader
        else ""
    )
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222222">\n'
        f"{hidden}{body}\n</body>\n</html>\n"
    )


def html_list(items: Sequence[str]) -> str:
    """An HTML ``<ul>``, one item per line."""
    return "<ul>\n" + "\n".join(f"<li>{html.escape(i)}</li>" for i in items) + "\n</ul>"


def html_paragraphs(text: str) -> str:
    """Blank-line separated paragraphs as ``<p>`` elements, single newlines as ``<br>``."""
    paragraphs = text.strip().split("\n\n")
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def new_message(
    *,
    sender: tuple[str, str],
    to: Sequence[tuple[str, str]],
    subject: str,
    sent: dt.datetime,
    message_id: str,
    cc: Sequence[tuple[str, str]] = (),
    extra: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """An `EmailMessage` (policy default) with the usual headers set, content still empty."""
    msg = EmailMessage(policy=policy.default)
    msg["From"] = formataddr(sender)
    msg["To"] = ", ".join(formataddr(t) for t in to)
    if cc:
        msg["Cc"] = ", ".join(formataddr(c) for c in cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = message_id
    for name, value in extra:
        msg[name] = value
    return msg


def fix_boundaries(msg: EmailMessage, message_id: str) -> None:
    """Give every multipart a boundary derived from the Message-ID (the email package would
    otherwise draw a random one when the message is serialized)."""
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_sample_{digest(message_id, index, length=20)}")


def serialize(msg: EmailMessage) -> bytes:
    """The message as bytes with LF line endings and stable boundaries."""
    fix_boundaries(msg, str(msg["Message-ID"]))
    return msg.as_bytes(policy=policy.default)


def sent_before(received: dt.datetime, tz: dt.timezone, rng: random.Random) -> dt.datetime:
    """The sender's Date: a few seconds to minutes before receipt, in the sender's zone."""
    return (received - dt.timedelta(seconds=rng.randint(4, 180))).astimezone(tz)


# --------------------------------------------------------------------------------------
# Deliveries and the mbox format
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One mbox entry: a message as received, with its transport headers."""

    kind: str
    message_id: str
    envelope_sender: str
    received: dt.datetime  # UTC receipt time, written on the ``From `` line
    data: bytes  # the message as sent, without transport headers
    host: str  # the sending MTA
    delivered_to: str = OWNER
    mx: str = "mx1.example.com"
    note: str = ""

    def transport_headers(self) -> bytes:
        """Return-Path, Delivered-To and Received, as the receiving server prepends them."""
        ip = f"192.0.2.{int(digest(self.host, length=4), 16) % 200 + 20}"
        queue_id = digest(self.message_id, self.received.isoformat(), self.mx, length=10).upper()
        lines = [
            f"Return-Path: <{self.envelope_sender}>",
            f"Delivered-To: {self.delivered_to}",
            f"Received: from {self.host} ({self.host} [{ip}])",
            f"        by {self.mx} (Postfix) with ESMTPS id {queue_id}",
            f"        for <{self.delivered_to}>; {format_datetime(self.received)}",
        ]
        return ("\n".join(lines) + "\n").encode("ascii")

    def from_line(self) -> bytes:
        """The mbox separator, ``From sender@example.com Mon Nov  2 09:15:00 2026``."""
        r = self.received.astimezone(UTC)
        day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[r.weekday()]
        month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")[r.month - 1]  # fmt: skip
        stamp = f"{day} {month} {r.day:2d} {r:%H:%M:%S} {r.year}"
        return f"From {self.envelope_sender} {stamp}\n".encode("ascii")

    def mbox_entry(self) -> bytes:
        """The From line, the quoted message and the blank line that ends the entry."""
        body = self.transport_headers() + self.data
        if not body.endswith(b"\n"):
            body += b"\n"
        quoted = b"".join(
            b">" + line if line.startswith(b"From ") else line
            for line in body.splitlines(keepends=True)
        )
        return self.from_line() + quoted + b"\n"


def redeliver(
    first: Delivery, received: dt.datetime, *, mx: str, delivered_to: str | None = None
) -> Delivery:
    """The same message (same bytes, same Message-ID) delivered again at ``received``."""
    return dataclasses.replace(
        first,
        received=received,
        mx=mx,
        delivered_to=delivered_to or first.delivered_to,
        note="duplicate delivery",
    )


# --------------------------------------------------------------------------------------
# Recruiter job requirements
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agency:
    """A staffing agency and the recruiter who writes from it."""

    name: str
    domain: str
    recruiter: str
    email: str
    role: str
    phone: str
    tz: dt.timezone


AGENCIES = {
    "apex": Agency("Apex Talent Partners", "apextalent.example.com", "Neha Sharma",
                   "neha.sharma@apextalent.example.com", "Senior Technical Recruiter",
                   "(972) 555-0142", CST),
    "brightpath": Agency("BrightPath Staffing", "brightpath.example.net", "Ryan Walsh",
                         "ryan.walsh@brightpath.example.net", "Account Manager",
                         "(201) 555-0117", EST),
    "cobalt": Agency("Cobalt IT Solutions", "cobaltit.example.com", "Sandeep Reddy",
                     "sandeep@cobaltit.example.com", "Lead Recruiter", "(732) 555-0166", EST),
    "meridian": Agency("Meridian Consulting Group", "meridiancg.example.org", "Jessica Moore",
                       "jmoore@meridiancg.example.org", "Talent Acquisition Partner",
                       "(312) 555-0158", CST),
    "northstar": Agency("Northstar Tech Staffing", "northstar-staffing.example.com",
                        "Vikram Nair", "vikram.nair@northstar-staffing.example.com",
                        "Technical Recruiter", "(470) 555-0131", EST),
    "summit": Agency("Summit Resource Group", "summitrg.example.net", "Laura Bennett",
                     "laura.bennett@summitrg.example.net", "Senior Recruiter",
                     "(206) 555-0173", PST),
    "keystone": Agency("Keystone Systems Inc", "keystonesys.example.com", "Harish Gupta",
                       "harish.g@keystonesys.example.com", "US IT Recruiter",
                       "(609) 555-0189", IST),
    "tidewater": Agency("Tidewater Technologies", "tidewater-tech.example.org", "Megan Foster",
                        "megan.foster@tidewater-tech.example.org", "Recruiting Lead",
                        "(720) 555-0104", MST),
}  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One requirement email. ``fmt`` is plain/html/alternative; ``style`` shapes the text."""

    received: dt.datetime
    agency: str
    subject: str
    title: str
    client: str
    location: str
    duration: str
    rate: str
    experience: str
    must_have: tuple[str, ...]
    nice_to_have: tuple[str, ...]
    visa: str
    fmt: str = "plain"
    style: str = "list"
    notes: str = ""
    preheader: str = ""


JOBS = (
    Job(at(2, "09:15:12"), "apex", "Requirement: Senior Java Developer - Dallas, TX (Contract)",
        "Senior Java Developer", "Lone Star Financial (end client, banking)",
        "Dallas, TX (Hybrid - 3 days onsite)", "12 months, extension likely", "$85/hr on C2C",
        "10+ years",
        ("Java 11+, Spring Boot, Spring Cloud", "Microservices and REST API design",
         "Kafka or another event streaming platform", "AWS (EKS, Lambda, S3)",
         "Oracle or PostgreSQL, strong SQL"),
        ("Payments or core banking domain", "Angular or React exposure"),
        "H1B, GC, GC-EAD and USC are fine on C2C. No OPT/CPT.",
        notes="Client interviews are 2 rounds (technical video + onsite). Need passport "
              "number for H1B candidates at submission."),
    Job(at(2, "11:03:40"), "brightpath", "Urgent need: Data Engineer (Remote)",
        "Data Engineer", "Blue Harbor Health (healthcare analytics)",
        "Remote (US, Eastern or Central hours)", "6+ months", "$70/hr on W2", "6+ years",
        ("Python and PySpark", "Airflow orchestration", "Snowflake and dbt",
         "Data modeling for analytics (star schema)"),
        ("Healthcare claims data (HIPAA)", "Terraform"),
        "USC or GC only, no sponsorship, W2 only.",
        fmt="html", preheader="Remote Data Engineer - W2 - start in two weeks"),
    Job(at(2, "14:48:05"), "tidewater", "Hiring: DevOps Engineer in Austin",
        "DevOps Engineer", "Cascade Logistics", "Austin, TX (Onsite 5 days)", "12 months",
        "$75-80/hr C2C", "7+ years",
        ("Terraform and Terragrunt", "Kubernetes (EKS) and Helm", "AWS networking and IAM",
         "CI/CD with Jenkins or GitHub Actions", "Bash and Python scripting"),
        ("Datadog or Prometheus/Grafana", "ArgoCD"),
        "Any visa except OPT. Local to Austin preferred.", style="brief"),
    Job(at(2, "18:20:31"), "cobalt", "Requirement: Business Analyst - Charlotte, NC (Hybrid)",
        "Business Analyst", "Pinecrest Bank", "Charlotte, NC (Hybrid - 2 days onsite)",
        "9 months", "$60/hr on W2", "5+ years",
        ("Banking domain (lending or deposits)", "Requirements gathering, user stories, JIRA",
         "SQL for data analysis", "UAT coordination"),
        ("Visio process flows", "CBAP certification"),
        "USC/GC/GC-EAD on W2.", fmt="alternative",
        preheader="BA role with Pinecrest Bank - Charlotte hybrid"),
    Job(at(3, "08:05:18"), "keystone", "Requirement: .NET Full Stack Developer - Remote",
        ".NET Full Stack Developer", "Granite State Insurance", "Remote", "12+ months",
        "$68/hr C2C", "8+ years",
        ("C#, .NET 6/8, ASP.NET Core Web API", "Angular 14+", "Azure App Service and Functions",
         "SQL Server, Entity Framework"),
        ("Insurance domain", "Azure DevOps pipelines"),
        "H1B transfer OK, GC, USC. Please share visa copy and DL with the submission.",
        notes="Please do not submit candidates already submitted to Granite State by "
              "another vendor in the last 6 months."),
    Job(at(3, "13:12:44"), "meridian", "Salesforce Developer - Chicago, IL",
        "Salesforce Developer", "Redwood Retail Group", "Chicago, IL (Hybrid, local only)",
        "6 months with possible extension", "$80/hr C2C", "6+ years",
        ("Apex, triggers, batch classes", "Lightning Web Components",
         "Sales Cloud and Service Cloud", "Integrations with REST/SOAP APIs"),
        ("Platform Developer II certification", "Marketing Cloud"),
        "Local candidates only (in-person interview). USC/GC/H4-EAD.", fmt="html",
        preheader="Chicago Salesforce LWC developer - in-person interview"),
    Job(at(3, "16:40:09"), "northstar",
        "Immediate need: Python Developer with AWS - Remote (EST hours)",
        "Python Developer (AWS)", "Orion Payments", "Remote (must work EST hours)",
        "12 months", "$72/hr C2C", "7+ years",
        ("Python 3, FastAPI or Flask", "AWS Lambda, API Gateway, DynamoDB",
         "Unit testing with pytest", "Docker"),
        ("Payments or fintech background", "CDK or CloudFormation"),
        "All visas accepted on C2C except OPT/CPT.", style="narrative"),
    Job(at(3, "23:57:26"), "summit",
        "Requirement: QA Automation Engineer (Selenium/Java) - Phoenix, AZ",
        "QA Automation Engineer", "Harborview Airlines", "Phoenix, AZ (Onsite)", "8 months",
        "$55/hr on W2", "5+ years",
        ("Selenium WebDriver with Java", "TestNG or JUnit, Cucumber BDD",
         "API testing with Rest Assured or Postman", "CI integration (Jenkins)"),
        ("Airline or travel domain", "Performance testing with JMeter"),
        "USC/GC only.", fmt="alternative",
        preheader="QA automation - Phoenix onsite - W2"),
    Job(at(4, "07:30:52"), "brightpath", "Hiring: Senior React Developer - New York, NY (Hybrid)",
        "Senior React Developer", "Vista Media Group", "New York, NY (Hybrid - 3 days)",
        "12 months", "$90/hr C2C", "9+ years",
        ("React 18, TypeScript, Redux Toolkit", "Next.js and server-side rendering",
         "Accessibility (WCAG 2.1)", "Jest and React Testing Library"),
        ("GraphQL", "Design systems / Storybook"),
        "H1B, GC, USC. No third-party layering beyond one vendor.", fmt="html",
        preheader="Senior React / Next.js - NYC hybrid - $90/hr"),
    Job(at(4, "10:18:37"), "cobalt", "Requirement: Oracle DBA - Columbus, OH (Onsite)",
        "Oracle DBA", "Evergreen Utilities", "Columbus, OH (Onsite)", "6 months",
        "$65/hr C2C", "10+ years",
        ("Oracle 19c administration, RAC, Data Guard", "Performance tuning (AWR, ASH)",
         "RMAN backup and recovery", "Shell scripting"),
        ("Exadata", "OCI migrations"),
        "Any visa. Candidate must pass a background check."),
    Job(at(4, "15:05:14"), "keystone", "Urgent: Scrum Master - Remote",
        "Scrum Master", "Tri-County Medical", "Remote", "6 months", "$62/hr on W2", "7+ years",
        ("Scrum ceremonies for 2+ teams", "JIRA and Confluence", "SAFe experience",
         "Metrics and reporting (velocity, burn-down)"),
        ("CSM or PSM certification", "Healthcare domain"),
        "USC and GC only.", style="narrative"),
    Job(at(4, "20:44:03"), "northstar", "Need: Cloud Architect (Azure) - Atlanta, GA",
        "Cloud Architect (Azure)", "Maple Grove Foods", "Atlanta, GA (Hybrid, 2 days)",
        "12+ months", "$95/hr C2C", "15+ years",
        ("Azure landing zones and governance", "AKS and Azure networking",
         "Infrastructure as code (Bicep or Terraform)", "Migration from on-prem VMware"),
        ("AZ-305 certification", "Cost optimization (FinOps)"),
        "H1B/GC/USC.", fmt="alternative",
        preheader="Azure architect - long term - Atlanta hybrid"),
    Job(at(5, "09:50:22"), "apex", "Requirement: SAP FICO Consultant - Houston, TX",
        "SAP FICO Consultant", "Northwind Energy", "Houston, TX (Hybrid)", "10 months",
        "$88/hr C2C", "12+ years",
        ("SAP FI/CO configuration", "S/4HANA implementation (at least 2 full cycles)",
         "Asset accounting, GL, AP/AR", "Integration with MM and SD"),
        ("Oil and gas domain", "Central Finance"),
        "H1B, GC, USC. Need 2 references from recent projects."),
    Job(at(5, "12:36:48"), "summit", "Hiring Full-time: Site Reliability Engineer - Seattle, WA",
        "Site Reliability Engineer", "Silverline Telecom", "Seattle, WA (Hybrid)",
        "Full-time (permanent)", "$165,000 - $185,000 base + 10% bonus", "8+ years",
        ("Kubernetes in production at scale", "Go or Python", "Observability (Prometheus, "
         "Grafana, OpenTelemetry)", "On-call and incident management"),
        ("Telecom networks", "Chaos engineering"),
        "Full-time role: USC/GC, or H1B with transfer (client sponsors).", fmt="html",
        preheader="FTE SRE role in Seattle with relocation help"),
    Job(at(5, "16:12:31"), "tidewater", "Requirement: Data Scientist (NLP) - Remote",
        "Data Scientist (NLP)", "Harborview Airlines", "Remote (US)", "9 months",
        "$85/hr C2C", "6+ years",
        ("Python, PyTorch or TensorFlow", "NLP: transformers, text classification, NER",
         "SQL and feature engineering", "Model deployment (SageMaker or similar)"),
        ("LLM fine-tuning and evaluation", "Customer support text data"),
        "All visas on C2C.", fmt="alternative",
        preheader="NLP data scientist - fully remote"),
    Job(at(5, "21:03:57"), "keystone", "Requirement: Network Engineer (Cisco) - Raleigh, NC",
        "Network Engineer", "Pinecrest Bank", "Raleigh, NC (Onsite)", "12 months",
        "$58/hr on W2", "6+ years",
        ("Cisco routing and switching (BGP, OSPF)", "Palo Alto firewalls",
         "Data center networking (Nexus)", "Change management in ITIL environment"),
        ("CCNP", "Python for network automation"),
        "USC/GC only, W2."),
    Job(at(6, "08:27:16"), "tidewater",
        "Contract-to-hire: Golang Backend Engineer - Denver, CO (Hybrid)",
        "Golang Backend Engineer", "Cascade Logistics", "Denver, CO (Hybrid - Tue/Thu onsite)",
        "6 month contract-to-hire", "$80/hr C2H (W2 only)", "6+ years",
        ("Go in production", "gRPC and Protobuf", "PostgreSQL", "Event-driven design (Kafka)"),
        ("Logistics or supply chain", "Kubernetes"),
        "Must be able to convert to full-time: USC/GC only.", style="brief"),
    Job(at(6, "11:54:29"), "northstar", "Requirement: ServiceNow Developer - Remote",
        "ServiceNow Developer", "Evergreen Utilities", "Remote", "12 months", "$70/hr C2C",
        "6+ years",
        ("ServiceNow ITSM, ITOM", "Glide scripting, Business Rules, Script Includes",
         "Flow Designer and IntegrationHub", "REST integrations"),
        ("CSA and CAD certifications", "HRSD"),
        "H1B/GC/USC/EAD.", fmt="html",
        preheader="ServiceNow developer - remote - long term"),
    Job(at(6, "15:40:50"), "meridian", "Need: Tableau / Power BI Developer - Minneapolis, MN",
        "Tableau / Power BI Developer", "Maple Grove Foods", "Minneapolis, MN (Hybrid)",
        "6 months", "$60/hr C2C", "5+ years",
        ("Tableau Desktop and Server", "Power BI (DAX, Power Query)", "Advanced SQL",
         "Dashboard design for executives"),
        ("Snowflake", "Retail or CPG data"),
        "GC/USC/H4-EAD preferred.", style="narrative"),
    Job(at(6, "18:09:11"), "cobalt", "Requirement: Mainframe COBOL Developer - Hartford, CT",
        "Mainframe COBOL Developer", "Granite State Insurance", "Hartford, CT (Onsite)",
        "12 months", "$65/hr C2C", "12+ years",
        ("COBOL, JCL, CICS", "DB2 and VSAM", "Endevor, File-AID", "Batch scheduling (CA-7)"),
        ("Insurance policy administration", "Mainframe modernization"),
        "Any visa.", fmt="alternative",
        preheader="Mainframe COBOL - Hartford onsite - 12 months"),
    Job(at(7, "16:22:45"), "summit", "Hiring: Android Developer (Kotlin) - San Jose, CA",
        "Android Developer", "Silverline Telecom", "San Jose, CA (Onsite 4 days)", "12 months",
        "$78/hr C2C", "7+ years",
        ("Kotlin, Jetpack Compose", "MVVM, Coroutines, Flow", "Retrofit, Room",
         "Publishing to Google Play"),
        ("Bluetooth LE", "Kotlin Multiplatform"),
        "H1B/GC/USC.", style="brief"),
    Job(at(8, "13:05:33"), "brightpath",
        "Requirement: Cybersecurity Analyst (SOC) - Remote (US only)",
        "Cybersecurity Analyst (SOC)", "Tri-County Medical", "Remote (US only)", "12 months",
        "$60/hr on W2", "4+ years",
        ("SIEM (Splunk or Sentinel)", "Incident triage and response",
         "EDR tools (CrowdStrike or Defender)", "Phishing analysis"),
        ("Security+ or CySA+", "Healthcare (HIPAA)"),
        "USC only (Public Trust clearance needed).", fmt="html",
        preheader="SOC analyst - remote - Public Trust"),
)  # fmt: skip

GREETINGS = (
    "Hope you are doing well.",
    "Hope your week is going great.",
    "Good day! Sharing a new requirement with you.",
    "Hope all is well on your end.",
)


def signature(agency: Agency) -> str:
    """The recruiter's signature block."""
    return (
        f"{agency.recruiter}\n{agency.role} | {agency.name}\n"
        f"{agency.email} | {agency.phone}\nhttps://www.{agency.domain}"
    )


def job_text(job: Job, agency: Agency, rng: random.Random) -> str:
    """The plain-text body of a requirement, in one of three house styles."""
    if job.style == "narrative":
        first = (
            f"We have an immediate opening for a {job.title} with our client "
            f"{job.client}. The role is {job.location}, {job.duration}, paying {job.rate}. "
            f"Looking for {job.experience} of experience. {job.visa}"
        )
        second = (
            f"The must-haves are: {'; '.join(job.must_have)}. It's a plus if they have "
            f"{' or '.join(job.nice_to_have)}. {job.notes}"
        )
        return (
            f"Hello {OWNER_NAME.split()[0]},\n\n{wrap(first)}\n\n{wrap(second)}\n\n"
            + wrap(
                "If you have someone who fits, reply with an updated resume and a good time "
                "for a quick call."
            )
            + f"\n\nBest,\n{signature(agency)}\n"
        )
    if job.style == "brief":
        lines = [
            f"{job.duration}, {job.rate}",
            f"Must: {', '.join(job.must_have)}",
            f"Nice: {', '.join(job.nice_to_have)}",
            f"Experience: {job.experience}",
            f"Visa: {job.visa}",
        ]
        notes = f"\n{wrap(job.notes)}\n" if job.notes else ""
        opener = wrap(
            f"{OWNER_NAME.split()[0]} - quick one. Looking for a {job.title}, {job.location}, "
            f"for {job.client}."
        )
        return (
            f"{opener}\n\n{bullets(lines, mark='* ')}\n{notes}\n"
            f"Client wants profiles by end of day. Thanks!\n\n"
            f"{agency.recruiter.split()[0]}\n--\n{signature(agency)}\n"
        )
    details = "\n".join(
        [
            f"Job Title: {job.title}",
            f"Client: {job.client}",
            f"Location: {job.location}",
            f"Duration: {job.duration}",
            f"Rate: {job.rate}",
            f"Experience: {job.experience}",
            f"Visa: {job.visa}",
        ]
    )
    notes = f"\n\n{wrap('Note: ' + job.notes)}" if job.notes else ""
    intro = wrap(
        f"{rng.choice(GREETINGS)} Please find the requirement below and let me know if you "
        "have a suitable consultant."
    )
    return (
        f"Hi {OWNER_NAME.split()[0]},\n\n{intro}\n\n"
        f"{details}\n\nMust have:\n{bullets(job.must_have)}\n\n"
        f"Nice to have:\n{bullets(job.nice_to_have)}{notes}\n\n"
        + wrap(
            "Please share the consultant's updated resume, current location, visa status "
            "and best rate."
        )
        + f"\n\nThanks & Regards,\n{signature(agency)}\n\n"
        + wrap(
            "If you would like to be removed from our mailing list, please reply with "
            "REMOVE in the subject line."
        )
        + "\n"
    )


def job_html(job: Job, agency: Agency) -> str:
    """The HTML body of a requirement: a details table and skill lists."""
    rows = (
        ("Position", job.title),
        ("Client", job.client),
        ("Location", job.location),
        ("Duration", job.duration),
        ("Rate", job.rate),
        ("Experience", job.experience),
        ("Work authorization", job.visa),
    )
    table = "\n".join(
        f'<tr><td style="font-weight:bold;padding:4px 12px 4px 0">{html.escape(k)}</td>'
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    notes = f"<p><i>{html.escape(job.notes)}</i></p>\n" if job.notes else ""
    body = (
        f"<p>Hi {OWNER_NAME.split()[0]},</p>\n"
        f"<p>We are hiring a <b>{html.escape(job.title)}</b> for our client. "
        "Details below.</p>\n"
        f'<table cellpadding="0" cellspacing="0" border="0">\n{table}\n</table>\n'
        f"<p><b>Must-have skills</b></p>\n{html_list(job.must_have)}\n"
        f"<p><b>Nice to have</b></p>\n{html_list(job.nice_to_have)}\n{notes}"
        "<p>Reply with the consultant's resume, rate and availability.</p>\n"
        f"<p>Regards,<br>\n{html.escape(agency.recruiter)}<br>\n"
        f"{html.escape(agency.role)} | {html.escape(agency.name)}<br>\n"
        f'<a href="mailto:{agency.email}">{agency.email}</a> | {agency.phone}</p>\n'
        f'<p style="font-size:11px;color:#888888">{html.escape(agency.name)} is an equal '
        "opportunity employer.</p>"
    )
    return html_page(job.subject, body, job.preheader or None)


def recruiter_delivery(number: int, job: Job, rng: random.Random) -> Delivery:
    """Build requirement email ``number`` (1-based) from its table row."""
    agency = AGENCIES[job.agency]
    message_id = make_message_id(f"req{number:02d}", job.received, f"mail.{agency.domain}")
    msg = new_message(
        sender=(agency.recruiter, agency.email),
        to=[(OWNER_NAME, OWNER)],
        subject=job.subject,
        sent=sent_before(job.received, agency.tz, rng),
        message_id=message_id,
        extra=[("X-Mailer", "Microsoft Outlook 16.0")] if job.fmt == "plain" else [],
    )
    if job.fmt == "html":
        msg.set_content(job_html(job, agency), subtype="html")
    else:
        msg.set_content(job_text(job, agency, rng))
        if job.fmt == "alternative":
            msg.add_alternative(job_html(job, agency), subtype="html")
    return Delivery(
        kind="recruiter",
        message_id=message_id,
        envelope_sender=agency.email,
        received=job.received,
        data=serialize(msg),
        host=f"mail.{agency.domain}",
        note=f"{job.fmt}/{job.style}",
    )


# --------------------------------------------------------------------------------------
# Applications and resumes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An applicant, their resume and how they sent it (``resume`` is pdf/docx/pasted)."""

    received: dt.datetime
    name: str
    email: str
    phone: str
    location: str
    role: str  # the position applied for
    headline: str
    years: int
    focus: str
    skills: tuple[str, ...]
    experience: tuple[tuple[str, tuple[str, ...]], ...]
    education: str
    handle: str
    resume: str
    tz: dt.timezone
    subject: str = ""
    pitch: str = ""

    @property
    def summary(self) -> str:
        return f"{self.headline} with {self.years} years of experience {self.focus}."

    @property
    def linkedin(self) -> str:
        return f"https://www.linkedin.com/in/{self.handle}"

    @property
    def github(self) -> str:
        return f"https://github.com/{self.handle}"

    @property
    def file_stem(self) -> str:
        return self.name.replace(" ", "_").replace("'", "")


CANDIDATES = (
    Candidate(at(2, "10:42:19"), "Priya Raman", "priya.raman@example.net", "(469) 555-0110",
        "Dallas, TX", "Senior Java Developer", "Senior Java developer", 9,
        "building Spring Boot microservices for banking and payments",
        ("Java 17", "Spring Boot", "Kafka", "AWS", "PostgreSQL", "Docker", "Kubernetes"),
        (("Senior Software Engineer, Trinity Payments (2020 - present)",
          ("Split a monolith into 14 Spring Boot services handling 3M transactions a day",
           "Introduced Kafka-based event sourcing for the ledger")),
         ("Java Developer, Bayou Bank Services (2016 - 2020)",
          ("Built REST APIs for online account opening", "Cut batch run time by 40%"))),
        "B.Tech, Computer Science, 2015", "priya-raman-sample", "pdf", CST,
        pitch="in Java and Spring Boot, most recently on payment systems in Dallas"),
    Candidate(at(2, "16:05:44"), "Marcus Bell", "marcus.bell@example.org", "(512) 555-0124",
        "Austin, TX (open to remote)", "Data Engineer", "Data engineer", 6,
        "designing batch and streaming pipelines on Spark, Airflow and Snowflake",
        ("Python", "PySpark", "Airflow", "Snowflake", "dbt", "SQL", "Terraform"),
        (("Data Engineer, Lakeside Health Analytics (2021 - present)",
          ("Migrated 200 Airflow DAGs to a dbt + Snowflake stack",
           "Built claims ingestion handling HIPAA data")),
         ("ETL Developer, Prairie Insurance (2018 - 2021)",
          ("Maintained Informatica jobs and wrote PySpark replacements",))),
        "B.S., Information Systems, 2018", "marcus-bell-sample", "docx", CST,
        subject="Application for Data Engineer - Marcus Bell",
        pitch="building data pipelines, mostly in healthcare"),
    Candidate(at(3, "14:10:02"), "Daniel Okafor", "daniel.okafor@example.com",
        "(214) 555-0137", "Irving, TX", "Senior Java Developer", "Lead Java engineer", 11,
        "in high-volume trading and banking platforms",
        ("Java", "Spring", "Microservices", "Kafka", "Oracle", "AWS", "Angular"),
        (("Lead Engineer, Crescent Capital Systems (2019 - present)",
          ("Led a team of 6 building order-routing services",
           "Moved deployments to EKS with blue/green releases")),
         ("Senior Developer, Red River Bank (2014 - 2019)",
          ("Built the wire transfer platform on Spring and Oracle",))),
        "M.S., Computer Engineering, 2013", "daniel-okafor-sample", "docx", CST,
        pitch="with Java, Spring and Kafka, including 5 years leading teams"),
    Candidate(at(3, "11:20:37"), "Elena Kovacs", "elena.kovacs@example.net", "(737) 555-0148",
        "Round Rock, TX", "DevOps Engineer", "DevOps engineer", 7,
        "automating AWS infrastructure with Terraform and Kubernetes",
        ("Terraform", "Kubernetes", "Helm", "AWS", "GitHub Actions", "Python", "Datadog"),
        (("DevOps Engineer, Hill Country Software (2020 - present)",
          ("Manage 12 EKS clusters with Terraform and ArgoCD",
           "Cut cloud spend by 22% with rightsizing")),
         ("Systems Engineer, Bluebonnet Hosting (2017 - 2020)",
          ("Built Jenkins pipelines for 40 services",))),
        "B.S., Computer Science, 2017", "elena-kovacs-sample", "pdf", CST,
        subject="Applying for the DevOps Engineer role (Austin)",
        pitch="in DevOps, with Terraform and EKS every day"),
    Candidate(at(3, "19:33:50"), "Sof\u00eda Mart\u00ednez", "sofia.martinez@example.org",
        "(704) 555-0159", "Charlotte, NC", "Business Analyst", "Business analyst", 5,
        "in retail banking, lending and deposit products",
        ("Requirements gathering", "JIRA", "Confluence", "SQL", "Visio", "UAT"),
        (("Business Analyst, Carolina Federal Bank (2021 - present)",
          ("Wrote 300+ user stories for a loan origination rewrite",
           "Coordinated UAT with 4 business units")),
         ("Operations Analyst, Queen City Credit Union (2019 - 2021)",
          ("Reported on deposit trends with SQL and Excel",))),
        "B.B.A., Finance, 2019", "sofia-martinez-sample", "pdf", EST,
        subject="Resume - Sofia Martinez - Business Analyst",
        pitch="as a business analyst in banking"),
    Candidate(at(4, "00:03:21"), "Wei Zhang", "wei.zhang@example.com", "(646) 555-0162",
        "Jersey City, NJ", "Python Developer", "Python developer", 8,
        "building serverless APIs on AWS",
        ("Python", "FastAPI", "AWS Lambda", "DynamoDB", "pytest", "Docker", "CDK"),
        (("Senior Python Developer, Hudson Fintech (2020 - present)",
          ("Built a FastAPI payments gateway on Lambda", "Raised test coverage to 92%")),
         ("Software Engineer, Garden State Data (2017 - 2020)",
          ("Wrote ETL services in Python and Flask",))),
        "M.S., Computer Science, 2016", "wei-zhang-sample", "docx", EST,
        pitch="in Python, with the last 4 on AWS Lambda and FastAPI"),
    Candidate(at(4, "13:47:08"), "Hannah Schmidt", "hannah.schmidt@example.net",
        "(602) 555-0171", "Tempe, AZ", "QA Automation Engineer", "QA automation engineer", 4,
        "with Selenium, Java and API testing",
        ("Selenium", "Java", "TestNG", "Cucumber", "Rest Assured", "Jenkins", "JMeter"),
        (("QA Automation Engineer, Desert Sky Travel (2022 - present)",
          ("Automated 600 regression tests with Selenium and Cucumber",)),
         ("QA Analyst, Saguaro Software (2021 - 2022)",
          ("Wrote API tests in Postman and Rest Assured",))),
        "B.S., Software Engineering, 2021", "hannah-schmidt-sample", "pdf", MST,
        pitch="in test automation"),
    Candidate(at(5, "15:26:55"), "Arjun Mehta", "arjun.mehta@example.org", "(847) 555-0183",
        "Schaumburg, IL", "Salesforce Developer", "Salesforce developer", 6,
        "across Sales Cloud, Service Cloud and Lightning Web Components",
        ("Apex", "LWC", "SOQL", "Sales Cloud", "Service Cloud", "REST integrations"),
        (("Salesforce Developer, Lakeshore Retail (2021 - present)",
          ("Built LWC components for the service console",
           "Integrated order data over REST")),
         ("Salesforce Admin/Developer, Prairie Goods (2019 - 2021)",
          ("Wrote Apex triggers and batch classes",))),
        "B.E., Electronics, 2018", "arjun-mehta-sample", "docx", CST,
        pitch="on the Salesforce platform and I hold Platform Developer II"),
    Candidate(at(5, "17:58:13"), "Olivia Brooks", "olivia.brooks@example.com",
        "(404) 555-0195", "Atlanta, GA (remote)", "Scrum Master", "Certified Scrum Master", 10,
        "coaching agile teams in healthcare and insurance",
        ("Scrum", "SAFe", "JIRA", "Confluence", "Kanban", "Coaching"),
        (("Scrum Master, Peachtree Health (2019 - present)",
          ("Ran ceremonies for 3 teams and a SAFe release train",)),
         ("Project Coordinator, Magnolia Insurance (2016 - 2019)",
          ("Introduced Kanban to the claims IT team",))),
        "B.A., Communications, 2014; CSM, SAFe SM", "olivia-brooks-sample", "pdf", EST,
        subject="Application for Scrum Master (Remote)", pitch="as a Scrum Master"),
    Candidate(at(6, "09:12:40"), "Tom\u00e1s Herrera", "tomas.herrera@example.net",
        "(917) 555-0106", "Brooklyn, NY", "Senior React Developer", "Front-end engineer", 7,
        "building React and Next.js applications for media companies",
        ("React", "TypeScript", "Next.js", "Redux Toolkit", "GraphQL", "Jest", "Storybook"),
        (("Senior Front-end Engineer, Empire Streaming (2021 - present)",
          ("Rebuilt the web player UI in Next.js", "Led an accessibility audit (WCAG 2.1)")),
         ("Front-end Developer, Hudson Daily (2018 - 2021)",
          ("Built the design system in Storybook",))),
        "B.S., Computer Science, 2017", "tomas-herrera-sample", "docx", EST,
        pitch="in front-end work, mostly React and TypeScript"),
    Candidate(at(6, "20:41:27"), "Grace Nakamura", "grace.nakamura@example.org",
        "(415) 555-0119", "Oakland, CA (remote)", "Data Scientist (NLP)", "Data scientist", 5,
        "in NLP: classification, entity extraction and LLM evaluation",
        ("Python", "PyTorch", "Hugging Face Transformers", "SQL", "SageMaker", "spaCy"),
        (("Data Scientist, Bayline Support AI (2022 - present)",
          ("Fine-tuned transformer classifiers for support tickets",
           "Built an evaluation harness for LLM answers")),
         ("Machine Learning Engineer, Golden Gate Analytics (2020 - 2022)",
          ("Shipped an NER model for invoices",))),
        "M.S., Statistics, 2020", "grace-nakamura-sample", "pdf", PST,
        subject="Application: Data Scientist (NLP) - Grace Nakamura",
        pitch="in machine learning, focused on NLP"),
    Candidate(at(7, "11:06:18"), "Kevin O'Neill", "kevin.oneill@example.com",
        "(206) 555-0128", "Tacoma, WA", "Site Reliability Engineer", "Site reliability engineer",
        9, "running Kubernetes platforms with strong observability and on-call practice",
        ("Kubernetes", "Go", "Python", "Prometheus", "Grafana", "OpenTelemetry", "Terraform"),
        (("Senior SRE, Puget Cloud (2019 - present)",
          ("Own SLOs for 80 services", "Halved paging volume with alert tuning")),
         ("Systems Engineer, Rainier Networks (2015 - 2019)",
          ("Automated server builds with Ansible",))),
        "B.S., Computer Engineering, 2015", "kevin-oneill-sample", "docx", PST,
        pitch="in operations and SRE"),
    Candidate(at(8, "10:30:04"), "Fatima Noor", "fatima.noor@example.net", "(603) 555-0141",
        "Manchester, NH (remote)", ".NET Full Stack Developer", "Full stack .NET developer", 6,
        "with C#, ASP.NET Core, Angular and Azure",
        ("C#", ".NET 8", "ASP.NET Core", "Angular", "Azure Functions", "SQL Server"),
        (("Software Engineer, Granite Insurance Tech (2021 - present)",
          ("Built policy APIs in ASP.NET Core", "Moved batch jobs to Azure Functions")),
         ("Developer, White Mountain Software (2019 - 2021)",
          ("Maintained an Angular + Web API claims portal",))),
        "B.S., Computer Science, 2019", "fatima-noor-sample", "pasted", EST,
        pitch="in .NET and Angular"),
    Candidate(at(8, "18:15:36"), "Jamal Carter", "jamal.carter@example.org", "(919) 555-0153",
        "Durham, NC", "Network Engineer", "Network engineer", 8,
        "in enterprise and data center networking",
        ("Cisco IOS/NX-OS", "BGP", "OSPF", "Palo Alto", "Nexus", "Python (Netmiko)"),
        (("Network Engineer, Triangle Health System (2019 - present)",
          ("Designed the Nexus data center refresh", "Automated config backups in Python")),
         ("NOC Engineer, Piedmont Telecom (2016 - 2019)",
          ("Handled BGP incidents for 300 customer sites",))),
        "B.S., Network Engineering, 2016; CCNP Enterprise", "jamal-carter-sample", "pasted",
        EST, subject="Network Engineer application (resume below)",
        pitch="in networking, CCNP certified"),
)  # fmt: skip


def resume_sections(c: Candidate) -> list[tuple[str, list[str]]]:
    """The resume's content as (heading, lines); bullet lines start with ``- ``."""
    experience: list[str] = []
    for heading, items in c.experience:
        experience.append(heading)
        experience.extend(f"- {item}" for item in items)
    return [
        ("Summary", [c.summary]),
        ("Skills", [", ".join(c.skills)]),
        ("Experience", experience),
        ("Education", [c.education]),
    ]


def contact_lines(c: Candidate) -> list[str]:
    """The lines under the name: location, phone, email and profile links."""
    return [
        f"{c.location} | {c.phone} | {c.email}",
        f"LinkedIn: {c.linkedin}",
        f"GitHub: {c.github}",
    ]


def resume_text(c: Candidate) -> str:
    """The resume as plain text, for the applications that paste it into the body."""
    parts = [c.name.upper(), *contact_lines(c)]
    for heading, lines in resume_sections(c):
        parts += ["", heading.upper()]
        parts += [
            textwrap.fill(line, 72, subsequent_indent="  " if line.startswith("- ") else "")
            for line in lines
        ]
    return "\n".join(parts) + "\n"


def resume_pdf(c: Candidate) -> bytes:
    """A one-page PDF resume (fpdf2 core fonts, latin-1 text) with a fixed creation date."""
    pdf = FPDF(format="Letter")
    pdf.set_creation_date(DOCUMENT_DATE)
    pdf.set_producer("fpdf2")
    pdf.set_creator("Resume export")
    pdf.set_title(f"{c.name} - Resume")
    pdf.set_author(c.name)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 9, c.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in contact_lines(c):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    for heading, lines in resume_sections(c):
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1)
        for line in lines:
            bullet = line.startswith("- ")
            pdf.set_font("Helvetica", "" if bullet or heading != "Experience" else "B", 10)
            pdf.set_x(pdf.l_margin + (4 if bullet else 0))
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps and attributes so its bytes are reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# Word 2010's duplicate of styles.xml, shipped in python-docx's default template.
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


def resume_docx(c: Candidate) -> bytes:
    """A DOCX resume (python-docx) with fixed core properties and a reproducible zip."""
    document = docx.Document()
    # The default template carries a Word 2010 style copy and a thumbnail nobody needs;
    # dropping their relationships keeps them out of the package (and the mailbox small).
    for rid, rel in list(document.part.rels.items()):
        if rel.reltype == STYLES_WITH_EFFECTS:
            document.part.drop_rel(rid)
    package_rels = document.part.package.rels
    for rid, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package_rels.pop(rid)
    props = document.core_properties
    props.author = c.name
    props.last_modified_by = c.name
    props.title = f"{c.name} - Resume"
    props.comments = ""
    props.revision = 3
    props.created = DOCUMENT_DATE.replace(tzinfo=None)
    props.modified = DOCUMENT_DATE.replace(tzinfo=None)

    document.add_heading(c.name, level=0)
    for line in contact_lines(c):
        document.add_paragraph(line)
    for heading, lines in resume_sections(c):
        document.add_heading(heading, level=1)
        for line in lines:
            if line.startswith("- "):
                document.add_paragraph(line[2:], style="List Bullet")
            elif heading == "Experience":
                document.add_paragraph().add_run(line).bold = True
            else:
                document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return normalize_zip(buffer.getvalue())


DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")

COVER_LETTERS = (
    "Hi {first},\n\nI'm writing to apply for the {role} position. I have {years} years of "
    "experience {pitch}. My resume is attached.\n\nI'm based in {location} and can start "
    "with two weeks' notice.\n\nThank you for your time,\n{name}\n{phone}\n",
    "Hello {first},\n\nPlease find attached my resume for the {role} opening. In short: "
    "{years} years of experience {pitch}. I'd welcome a call this week.\n\nBest regards,\n"
    "{name}\n{email} | {phone}\n",
    "Dear Hiring Team,\n\nI saw your posting for a {role} and believe I'm a strong fit: I "
    "have {years} years of experience {pitch}. I've attached my resume and I'm happy to "
    "share references.\n\nSincerely,\n{name}\n{location}\n",
)


def cover_letter(c: Candidate, variant: int) -> str:
    """The application email's text, from one of a few templates."""
    fields = {
        "first": OWNER_NAME.split()[0], "role": c.role, "years": c.years, "pitch": c.pitch,
        "location": c.location, "name": c.name, "phone": c.phone, "email": c.email,
    }  # fmt: skip
    text = COVER_LETTERS[variant % len(COVER_LETTERS)].format(**fields)
    head, _, signoff = text.rpartition("\n\n")
    return wrap(head) + "\n\n" + signoff


def application_delivery(number: int, c: Candidate, rng: random.Random) -> Delivery:
    """Build application ``number`` (1-based): cover letter plus resume."""
    domain = c.email.split("@", 1)[1]
    message_id = make_message_id(f"app{number:02d}", c.received, f"mail.{domain}")
    msg = new_message(
        sender=(c.name, c.email),
        to=[(OWNER_NAME, OWNER)],
        subject=c.subject or f"Application for {c.role}",
        sent=sent_before(c.received, c.tz, rng),
        message_id=message_id,
    )
    if c.resume == "pasted":
        intro = wrap(
            f"Hi {OWNER_NAME.split()[0]}, I'd like to apply for the {c.role} role. I don't have "
            f"a file handy on this computer, so my resume is pasted below. I have {c.years} "
            f"years of experience {c.pitch}."
        )
        msg.set_content(
            f"{intro}\n\nThanks,\n{c.name}\n\n---------- RESUME ----------\n\n" + resume_text(c)
        )
    else:
        msg.set_content(cover_letter(c, number))
        if c.resume == "pdf":
            msg.add_attachment(
                resume_pdf(c),
                maintype="application",
                subtype="pdf",
                filename=f"{c.file_stem}_Resume.pdf",
            )
        else:
            msg.add_attachment(
                resume_docx(c),
                maintype=DOCX_TYPE[0],
                subtype=DOCX_TYPE[1],
                filename=f"{c.file_stem}_Resume.docx",
            )
    return Delivery(
        kind="application",
        message_id=message_id,
        envelope_sender=c.email,
        received=c.received,
        data=serialize(msg),
        host=f"smtp.{domain}",
        note=c.resume,
    )


# --------------------------------------------------------------------------------------
# Newsletters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Newsletter:
    """A bulk mailing: items are (headline, blurb); ``fmt`` is html or alternative."""

    received: dt.datetime
    brand: str
    domain: str
    list_name: str
    subject: str
    preheader: str
    intro: str
    items: tuple[tuple[str, str], ...]
    fmt: str = "html"


NEWSLETTERS = (
    Newsletter(at(2, "00:04:10"), "The Weekly Stack", "weeklystack.example.org", "weekly",
        "The Weekly Stack #212: Postgres 19 previews, Rust in the kernel",
        "Seven links worth your Monday coffee",
        "Good morning! Here is what caught our eye this week.",
        (("Postgres 19 feature preview", "Incremental view maintenance finally lands in beta."),
         ("Rust drivers in production", "Two case studies from embedded teams."),
         ("The cost of microservices", "A long read on when to merge services back."))),
    Newsletter(at(3, "07:00:03"), "Cloud Native Digest", "cloudnative-digest.example.net",
        "digest", "Cloud Native Digest: Kubernetes 1.36 release notes explained",
        "What changed in 1.36 and what breaks",
        "This week: the new release, Gateway API patterns, and a Helm chart checklist.",
        (("Kubernetes 1.36 in ten minutes", "The features you will actually use."),
         ("Gateway API patterns", "Migrating from Ingress without downtime."),
         ("Helm chart checklist", "Twelve things reviewers look for.")), "alternative"),
    Newsletter(at(4, "12:00:00"), "Remote Work Report", "remotework.example.com", "report",
        "Remote Work Report: async rituals that actually work",
        "Plus: the home office desk survey results",
        "Our readers shared how their teams run async stand-ups.",
        (("Async stand-ups", "Three formats compared by 400 readers."),
         ("Desk survey", "Standing desks are losing ground to good chairs."))),
    Newsletter(at(5, "14:00:00"), "Staffing Industry Brief", "staffingbrief.example.org",
        "brief", "Staffing Industry Brief: Q4 contract rates and hiring trends",
        "IT contract rates rose 3% this quarter",
        "Quarterly numbers are in. Highlights for IT staffing firms below.",
        (("Contract rates up 3%", "Data and cloud roles lead; QA rates flat."),
         ("Hiring trends", "Clients ask for hybrid over fully remote in 2027 plans."),
         ("Compliance corner", "New state rules on pay transparency in job posts.")),
        "alternative"),
    Newsletter(at(6, "06:30:00"), "TechBoard Job Alerts", "techboard.example.net", "alerts",
        "5 new jobs matching \"recruiter\" near Dallas, TX",
        "New matches from your saved search",
        "These jobs were posted in the last 24 hours and match your saved search.",
        (("Technical Recruiter - Lakeside Health Analytics", "Dallas, TX - Full-time"),
         ("Recruiting Coordinator - Trinity Payments", "Plano, TX - Contract"),
         ("Talent Sourcer - Hill Country Software", "Remote - Full-time"))),
    Newsletter(at(6, "23:58:31"), "Corner Books", "cornerbooks.example.com", "picks",
        "Weekend picks: 20% off mysteries", "Cozy reads for the first cold weekend",
        "Our staff picked their favorite mysteries for the long nights ahead.",
        (("The Lighthouse Ledger", "A bookkeeper, a storm, a missing keeper."),
         ("Murder at Maple Court", "Book 4 of the bestselling neighborhood series.")),
        "alternative"),
    Newsletter(at(7, "09:15:00"), "The Long Read Club", "longreadclub.example.org", "weekend",
        "Weekend reads: the last lighthouse keepers",
        "Four stories for a slow Saturday",
        "Settle in. This week's long reads are about people who keep old things running.",
        (("The last lighthouse keepers", "Life on a rock in the North Atlantic."),
         ("Who fixes the organ?", "A visit to a pipe organ restorer."))),
    Newsletter(at(7, "15:45:20"), "Trailhead Outfitters", "trailhead-outfitters.example.com",
        "deals", "Up to 40% off winter layers - this weekend only",
        "Jackets, base layers and boots on sale",
        "Winter is coming to the trails. Gear up for less this weekend.",
        (("Insulated jackets", "Up to 40% off select styles."),
         ("Merino base layers", "Buy two, get 15% off.")), "alternative"),
    Newsletter(at(8, "08:00:00"), "Python Tips Weekly", "pythontips.example.net", "tips",
        "Python Tips Weekly: structural pattern matching in practice",
        "match/case beyond the tutorial",
        "Three real-world uses of match/case, and a note on dataclass slots.",
        (("match/case for parsers", "Cleaner token handling in 30 lines."),
         ("dataclass(slots=True)", "When it saves memory and when it bites."))),
    Newsletter(at(8, "23:55:42"), "Sunday Supper", "sundaysupper.example.com", "recipes",
        "Sunday Supper: one-pan dinners for a busy week",
        "Five dinners, one pan each",
        "Plan the week in five minutes with these one-pan recipes.",
        (("Lemon chicken and potatoes", "40 minutes, one pan."),
         ("Sheet-pan gnocchi", "Crispy, no boiling needed.")), "alternative"),
)  # fmt: skip


def newsletter_delivery(number: int, n: Newsletter, rng: random.Random) -> Delivery:
    """Build newsletter ``number`` (1-based), with List-Unsubscribe and a tracking pixel."""
    message_id = make_message_id(f"news{number:02d}", n.received, f"mailer.{n.domain}")
    token = digest(OWNER, n.domain, length=12)
    unsubscribe = f"https://{n.domain}/unsubscribe?list={n.list_name}&u={token}"
    msg = new_message(
        sender=(n.brand, f"news@{n.domain}"),
        to=[("", OWNER)],
        subject=n.subject,
        sent=sent_before(n.received, UTC, rng),
        message_id=message_id,
        extra=[
            ("List-Id", f'"{n.brand}" <{n.list_name}.{n.domain}>'),
            (
                "List-Unsubscribe",
                f"<{unsubscribe}>, <mailto:unsubscribe@{n.domain}?subject=unsubscribe-{token}>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
            ("Reply-To", f"no-reply@{n.domain}"),
        ],
    )
    items_html = "\n".join(
        f'<tr><td style="padding:8px 0"><a href="https://{n.domain}/r/{number}/{i}?u={token}" '
        f'style="font-size:16px;font-weight:bold">{html.escape(h)}</a><br>\n'
        f"{html.escape(b)}</td></tr>"
        for i, (h, b) in enumerate(n.items, start=1)
    )
    footer = (
        f'<p style="font-size:11px;color:#888888">You are receiving this because you '
        f"subscribed to {html.escape(n.brand)}.<br>\n"
        f'<a href="{html.escape(unsubscribe)}">Unsubscribe</a> | '
        f'<a href="https://{n.domain}/preferences?u={token}">Email preferences</a><br>\n'
        f"{html.escape(n.brand)}, 100 Example Street, Springfield, ST 00000</p>\n"
        f'<img src="https://{n.domain}/open.gif?u={token}&amp;m={number}" width="1" '
        'height="1" alt="">'
    )
    body = (
        f'<table width="600" align="center" cellpadding="0" cellspacing="0">\n'
        f'<tr><td><h1 style="font-size:22px">{html.escape(n.brand)}</h1></td></tr>\n'
        f"<tr><td><p>{html.escape(n.intro)}</p></td></tr>\n{items_html}\n"
        f"<tr><td>{footer}</td></tr>\n</table>"
    )
    page = html_page(n.subject, body, n.preheader)
    if n.fmt == "alternative":
        text_items = "\n\n".join(
            f"{h}\n{b}\nhttps://{n.domain}/r/{number}/{i}?u={token}"
            for i, (h, b) in enumerate(n.items, start=1)
        )
        msg.set_content(
            f"{n.brand}\n\n{wrap(n.intro)}\n\n{text_items}\n\n--\n"
            f"Unsubscribe: {unsubscribe}\n{n.brand}, 100 Example Street, Springfield, "
            "ST 00000\n"
        )
        msg.add_alternative(page, subtype="html")
    else:
        msg.set_content(page, subtype="html")
    return Delivery(
        kind="newsletter",
        message_id=message_id,
        envelope_sender=f"bounce-{n.list_name}-{token}@mailer.{n.domain}",
        received=n.received,
        data=serialize(msg),
        host=f"mailer.{n.domain}",
        note=n.fmt,
    )


# --------------------------------------------------------------------------------------
# Personal mail
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Personal:
    """A personal email; ``sent`` overrides the Date header (e.g. a sender's wrong clock)."""

    received: dt.datetime
    name: str
    email: str
    subject: str
    body: str
    tz: dt.timezone
    sent: dt.datetime | None = None
    cc: tuple[tuple[str, str], ...] = ()
    in_reply_to: str = ""


PERSONAL = (
    Personal(at(2, "20:15:48"), "Carol Lee", "carol.lee@example.net", "Thanksgiving plans",
        "Hi honey,\n\nDad and I were thinking dinner at 3 on Thursday the 26th. Can you bring "
        "the green bean casserole again? Your brother says he'll handle pies, which means "
        "store-bought, but we won't tell him we know.\n\nCall me this week when you get a "
        "minute.\n\nLove,\nMom", CST),
    Personal(at(3, "21:30:12"), "Sam Ortiz", "sam.ortiz@example.org", "Saturday hike?",
        "Hey! Weather looks good for Saturday. Want to do the Cedar Ridge loop?\n\n"
        "From the trailhead it's about 4 miles to the lake, and we could grab tacos after. "
        "I can drive; pick you up at 8?\n\nSam", CST),
    Personal(at(4, "18:02:33"), "Zo\u00eb Fischer", "zoe.fischer@example.com",
        "Re: book club - November pick",
        "Ha, I knew you'd vote for the mystery. Fine, The Lighthouse Ledger it is. We're at "
        "my place on the 19th; I'll make the caf\u00e9 au lait you liked last time.\n\nZo\u00eb"
        "\n\nOn Tue, Nov 3, 2026 at 8:14 PM Morgan Lee <morgan.lee@example.com> wrote:\n"
        "> My vote is the mystery. Something cozy for November.\n> - M", EST,
        in_reply_to="<CAbook-club-morgan-1103@mail.example.com>"),
    Personal(at(6, "19:25:05"), "Alex Chen", "alex.chen@example.net", "Dinner next Thursday?",
        "Are you free next Thursday (the 12th)? Jordan and I want to try the new Thai place "
        "on Elm Street. 7pm? I'll book if you're in.\n\n- Alex", CST,
        cc=(("Jordan Price", "jordan.price@example.org"),)),
    Personal(at(7, "00:01:44"), "Chris Lee", "chris.lee@example.com",
        "Re: fantasy football trade",
        "No way I'm giving up my running back for your kicker. Counteroffer: my backup "
        "tight end and a bag of pretzels. Final offer.\n\nC", PST),
    Personal(at(7, "13:40:19"), "Raj Patel", "raj.patel@example.org", "Your package is at my place",
        "Hi Morgan, the delivery guy left a box for you on my porch this morning (looks like "
        "books). I'm home all afternoon, swing by whenever.\n\nRaj (the blue house)", CST),
    Personal(at(8, "09:10:27"), "Ruth Alvarez", "ruth.alvarez@example.net",
        "Photos from the reunion",
        "Morgan dear, the photos from the family reunion are in the shared album: "
        "https://photos.example.com/a/alvarez-reunion - I finally figured out how to share "
        "them from the new tablet. The one of you and Grandpa by the lake is my "
        "favorite.\n\nAunt Ruth", CST,
        sent=dt.datetime(2019, 5, 14, 10, 22, 5, tzinfo=CST)),
    Personal(at(8, "20:20:51"), "Maya Lee", "maya.lee@example.com", "Wedding RSVP reminder",
        "Hi cousin! Friendly reminder that RSVPs for the wedding are due November 15. "
        "Plus-one is fine, and let me know about any dietary restrictions.\n\nCan't wait to "
        "see you in April!\nMaya", EST),
)  # fmt: skip


def wrap_letter(body: str) -> str:
    """Wrap a letter's paragraphs, leaving the sign-off and quoted (``>``) text as written."""
    *paragraphs, last = body.split("\n\n")
    wrapped = [p if "\n>" in p or p.startswith(">") else wrap(p) for p in paragraphs]
    return "\n\n".join([*wrapped, last]) + "\n"


def personal_delivery(number: int, p: Personal, rng: random.Random) -> Delivery:
    """Build personal email ``number`` (1-based)."""
    domain = p.email.split("@", 1)[1]
    message_id = make_message_id(f"personal{number:02d}", p.received, f"mail.{domain}")
    extra = [("In-Reply-To", p.in_reply_to), ("References", p.in_reply_to)] if p.in_reply_to else []
    msg = new_message(
        sender=(p.name, p.email),
        to=[(OWNER_NAME, OWNER)],
        cc=p.cc,
        subject=p.subject,
        sent=p.sent or sent_before(p.received, p.tz, rng),
        message_id=message_id,
        extra=extra,
    )
    msg.set_content(wrap_letter(p.body))
    return Delivery(
        kind="personal",
        message_id=message_id,
        envelope_sender=p.email,
        received=p.received,
        data=serialize(msg),
        host=f"smtp.{domain}",
        note="date-mismatch" if p.sent else "",
    )


# --------------------------------------------------------------------------------------
# Notifications
# --------------------------------------------------------------------------------------


CALENDAR_SENDER = "calendar-notification@calendar.example.com"


def calendar_delivery(rng: random.Random) -> Delivery:
    """A calendar invitation (text, HTML and text/calendar alternatives plus invite.ics)."""
    received = at(4, "16:30:09")
    message_id = make_message_id("notif01", received, "calendar.example.com")
    organizer = ("Dana Whitfield", "dana.whitfield@lonestarfinancial.example.com")
    subject = (
        "Invitation: Interview - Priya Raman (Senior Java Developer) @ Thu Nov 5, 2026 "
        "2pm - 2:45pm (CST) (morgan.lee@example.com)"
    )
    msg = new_message(
        sender=(f"{organizer[0]} (via Example Calendar)", CALENDAR_SENDER),
        to=[(OWNER_NAME, OWNER), ("Priya Raman", "priya.raman@example.net")],
        subject=subject,
        sent=sent_before(received, UTC, rng),
        message_id=message_id,
        extra=[("Reply-To", formataddr(organizer))],
    )
    details = (
        "Interview - Priya Raman (Senior Java Developer)\n"
        "When: Thursday Nov 5, 2026 2pm - 2:45pm (Central Time - Chicago)\n"
        "Where: https://meet.example.com/jva-intv-0105\n"
        f"Organizer: {organizer[0]} <{organizer[1]}>\n"
        "Guests: Morgan Lee, Priya Raman\n"
    )
    ics = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Example Calendar//Sample 1.0//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:REQUEST",
            "BEGIN:VEVENT",
            "DTSTART:20261105T200000Z",
            "DTEND:20261105T204500Z",
            "DTSTAMP:20261104T162900Z",
            f"ORGANIZER;CN={organizer[0]}:",
            f" mailto:{organizer[1]}",
            "UID:interview-priya-raman-20261105@calendar.example.com",
            "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE",
            " ;CN=Morgan Lee:mailto:morgan.lee@example.com",
            "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE",
            " ;CN=Priya Raman:mailto:priya.raman@example.net",
            "SUMMARY:Interview - Priya Raman (Senior Java Developer)",
            "LOCATION:https://meet.example.com/jva-intv-0105",
            "DESCRIPTION:Technical interview with the payments team.",
            "SEQUENCE:0",
            "STATUS:CONFIRMED",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    msg.set_content(f"You have been invited to the following event.\n\n{details}")
    msg.add_alternative(
        html_page(
            subject,
            "<p>You have been invited to the following event.</p>\n" + html_paragraphs(details),
        ),
        subtype="html",
    )
    msg.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    msg.add_attachment(
        ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics"
    )
    return Delivery(
        kind="notification",
        message_id=message_id,
        envelope_sender=CALENDAR_SENDER,
        received=received,
        data=serialize(msg),
        host="mail.calendar.example.com",
        note="calendar",
    )


def receipt_delivery(rng: random.Random) -> Delivery:
    """An order receipt from a bookshop (text and HTML)."""
    received = at(5, "19:10:40")
    message_id = make_message_id("notif02", received, "cornerbooks.example.com")
    lines = (
        ("The Lighthouse Ledger (paperback)", "$16.99"),
        ("Murder at Maple Court (hardcover)", "$24.00"),
        ("Subtotal", "$40.99"),
        ("Member discount (20%)", "-$8.20"),
        ("Sales tax", "$2.70"),
        ("Total charged to Visa ending 4242", "$35.49"),
    )
    msg = new_message(
        sender=("Corner Books", "orders@cornerbooks.example.com"),
        to=[(OWNER_NAME, OWNER)],
        subject="Your Corner Books receipt (order CB-104257)",
        sent=sent_before(received, UTC, rng),
        message_id=message_id,
    )
    text_rows = "\n".join(f"{name:<40}{amount:>10}" for name, amount in lines)
    msg.set_content(
        f"Thanks for your order, Morgan!\n\nOrder CB-104257, placed Nov 5, 2026\n\n{text_rows}"
        "\n\nYour books will be ready for pickup at 12 Example Avenue tomorrow.\n"
    )
    rows = "\n".join(
        f'<tr><td>{html.escape(name)}</td><td align="right">{html.escape(amount)}</td></tr>'
        for name, amount in lines
    )
    msg.add_alternative(
        html_page(
            "Your receipt",
            "<p>Thanks for your order, Morgan!</p>\n<p>Order <b>CB-104257</b>, placed Nov 5, "
            f'2026</p>\n<table cellpadding="4">\n{rows}\n</table>\n'
            "<p>Your books will be ready for pickup at 12 Example Avenue tomorrow.</p>",
        ),
        subtype="html",
    )
    return Delivery(
        kind="notification",
        message_id=message_id,
        envelope_sender="orders@cornerbooks.example.com",
        received=received,
        data=serialize(msg),
        host="mail.cornerbooks.example.com",
        note="receipt",
    )


# --------------------------------------------------------------------------------------
# Malformed messages (raw bytes: the email package would refuse to write them)
# --------------------------------------------------------------------------------------


def raw(*lines: str | bytes) -> bytes:
    """Join header and body lines with LF; ``str`` lines must be ASCII."""
    return b"\n".join(line if isinstance(line, bytes) else line.encode("ascii") for line in lines)


def b64_lines(data: bytes) -> list[str]:
    """Base64 in 76-column lines, as MIME writes it."""
    encoded = base64.b64encode(data).decode("ascii")
    return [encoded[i : i + 76] for i in range(0, len(encoded), 76)]


def garbage_date_delivery() -> Delivery:
    """A requirement whose Date header cannot be parsed."""
    received = at(2, "12:30:27")
    message_id = make_message_id("bad01", received, "quickhire.example.net")
    data = raw(
        'From: "Ravi Kumar" <ravi.kumar@quickhire.example.net>',
        "To: morgan.lee@example.com",
        "Subject: Requirement: Informatica ETL Developer - Remote (Long Term)",
        "Date: not a date at all",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="us-ascii"',
        "Content-Transfer-Encoding: 7bit",
        "X-Mailer: QuickHire Bulk Mailer 2.1",
        "",
        "Hi Partner,",
        "",
        "Role: Informatica ETL Developer",
        "Location: Remote (CST hours)",
        "Duration: 12+ months",
        "Rate: $62/hr on C2C",
        "Skills: Informatica PowerCenter 10.x, IICS, Oracle PL/SQL, Unix shell",
        "Visa: H1B/GC/USC",
        "",
        "Please send resumes to ravi.kumar@quickhire.example.net or call (630) 555-0177.",
        "",
        "Ravi Kumar | QuickHire Consulting",
        "",
    )
    return Delivery(
        "malformed",
        message_id,
        "ravi.kumar@quickhire.example.net",
        received,
        data,
        "smtp.quickhire.example.net",
        note="garbage Date header",
    )


def missing_boundary_delivery() -> Delivery:
    """An application whose multipart declares a boundary that never appears in the body."""
    received = at(4, "09:55:14")
    message_id = make_message_id("bad02", received, "mail.example.org")
    nina = Candidate(
        received, "Nina Petrov", "nina.petrov@example.org", "(303) 555-0192", "Boulder, CO",
        "Data Engineer", "Data engineer", 5, "with Spark, Kafka and Snowflake",
        ("Python", "Spark", "Kafka", "Snowflake", "Airflow"),
        (("Data Engineer, Flatirons Analytics (2021 - present)",
          ("Built streaming ingestion on Kafka and Spark",)),),
        "B.S., Mathematics, 2020", "nina-petrov-sample", "pdf", MST,
    )  # fmt: skip
    used = "----=_Part_4822_actually_used.1793440514000"
    data = raw(
        "From: Nina Petrov <nina.petrov@example.org>",
        "To: Morgan Lee <morgan.lee@example.com>",
        "Subject: Application for Data Engineer",
        "Date: Wed, 4 Nov 2026 02:54:31 -0700",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="----=_Part_4821_never_used.1793440514000"',
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{used}",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 7bit",
        "",
        "Hi Morgan,",
        "",
        "I'd like to apply for the Data Engineer role. I have 5 years of experience",
        "with Spark, Kafka and Snowflake. My resume is attached.",
        "",
        "Nina Petrov",
        "(303) 555-0192",
        "",
        f"--{used}",
        'Content-Type: application/pdf; name="Nina_Petrov_Resume.pdf"',
        'Content-Disposition: attachment; filename="Nina_Petrov_Resume.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        *b64_lines(resume_pdf(nina)),
        "",
        f"--{used}--",
        "",
    )
    return Delivery(
        "malformed",
        message_id,
        "nina.petrov@example.org",
        received,
        data,
        "smtp.example.org",
        note="multipart boundary never appears",
    )


def unknown_charset_delivery() -> Delivery:
    """A requirement with an unknown-charset encoded-word subject and ``x-bogus`` parts."""
    received = at(5, "06:12:50")
    message_id = make_message_id("bad03", received, "orbis-staffing.example.org")
    subject = base64.b64encode(b"Requirement: Java Developer - Plano, TX (Contract)").decode()
    data = raw(
        "From: Orbis Staffing <jobs@orbis-staffing.example.org>",
        "To: morgan.lee@example.com",
        f"Subject: =?x-unknown?B?{subject}?=",
        "Date: Thu, 05 Nov 2026 11:42:07 +0530",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="orbis-alt-0001"',
        "",
        "--orbis-alt-0001",
        'Content-Type: text/plain; charset="x-bogus"',
        "Content-Transfer-Encoding: 8bit",
        "",
        "Dear Partner,",
        "",
        b"Requirement: Java Developer \x96 Plano, TX (Contract)",
        b"Client: Caf\xe9 Systems (end client)",
        "Duration: 6 months",
        b"Rate: $64/hr C2C \x96 negotiable",
        "Skills: Java 8+, Spring Boot, Hibernate, REST, SQL Server",
        "Visa: H1B/GC/USC",
        "",
        "Regards, Orbis Staffing, (469) 555-0108",
        "",
        "--orbis-alt-0001",
        'Content-Type: text/html; charset="x-bogus"',
        "Content-Transfer-Encoding: 8bit",
        "",
        b"<html><body><p>Dear Partner,</p><p><b>Requirement:</b> Java Developer \x96 Plano, "
        b"TX (Contract)<br>Client: Caf\xe9 Systems<br>Rate: $64/hr C2C</p></body></html>",
        "",
        "--orbis-alt-0001--",
        "",
    )
    return Delivery(
        "malformed",
        message_id,
        "jobs@orbis-staffing.example.org",
        received,
        data,
        "mail.orbis-staffing.example.org",
        note="unknown charsets",
    )


def corrupt_base64_delivery() -> Delivery:
    """An application whose PDF attachment's base64 payload is truncated and damaged."""
    received = at(6, "14:37:03")
    message_id = make_message_id("bad04", received, "mail.example.net")
    lucas = Candidate(
        received, "Lucas Ferreira", "lucas.ferreira@example.net", "(512) 555-0135",
        "Austin, TX", "DevOps Engineer", "DevOps engineer", 6, "with AWS and Kubernetes",
        ("AWS", "Kubernetes", "Terraform"), (), "B.S., Computer Science, 2019",
        "lucas-ferreira-sample", "pdf", CST,
    )  # fmt: skip
    good = b64_lines(resume_pdf(lucas))
    damaged = [*good[:6], "!!corrupted-in-transit!!#@$%^&*", *good[6:9], good[9][:41]]
    data = raw(
        "From: Lucas Ferreira <lucas.ferreira@example.net>",
        "To: Morgan Lee <morgan.lee@example.com>",
        "Subject: Application for DevOps Engineer",
        "Date: Fri, 6 Nov 2026 08:36:12 -0600",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="=_lucas_0001"',
        "",
        "--=_lucas_0001",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Hi Morgan, applying for the DevOps Engineer role in Austin. 6 years of",
        "experience with AWS and Kubernetes. Resume attached.",
        "",
        "Lucas Ferreira, (512) 555-0135",
        "",
        "--=_lucas_0001",
        'Content-Type: application/pdf; name="Lucas_Ferreira_Resume.pdf"',
        'Content-Disposition: attachment; filename="Lucas_Ferreira_Resume.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        *damaged,
        "--=_lucas_0001--",
        "",
    )
    return Delivery(
        "malformed",
        message_id,
        "lucas.ferreira@example.net",
        received,
        data,
        "smtp.example.net",
        note="corrupt base64 attachment",
    )


# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------

# Which table rows are delivered a second time, and when.
DUPLICATE_RECRUITER = 1  # JOBS[0], again 7 minutes later through the hiring@ alias
DUPLICATE_APPLICATION = 3  # CANDIDATES[2], again two days later
DUPLICATE_APPLICATION_AT = at(5, "08:42:31")


def build_deliveries() -> list[Delivery]:
    """Every mbox entry, sorted by receipt time."""
    rng = random.Random(SEED)
    deliveries: list[Delivery] = []
    for number, job in enumerate(JOBS, start=1):
        delivery = recruiter_delivery(number, job, rng)
        deliveries.append(delivery)
        if number == DUPLICATE_RECRUITER:
            deliveries.append(
                redeliver(
                    delivery,
                    delivery.received + dt.timedelta(minutes=7),
                    delivered_to=OWNER_ALIAS,
                    mx="mx2.example.com",
                )
            )
    for number, candidate in enumerate(CANDIDATES, start=1):
        delivery = application_delivery(number, candidate, rng)
        deliveries.append(delivery)
        if number == DUPLICATE_APPLICATION:
            deliveries.append(redeliver(delivery, DUPLICATE_APPLICATION_AT, mx="mx2.example.com"))
    deliveries += [newsletter_delivery(i, n, rng) for i, n in enumerate(NEWSLETTERS, start=1)]
    deliveries += [personal_delivery(i, p, rng) for i, p in enumerate(PERSONAL, start=1)]
    deliveries += [calendar_delivery(rng), receipt_delivery(rng)]
    deliveries += [
        garbage_date_delivery(),
        missing_boundary_delivery(),
        unknown_charset_delivery(),
        corrupt_base64_delivery(),
    ]
    return sorted(deliveries, key=lambda d: (d.received, d.message_id))


def build_mbox(deliveries: Sequence[Delivery] | None = None) -> bytes:
    """The whole mailbox as bytes."""
    return b"".join(d.mbox_entry() for d in (deliveries or build_deliveries()))


def summary(deliveries: Sequence[Delivery]) -> str:
    """A Markdown table of deliveries per UTC receipt day and kind, with totals."""
    counts = Counter((d.received.date().isoformat(), d.kind) for d in deliveries)
    days = sorted({day for day, _ in counts})
    rows = [
        "| day (UTC) | " + " | ".join(KINDS) + " | total |",
        "|---" * (len(KINDS) + 2) + "|",
    ]
    for day in days:
        cells = [counts[day, kind] for kind in KINDS]
        rows.append(f"| {day} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    totals = [sum(counts[day, kind] for day in days) for kind in KINDS]
    rows.append("| total | " + " | ".join(map(str, totals)) + f" | {len(deliveries)} |")
    return "\n".join(rows)


def listing(deliveries: Sequence[Delivery]) -> str:
    """One line per delivery: receipt time, kind, Message-ID and what is special about it."""
    return "\n".join(
        f"{d.received:%Y-%m-%d %H:%M:%S}  {d.kind:<12} {d.message_id}  {d.note}" for d in deliveries
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Write the sample mailbox to ``--out`` (default: the bundled sample.mbox)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the mbox")
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    parser.add_argument("--list", action="store_true", help="also list every delivery")
    args = parser.parse_args(argv)
    deliveries = build_deliveries()
    data = build_mbox(deliveries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    if not args.quiet:
        print(f"wrote {args.out} ({len(data)} bytes)")
        print(summary(deliveries))
        if args.list:
            print(listing(deliveries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
